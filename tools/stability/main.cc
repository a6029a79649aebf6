// SPDX-License-Identifier: Apache-2.0
// remcov-stability: coverage stability of the example service (docs/fuzzing.md)
// with remcov's per-input collectors and with global inline-8bit counters.
//   remcov-stability [--runs N] [--workers W]
// Exit status: 0, 1 if no collector could be set up, 2 on a usage error
// (an unknown option, a missing value, or a value that is not a number in
// its range: --runs 2 to 1000000, --workers 1 to 256).
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/number.h"
#include "stability.h"

namespace {

constexpr int kExitUsage = 2;
constexpr uint64_t kMaxRuns = 1000000;
constexpr uint64_t kMaxWorkers = 256;

int Usage(const char* argv0) {
  fprintf(stderr, "usage: %s [--runs N] [--workers W]\n", argv0);
  return kExitUsage;
}

// The value of option `name` in [min, max] (C notation: base/number.h), or
// false after saying what is wrong.
bool NumberOption(const char* name, const char* text, uint64_t min,
                  uint64_t max, unsigned* out) {
  uint64_t v = 0;
  if (!remcov::internal::ParseNumber(text, min, max, &v)) {
    fprintf(stderr,
            "remcov-stability: %s '%s': not a number from %llu to %llu\n", name,
            text, static_cast<unsigned long long>(min),
            static_cast<unsigned long long>(max));
    return false;
  }
  *out = static_cast<unsigned>(v);
  return true;
}

void PrintRow(const char* name, const remcov_stability::Result& r) {
  printf("%-22s %6zu %5u %7zu %9zu %10.2f%%\n", name, r.inputs, r.runs, r.edges,
         r.variable, r.percent());
}

}  // namespace

int main(int argc, char** argv) {
  unsigned runs = 20, workers = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      if (!NumberOption("--runs", argv[++i], 2, kMaxRuns, &runs))
        return Usage(argv[0]);
    } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      if (!NumberOption("--workers", argv[++i], 1, kMaxWorkers, &workers))
        return Usage(argv[0]);
    } else {
      return Usage(argv[0]);
    }
  }
  const std::vector<std::string> inputs = remcov_stability::DefaultInputs();

  printf(
      "service: %u pool workers + 1 housekeeping thread; each run waits for "
      "2 housekeeping rounds\n\n",
      workers);
  printf("%-22s %6s %5s %7s %9s %11s\n", "coverage", "inputs", "runs", "edges",
         "variable", "stability");
  remcov_stability::Result trace;
  {
    remcov_service::Server server(*svc_trace_api(), workers);
    trace = remcov_stability::MeasureRemcov(server, inputs, runs);
  }
  if (!trace.error.empty()) {
    fprintf(stderr, "remcov-stability: %s\n", trace.error.c_str());
    return 1;
  }
  PrintRow("remcov (per-input)", trace);
#if defined(REMCOV_SERVICE_HAVE_COUNTERS)
  if (remcov_stability::CountersAvailable()) {
    remcov_service::Server server(*svc_counters_api(), workers);
    PrintRow("global 8-bit counters",
             remcov_stability::MeasureCounters(server, inputs, runs));
  } else {
    printf("%-22s (no counters registered)\n", "global 8-bit counters");
  }
#else
  printf("%-22s (not built: needs clang's inline-8bit-counters)\n",
         "global 8-bit counters");
#endif
  if (trace.lost)
    printf("\nremcov: %llu entries lost to overflow\n",
           static_cast<unsigned long long>(trace.lost));
  return 0;
}
