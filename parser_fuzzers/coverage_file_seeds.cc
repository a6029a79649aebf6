// SPDX-License-Identifier: Apache-2.0
// Writes the seed corpus of coverage_file_fuzzer into DIR at build time: one
// small valid file per shape (PC and CMP mode, 4- and 8-byte words, flags,
// empty), produced by the writer itself so the seeds follow the format.
// Usage: coverage_file_seeds DIR
#include <stdio.h>

#include <string>

#include "remcov/coverage_file.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: coverage_file_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  remcov::CoverageData empty;
  remcov::CoverageData pcs;
  pcs.pcs = {0x401000, 0x401010, 0x401000};
  pcs.raw_count = 3;
  remcov::CoverageData unique32 = pcs;
  unique32.word_bytes = 4;
  unique32.flags = remcov::kCoverageUnique | remcov::kCoverageRemote;
  unique32.pcs = {0x8000, 0x8004};
  remcov::CoverageData cmps;
  cmps.mode = remcov::TraceMode::kCmp;
  cmps.flags = remcov::kCoverageOverflow | remcov::kCoverageInProcess;
  cmps.cmps = {{5, 0x564F4352, 0x44434241, 0x401020}, {7, 8, 9, 0x401030}};
  cmps.raw_count = 3;
  cmps.dropped = 1;
  const std::pair<const char*, const remcov::CoverageData*> seeds[] = {
      {"empty", &empty},
      {"pcs", &pcs},
      {"unique32", &unique32},
      {"cmps", &cmps}};
  for (const auto& [name, data] : seeds) {
    remcov::Status s = remcov::WriteCoverageFile(dir + "/" + name, *data);
    if (!s.ok()) {
      fprintf(stderr, "coverage_file_seeds: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
