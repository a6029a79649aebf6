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
//   merge_gen [--lcov] DIR N M [S]
// Prints "files N pcs_per_file M sites S" on stdout.
//
// --lcov also writes each run as the lcov tracefile `remcov report --format
// lcov` would give if the program had debug info (cov-000000.info ...), for
// `lcov -a` as the anchor (bench/merge_bench.py --lcov). The synthetic
// program's source: site k (module address start + 16 k) is line
// k % 1000 + 1 of /synthetic/src/fKKKK.c, KKKK = k / 1000; one function per
// file, fKKKK, at line 1. Every site is an instrumented line (DA with 0 hits
// when not recorded), hits are the PC's count in the run, as in the report.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

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

constexpr uint64_t kLinesPerFile = 1000;

// The run's lcov tracefile (see the top of the file): every site a line,
// its hits the PC's count.
bool WriteLcov(const std::string& path, const remcov::CoverageData& d,
               uint64_t sites) {
  std::vector<uint64_t> hits(sites, 0);
  const uint64_t start = d.modules[0].start;
  for (uint64_t pc : d.pcs) hits[(pc - start) / 16]++;
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  for (uint64_t first = 0; first < sites; first += kLinesPerFile) {
    const uint64_t file = first / kLinesPerFile;
    const uint64_t n =
        sites - first < kLinesPerFile ? sites - first : kLinesPerFile;
    uint64_t covered = 0, fn_hits = 0;
    for (uint64_t k = first; k < first + n; k++) {
      covered += hits[k] != 0;
      if (hits[k] > fn_hits) fn_hits = hits[k];
    }
    fprintf(f,
            "TN:\nSF:/synthetic/src/f%04llu.c\nFN:1,f%04llu\n"
            "FNDA:%llu,f%04llu\nFNF:1\nFNH:%d\n",
            static_cast<unsigned long long>(file),
            static_cast<unsigned long long>(file),
            static_cast<unsigned long long>(fn_hits),
            static_cast<unsigned long long>(file), fn_hits != 0 ? 1 : 0);
    for (uint64_t k = first; k < first + n; k++) {
      fprintf(f, "DA:%llu,%llu\n",
              static_cast<unsigned long long>(k - first + 1),
              static_cast<unsigned long long>(hits[k]));
    }
    fprintf(f, "LF:%llu\nLH:%llu\nend_of_record\n",
            static_cast<unsigned long long>(n),
            static_cast<unsigned long long>(covered));
  }
  return fclose(f) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool lcov = false;
  if (argc > 1 && std::string(argv[1]) == "--lcov") {
    lcov = true;
    argc--;
    argv++;
  }
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: merge_gen [--lcov] DIR N M [S]\n");
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
    if (lcov) {
      std::string info = dir + name;
      info.replace(info.size() - 4, 4, ".info");
      if (!WriteLcov(info, d, sites)) {
        fprintf(stderr, "merge_gen: cannot write %s\n", info.c_str());
        return 1;
      }
    }
  }
  printf("files %llu pcs_per_file %llu sites %llu\n",
         static_cast<unsigned long long>(files),
         static_cast<unsigned long long>(pcs),
         static_cast<unsigned long long>(sites));
  return 0;
}
