// SPDX-License-Identifier: Apache-2.0
// Coverage stability of the example service, measured as AFL++ does: run each
// input several times and count the edges whose hit/not-hit state differed
// between runs of the same input (AFL's "variable" bytes). Stability is
// (edges seen - variable edges) / edges seen over all inputs.
//
// Two measurements of the same service code:
//  - remcov: each input is submitted by a thread that owns a collector with a
//    unique common handle; an edge is a PC recorded in that collector;
//  - global counters: clang's inline-8bit-counters, zeroed before and read
//    after each input; an edge is a counter index that is nonzero. The
//    counters are process-wide, so whatever the housekeeping thread runs
//    while an input is handled leaks into the input's coverage.
// Each run waits until the housekeeping thread has completed two rounds after
// the input was submitted, in both measurements.
#ifndef REMCOV_TOOLS_STABILITY_STABILITY_H_
#define REMCOV_TOOLS_STABILITY_STABILITY_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "server.h"

namespace remcov_stability {

struct InputCoverage {
  int status = 0;                // the status of the first run
  bool statuses_agree = true;    // every run returned the same status
  std::vector<uint64_t> edges;   // union over runs, sorted
  std::vector<uint64_t> stable;  // hit in every run, sorted
};

struct Result {
  size_t inputs = 0;
  unsigned runs = 0;
  size_t edges = 0;     // distinct edges seen over all inputs and runs
  size_t variable = 0;  // distinct edges that varied for some input
  uint64_t lost = 0;    // entries remcov could not record (overflow)
  std::string error;    // non-empty if a collector could not be set up
  std::vector<InputCoverage> per_input;
  double percent() const {
    return edges == 0 ? 0.0
                      : 100.0 * static_cast<double>(edges - variable) /
                            static_cast<double>(edges);
  }
};

// Requests covering every route and each planted bug.
std::vector<std::string> DefaultInputs();

// server must drive svc_trace_api().
Result MeasureRemcov(remcov_service::Server& server,
                     const std::vector<std::string>& inputs, unsigned runs);

// Whether this build has the inline-8bit-counters flavour (clang only).
bool CountersAvailable();

// server must drive svc_counters_api(). REQUIRES: CountersAvailable().
Result MeasureCounters(remcov_service::Server& server,
                       const std::vector<std::string>& inputs, unsigned runs);

}  // namespace remcov_stability

#endif  // REMCOV_TOOLS_STABILITY_STABILITY_H_
