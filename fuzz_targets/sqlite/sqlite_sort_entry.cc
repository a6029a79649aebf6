// SPDX-License-Identifier: Apache-2.0
// LLVMFuzzerTestOneInput of the SQLite sort target (sort_harness.h) for the
// builds whose feedback needs nothing from the harness:
//  - sqlite_sort_afl / sqlite_sort_afl_forkserver (remcov_add_afl_target):
//    remcov's AFL++ driver enables the input's collector around each call
//    and calls LLVMFuzzerInitialize after its fork server has started, so
//    the harness's threads are created there (Init), with no common handle;
//  - sqlite_sort_fuzz_global (libFuzzer's own counters) and the
//    afl-clang-fast baseline that scripts/afl-bench.sh builds
//    (-DSORT_FUZZ_GLOBAL). AFL++'s libAFLDriver.a calls LLVMFuzzerInitialize
//    before its fork server starts, and fork keeps only the forking thread,
//    so there Init runs at the first input.
#include <stddef.h>
#include <stdint.h>

#include "sort_collation.h"
#include "sort_harness.h"

namespace {
bool g_started = false;
uint64_t g_runs = 0;
}  // namespace

#ifndef SORT_FUZZ_GLOBAL
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remcov_sqlite_fuzz::Init();
  g_started = true;
  return 0;
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_started) {
    remcov_sqlite_fuzz::Init();
    g_started = true;
  }
  const unsigned long before = sort_fuzz_bug_hits();
  remcov_sqlite_fuzz::RunInput(data, size);
  remcov_sqlite_fuzz::ReportPlantedBug(before, ++g_runs);
  return 0;
}
