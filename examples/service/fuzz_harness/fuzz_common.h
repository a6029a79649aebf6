// SPDX-License-Identifier: Apache-2.0
// What both fuzz targets of the example service share: the server, created
// once, and the rule that turns a planted-bug hit into a libFuzzer crash.
// A planted bug only counts a hit (service_api.h); the harness compares the
// counts before and after each input and traps on an increase, so "found"
// means the same thing (a libFuzzer crash) for every kind of feedback.
#ifndef REMCOV_EXAMPLES_SERVICE_FUZZ_FUZZ_COMMON_H_
#define REMCOV_EXAMPLES_SERVICE_FUZZ_FUZZ_COMMON_H_

#include <stdint.h>
#include <stdlib.h>

#include "planted_bug.h"
#include "server.h"
#include "service_api.h"

namespace remcov_service_fuzz {

// Pool workers; the housekeeping thread runs besides them.
inline constexpr unsigned kWorkers = 2;

// Hit counts of every planted bug, indexed by id.
struct BugHits {
  uint64_t n[remcov_service::kNumBugs] = {};
};

inline BugHits ReadBugHits(const remcov_service::ServiceApi& api) {
  BugHits h;
  for (int id = 1; id < remcov_service::kNumBugs; id++)
    h.n[id] = api.bug_hits(id);
  return h;
}

// The bug the harness stops at: every planted bug (0), or only the one named
// by the environment variable REMCOV_FUZZ_BUG (1..3), so that runs-to-bug
// can be measured per bug (scripts/runs-to-bug.sh -g).
inline int WantedBug() {
  static const int wanted = [] {
    const char* v = getenv("REMCOV_FUZZ_BUG");
    return v == nullptr ? 0 : atoi(v);
  }();
  return wanted;
}

// Reports a (wanted) planted bug the input just run hit, as planted_bug.h
// says (a line, then a trap). `run` is the 1-based number of inputs run so
// far (libFuzzer's own count, which includes the seeds).
inline void ReportPlantedBugs(const remcov_service::ServiceApi& api,
                              const BugHits& before, uint64_t run) {
  const BugHits after = ReadBugHits(api);
  for (int id = 1; id < remcov_service::kNumBugs; id++) {
    if (after.n[id] == before.n[id]) continue;
    if (WantedBug() != 0 && WantedBug() != id) continue;
    remcov_fuzz::ReportPlantedBugHit(id, run);
  }
}

}  // namespace remcov_service_fuzz

#endif  // REMCOV_EXAMPLES_SERVICE_FUZZ_FUZZ_COMMON_H_
