// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry point of a third-party target (thirdparty_harness.h,
// FuzzTarget()) with remcov feedback: each input's work on the input thread
// and the worker threads it starts (remote sections) are attributed to
// remcov::LibFuzzerAdaptor's collector, and the harness's background thread
// is not. Built by remcov_add_libfuzzer_target: the code base's
// trace-pc,trace-cmp objects call remcov's callbacks under their
// __remcov_cov_* names; this file is not instrumented.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remcov/libfuzzer.h"

#include "thirdparty_harness.h"

namespace {

remcov::LibFuzzerAdaptor* GetAdaptor() {
  // Leaked on purpose: libFuzzer may exit from any point (crash, -runs).
  static remcov::LibFuzzerAdaptor* adaptor = [] {
    const remcov_thirdparty_fuzz::Target& target =
        remcov_thirdparty_fuzz::FuzzTarget();
    // The harness's threads first: they must not inherit the adaptor's
    // handle.
    target.init();
    // REMCOV_FUZZ_CMP_HINTS=0 turns the comparison hints off, as for the
    // example service (docs/fuzzing.md).
    remcov::LibFuzzerOptions options;
    const char* hints = getenv("REMCOV_FUZZ_CMP_HINTS");
    options.cmp_hints = hints == nullptr || strcmp(hints, "0") != 0;
    // REMCOV_FUZZ_SINGLE_RUN=0: the two-run feedback instead of one run per
    // input in counters mode (LibFuzzerOptions::single_run; docs/fuzzing.md).
    const char* single = getenv("REMCOV_FUZZ_SINGLE_RUN");
    options.single_run = single == nullptr || strcmp(single, "0") != 0;
    options.pc_words = target.pc_words;
    options.cmp_words = target.cmp_words;
    auto a = remcov::LibFuzzerAdaptor::Create(options);
    if (!a.ok()) {
      fprintf(stderr, "remcov-fuzz: %s\n", a.status().ToString().c_str());
      abort();
    }
    return std::move(a).value().release();
  }();
  return adaptor;
}

uint64_t g_runs = 0;

// One run of the input through the adaptor; a failed run aborts (its
// feedback would be wrong), whether libFuzzer or the stability meter asked.
void RunOrDie(remcov::LibFuzzerAdaptor* adaptor,
              const remcov_thirdparty_fuzz::Target& target, const uint8_t* data,
              size_t size) {
  remcov::Status s =
      adaptor->RunOne([&target, data, size] { target.run_input(data, size); });
  if (!s.ok()) {
    fprintf(stderr, "remcov-fuzz: %s\n", s.ToString().c_str());
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remcov::LibFuzzerAdaptor* adaptor = GetAdaptor();
  const remcov_thirdparty_fuzz::Target& target =
      remcov_thirdparty_fuzz::FuzzTarget();
  const unsigned long before = target.bug_hits();
  RunOrDie(adaptor, target, data, size);
  remcov_thirdparty_fuzz::ReportPlantedBug(
      target.bug_id, target.bug_hits() != before, ++g_runs);
  // REMCOV_FUZZ_STABILITY_RUNS: the same input again, from the adaptor's
  // counters (RunOne clears and fills them).
  remcov_thirdparty_fuzz::MeasureStability(
      remcov::LibFuzzerAdaptor::Counters(), [adaptor, &target, data, size] {
        RunOrDie(adaptor, target, data, size);
      });
  return 0;
}
