// SPDX-License-Identifier: Apache-2.0
// AFL++ harness for the example service (docs/afl.md): each input is one
// request, submitted to the service's worker pool; a planted-bug hit traps
// (fuzz_common.h), which afl-fuzz records as a crash.
//
// Built twice:
//  - remcov_service_afl / remcov_service_afl_forkserver
//    (remcov_add_afl_target): remcov's driver calls LLVMFuzzerInitialize
//    after the fork server has started and before the collector is enabled,
//    so the server's threads are created there, with no common handle;
//  - remcov_service_afl_global (the baseline, scripts/afl-bench.sh):
//    service_core.cc compiled by afl-clang-fast++, linked with AFL++'s
//    libAFLDriver.a (-DREMCOV_SERVICE_AFL_GLOBAL). That driver calls
//    LLVMFuzzerInitialize before its fork server starts, and fork keeps only
//    the forking thread, so there the server is created at the first input.
#include <stddef.h>
#include <stdint.h>

#include <string_view>

#include "fuzz_common.h"
#include "server.h"
#include "service_api.h"

#ifdef REMCOV_SERVICE_AFL_GLOBAL
extern "C" const remcov_service::ServiceApi* svc_aflcc_api(void);
#define REMCOV_SERVICE_AFL_API svc_aflcc_api
#else
#define REMCOV_SERVICE_AFL_API svc_trace_api
#endif

namespace {

// Leaked on purpose: the driver leaves with _exit while the workers run.
remcov_service::Server* g_server = nullptr;
uint64_t g_runs = 0;

void StartServer() {
  g_server = new remcov_service::Server(*REMCOV_SERVICE_AFL_API(),
                                        remcov_service_fuzz::kWorkers);
}

}  // namespace

#ifndef REMCOV_SERVICE_AFL_GLOBAL
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  StartServer();
  return 0;
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_server == nullptr) StartServer();
  const remcov_service::ServiceApi& api = g_server->api();
  const remcov_service_fuzz::BugHits before =
      remcov_service_fuzz::ReadBugHits(api);
  (void)g_server->Handle(
      std::string_view(reinterpret_cast<const char*>(data), size));
  remcov_service_fuzz::ReportPlantedBugs(api, before, ++g_runs);
  return 0;
}
