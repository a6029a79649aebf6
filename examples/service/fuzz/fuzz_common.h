// SPDX-License-Identifier: Apache-2.0
// What both fuzz targets of the example service share: the server, created
// once, and the rule that turns a planted-bug hit into a libFuzzer crash.
// A planted bug only counts a hit (service_api.h); the harness compares the
// counts before and after each input and traps on an increase, so "found"
// means the same thing (a libFuzzer crash) for every kind of feedback.
#ifndef REMCOV_EXAMPLES_SERVICE_FUZZ_FUZZ_COMMON_H_
#define REMCOV_EXAMPLES_SERVICE_FUZZ_FUZZ_COMMON_H_

#include <stdint.h>
#include <stdio.h>

#include "server.h"
#include "service_api.h"

namespace remcov_service_fuzz {

// Pool workers; the housekeeping thread runs besides them.
inline constexpr unsigned kWorkers = 2;

inline uint64_t TotalBugHits(const remcov_service::ServiceApi& api) {
  uint64_t n = 0;
  for (int id = 1; id < remcov_service::kNumBugs; id++) n += api.bug_hits(id);
  return n;
}

// Traps if the input just run hit a planted bug. `run` is the 1-based number
// of inputs run so far (libFuzzer's own count, which includes the seeds);
// tools/fuzz/runs_to_bug.sh reads the line printed here.
inline void ReportPlantedBugs(const remcov_service::ServiceApi& api,
                              uint64_t hits_before, uint64_t run) {
  if (TotalBugHits(api) == hits_before) return;
  for (int id = 1; id < remcov_service::kNumBugs; id++)
    if (api.bug_hits(id) != 0)
      fprintf(stderr, "remcov-fuzz: planted bug %d hit at run %llu\n", id,
              static_cast<unsigned long long>(run));
  fflush(stderr);
  __builtin_trap();
}

}  // namespace remcov_service_fuzz

#endif  // REMCOV_EXAMPLES_SERVICE_FUZZ_FUZZ_COMMON_H_
