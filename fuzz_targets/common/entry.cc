// SPDX-License-Identifier: Apache-2.0
// LLVMFuzzerTestOneInput of a third-party target (thirdparty_harness.h,
// FuzzTarget()) for the builds whose feedback needs nothing from the
// harness:
//  - NAME_afl / NAME_afl_forkserver (remcov_add_afl_target): remcov's AFL++
//    driver enables the input's collector around each call and calls
//    LLVMFuzzerInitialize after its fork server has started, so the
//    harness's threads are created there (Target::init), with no common
//    handle;
//  - NAME_fuzz_global (libFuzzer's own counters) and the afl-clang-fast
//    baseline that bench/fuzz_campaign.sh builds (-DREMCOV_FUZZ_GLOBAL).
//    AFL++'s libAFLDriver.a calls LLVMFuzzerInitialize before its fork
//    server starts, and fork keeps only the forking thread, so there
//    Target::init runs at the first input.
#include <stddef.h>
#include <stdint.h>

#include "thirdparty_harness.h"

#ifdef REMCOV_FUZZ_GLOBAL
#include <string.h>

// clang's inline 8-bit counters of the instrumented code (the section
// -fsanitize=fuzzer-no-link fills), for REMCOV_FUZZ_STABILITY_RUNS; absent
// in the afl-clang-fast baseline, whose map is AFL++'s.
extern "C" uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern "C" uint8_t __stop___sancov_cntrs[] __attribute__((weak));
#endif

namespace {
bool g_started = false;
uint64_t g_runs = 0;

void Start() {
  if (g_started) return;
  remcov_thirdparty_fuzz::FuzzTarget().init();
  g_started = true;
}
}  // namespace

#ifndef REMCOV_FUZZ_GLOBAL
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Start();
  return 0;
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Start();
  const remcov_thirdparty_fuzz::Target& target =
      remcov_thirdparty_fuzz::FuzzTarget();
  const unsigned long before = target.bug_hits();
  target.run_input(data, size);
  remcov_thirdparty_fuzz::ReportPlantedBug(
      target.bug_id, target.bug_hits() != before, ++g_runs);
#ifdef REMCOV_FUZZ_GLOBAL
  // REMCOV_FUZZ_STABILITY_RUNS: the same input again, each time from zeroed
  // counters, as libFuzzer clears them before an input.
  if (__start___sancov_cntrs != nullptr) {
    const std::span<uint8_t> counters(
        __start___sancov_cntrs,
        static_cast<size_t>(__stop___sancov_cntrs - __start___sancov_cntrs));
    remcov_thirdparty_fuzz::MeasureStability(counters, [&] {
      memset(counters.data(), 0, counters.size());
      target.run_input(data, size);
    });
  }
#endif
  return 0;
}
