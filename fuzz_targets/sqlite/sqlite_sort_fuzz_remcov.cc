// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the SQLite sort target (sort_harness.h) with remcov
// feedback: each input's statement and the sorter workers it starts (remote
// sections, sort_harness.h) are attributed to remcov::LibFuzzerAdaptor's
// collector, and the background connection's queries are not. Built by
// remcov_add_libfuzzer_target: SQLite's and the collation's trace-pc,trace-cmp
// objects call remcov's callbacks under their __remcov_cov_* names; this file
// is not instrumented.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remcov/libfuzzer.h"

#include "sort_collation.h"
#include "sort_harness.h"

namespace {

constexpr size_t kPcWords = size_t{1} << 20;
constexpr size_t kCmpWords = size_t{1} << 21;

remcov::LibFuzzerAdaptor* GetAdaptor() {
  // Leaked on purpose: libFuzzer may exit from any point (crash, -runs).
  static remcov::LibFuzzerAdaptor* adaptor = [] {
    // The harness's threads first: they must not inherit the adaptor's
    // handle.
    remcov_sqlite_fuzz::Init();
    // REMCOV_FUZZ_CMP_HINTS=0 turns the comparison hints off, as for the
    // example service (docs/fuzzing.md).
    remcov::LibFuzzerOptions options;
    const char* hints = getenv("REMCOV_FUZZ_CMP_HINTS");
    options.cmp_hints = hints == nullptr || strcmp(hints, "0") != 0;
    // REMCOV_FUZZ_SINGLE_RUN=0: the two-run feedback instead of one run per
    // input in counters mode (LibFuzzerOptions::single_run; docs/fuzzing.md).
    const char* single = getenv("REMCOV_FUZZ_SINGLE_RUN");
    options.single_run = single == nullptr || strcmp(single, "0") != 0;
    // Headroom: an input records about 60,000 PCs (trace-pc records every
    // block it runs) and more comparisons, at 4 words each.
    options.pc_words = kPcWords;
    options.cmp_words = kCmpWords;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remcov::LibFuzzerAdaptor* adaptor = GetAdaptor();
  const unsigned long before = sort_fuzz_bug_hits();
  remcov::Status s = adaptor->RunOne(
      [data, size] { remcov_sqlite_fuzz::RunInput(data, size); });
  if (!s.ok()) {
    fprintf(stderr, "remcov-fuzz: %s\n", s.ToString().c_str());
    abort();
  }
  remcov_sqlite_fuzz::ReportPlantedBug(before, ++g_runs);
  return 0;
}
