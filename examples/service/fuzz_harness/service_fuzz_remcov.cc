// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the example service with remcov feedback: each input
// is submitted to the service's worker pool and its attributed coverage (and
// nothing the housekeeping thread does) becomes libFuzzer's feedback through
// remcov::LibFuzzerAdaptor. Built by remcov_add_libfuzzer_target: the
// service's trace-pc,trace-cmp objects call remcov's callbacks under their
// __remcov_cov_* names, and this file is not instrumented.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string_view>

#include "remcov/libfuzzer.h"

#include "fuzz_common.h"

namespace {

struct Fixture {
  remcov_service::Server* server;
  remcov::LibFuzzerAdaptor* adaptor;
  uint64_t runs = 0;
};

Fixture& GetFixture() {
  // Leaked on purpose: libFuzzer may exit from any point (crash, -runs) and
  // the worker threads must outlive every input.
  static Fixture* f = [] {
    // The server first: its threads must not inherit the adaptor's handle.
    auto* server = new remcov_service::Server(*svc_trace_api(),
                                              remcov_service_fuzz::kWorkers);
    // REMCOV_FUZZ_CMP_HINTS=0 turns the comparison hints off (to measure
    // what they contribute; docs/fuzzing.md).
    remcov::LibFuzzerOptions options;
    const char* hints = getenv("REMCOV_FUZZ_CMP_HINTS");
    options.cmp_hints = hints == nullptr || strcmp(hints, "0") != 0;
    // REMCOV_FUZZ_SINGLE_RUN=0: the two-run feedback instead of one run per
    // input in counters mode (LibFuzzerOptions::single_run; docs/fuzzing.md).
    const char* single = getenv("REMCOV_FUZZ_SINGLE_RUN");
    options.single_run = single == nullptr || strcmp(single, "0") != 0;
    // REMCOV_FUZZ_VALUE_PROFILE=1: the adaptor's counterpart of libFuzzer's
    // -use_value_profile=1 (runs_to_bug.sh -v gives each target its own).
    const char* vp = getenv("REMCOV_FUZZ_VALUE_PROFILE");
    options.value_profile = vp != nullptr && strcmp(vp, "1") == 0;
    auto adaptor = remcov::LibFuzzerAdaptor::Create(options);
    if (!adaptor.ok()) {
      fprintf(stderr, "remcov-fuzz: %s\n", adaptor.status().ToString().c_str());
      abort();
    }
    return new Fixture{server, std::move(adaptor).value().release()};
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = GetFixture();
  const remcov_service::ServiceApi& api = f.server->api();
  const remcov_service_fuzz::BugHits before =
      remcov_service_fuzz::ReadBugHits(api);
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  remcov::Status s =
      f.adaptor->RunOne([&f, request] { (void)f.server->Handle(request); });
  if (!s.ok()) {
    fprintf(stderr, "remcov-fuzz: %s\n", s.ToString().c_str());
    abort();
  }
  remcov_service_fuzz::ReportPlantedBugs(api, before, ++f.runs);
  return 0;
}
