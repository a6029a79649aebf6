// SPDX-License-Identifier: Apache-2.0
// Synthetic coverage files for `remcov merge` at fleet scale (issue 16,
// item 5; bench/merge_bench.sh times the merge, docs/performance.md has the
// figures). Writes N files of M PCs each into DIR, one file at a time (only
// one file is ever in memory), named cov-000000.cov ...
//
// Every file is a run of one synthetic PIE, /synthetic/prog (build-id
// fixed), loaded at its own address (so the merge translates every PC
// through the file's bias), whose PCs are drawn from S sites (default 2*M)
// by a deterministic generator seeded with the file's number; about a
// third of the PCs repeat within a file. Usage:
//   merge_gen DIR N M [S]
// Prints "files N pcs_per_file M sites S" on stdout.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "remcov/coverage_file.h"

namespace {

uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Arg(const char* s, const char* what) {
  char* end = nullptr;
  const unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end != '\0' || v == 0) {
    fprintf(stderr, "merge_gen: bad %s '%s'\n", what, s);
    exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: merge_gen DIR N M [S]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t files = Arg(argv[2], "N"), pcs = Arg(argv[3], "M");
  const uint64_t sites = argc == 5 ? Arg(argv[4], "S") : 2 * pcs;
  const uint64_t kTextBytes = sites * 16;  // sites 16 bytes apart
  for (uint64_t f = 0; f < files; f++) {
    remcov::CoverageData d;
    d.flags = remcov::kCoverageInProcess;
    remcov::CoverageModule m;
    m.path = "/synthetic/prog";
    m.build_id = "5e1ec7ed00112233445566778899aabbccddeeff";
    m.bias = 0x555555554000ull + (f % 4096) * 0x100000ull;
    m.start = m.bias + 0x1000;
    m.end = m.start + kTextBytes;
    d.modules.push_back(m);
    d.pcs.reserve(pcs);
    uint64_t seed = f * 0x1234567ull + 1;
    for (uint64_t i = 0; i < pcs; i++) {
      const uint64_t r = SplitMix(&seed);
      // A third repeat the previous PC (loops); the rest are sites.
      if (i != 0 && r % 3 == 0) {
        d.pcs.push_back(d.pcs.back());
      } else {
        d.pcs.push_back(m.start + (r >> 8) % sites * 16);
      }
    }
    d.raw_count = pcs;
    char name[32];
    snprintf(name, sizeof name, "/cov-%06llu.cov",
             static_cast<unsigned long long>(f));
    remcov::Status s = remcov::WriteCoverageFile(dir + name, d);
    if (!s.ok()) {
      fprintf(stderr, "merge_gen: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  printf("files %llu pcs_per_file %llu sites %llu\n",
         static_cast<unsigned long long>(files),
         static_cast<unsigned long long>(pcs),
         static_cast<unsigned long long>(sites));
  return 0;
}
