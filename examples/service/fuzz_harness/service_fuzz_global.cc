// SPDX-License-Identifier: Apache-2.0
// The baseline libFuzzer target for the example service: the same service
// code compiled with -fsanitize=fuzzer-no-link (libFuzzer's inline 8-bit
// counters and compare hooks, process-wide: the housekeeping thread's
// coverage and compares are mixed into every input's), the same server glue
// and the same harness, without remcov's feedback.
#include <stddef.h>
#include <stdint.h>

#include <string_view>

#include "fuzz_common.h"

extern "C" const remcov_service::ServiceApi* svc_libfuzzer_api(void);

namespace {

struct Fixture {
  remcov_service::Server* server;
  uint64_t runs = 0;
};

Fixture& GetFixture() {
  static Fixture* f = new Fixture{new remcov_service::Server(
      *svc_libfuzzer_api(), remcov_service_fuzz::kWorkers)};
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = GetFixture();
  const remcov_service::ServiceApi& api = f.server->api();
  const remcov_service_fuzz::BugHits before =
      remcov_service_fuzz::ReadBugHits(api);
  (void)f.server->Handle(
      std::string_view(reinterpret_cast<const char*>(data), size));
  remcov_service_fuzz::ReportPlantedBugs(api, before, ++f.runs);
  return 0;
}
