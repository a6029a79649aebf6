// SPDX-License-Identifier: Apache-2.0
// How every fuzz harness of the project (the example service's and the
// third-party targets') reports a planted bug, in one place.
//
// The line "remcov-fuzz: planted bug BUG_ID hit at run RUN" is what
// tests/libfuzzer/run_fuzzer.sh, tests/afl/run_afl.sh, scripts/runs-to-bug.sh
// and bench/fuzz_campaign.sh read. After printing it the harness traps, so
// that the fuzzer records a crash. With REMCOV_FUZZ_BUG_CONTINUE=1 in the
// environment it prints the line for the first hit only and does not trap,
// so that a libFuzzer run lasts its whole time budget (AFL++ needs the crash
// and does not stop at one).
#ifndef REMCOV_FUZZ_TARGETS_COMMON_PLANTED_BUG_H_
#define REMCOV_FUZZ_TARGETS_COMMON_PLANTED_BUG_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace remcov_fuzz {

inline void ReportPlantedBugHit(int bug_id, uint64_t run) {
  static const bool keep_going = [] {
    const char* v = getenv("REMCOV_FUZZ_BUG_CONTINUE");
    return v != nullptr && strcmp(v, "1") == 0;
  }();
  static bool reported = false;
  if (keep_going && reported) return;
  fprintf(stderr, "remcov-fuzz: planted bug %d hit at run %llu\n", bug_id,
          static_cast<unsigned long long>(run));
  fflush(stderr);
  reported = true;
  if (!keep_going) __builtin_trap();
}

}  // namespace remcov_fuzz

#endif  // REMCOV_FUZZ_TARGETS_COMMON_PLANTED_BUG_H_
