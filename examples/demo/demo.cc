// SPDX-License-Identifier: Apache-2.0
// remcov's demo: concurrent requests to an instrumented service whose handlers
// run on a shared worker pool while a housekeeping thread produces unrelated
// coverage. Each request's client thread owns its own collector (a common
// handle, as KCOV Remote gives a syscall's background work); the pool runs each
// task in a remote section with the submitter's handle, so every request sees
// exactly the coverage of its own work, across threads.
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "remcov/collector.h"
#include "remcov/remcov.h"
#include "remcov/thread_pool.h"

#include "service.h"

namespace {

std::string FunctionOf(uint64_t pc) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0 ||
      info.dli_sname == nullptr)
    return "?";
  return info.dli_sname;
}

struct Result {
  std::string request;
  int status = 0;
  size_t pcs = 0, unique = 0;
  std::map<std::string, size_t> functions;
  uint64_t overflow = 0;
  std::string error;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 1;
  const std::vector<std::string> requests = {"GET alpha",
                                             "PUT beta 42",
                                             "DEL gamma",
                                             "PATCH x",
                                             "PUT big " + std::string(40, 'v'),
                                             "GET zeta"};
  remcov::ThreadPool pool(3);
  std::atomic<bool> stop{false};
  std::thread housekeeping([&] {  // instrumented background noise, no handle
    for (unsigned tick = 0; !stop.load(); tick++) {
      svc_housekeeping(tick);
      usleep(100);
    }
  });
  std::mutex mu;
  std::vector<Result> results(requests.size() * rounds);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < results.size(); i++) {
    clients.emplace_back([&, i] {
      Result& r = results[i];
      r.request = requests[i % requests.size()];
      auto col = remcov::Collector::Open(remcov::RuntimeBackend(), 1 << 14);
      if (!col.ok()) {
        r.error = col.status().ToString();
        return;
      }
      remcov::RemoteOptions opt;
      // Per-collector common handle: unique per client (kcov.rst: use the pid
      // or another id unique among concurrent collectors).
      opt.common_handle =
          remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x1000 + i);
      if (auto s = col->EnableRemote(opt); !s.ok()) {
        r.error = s.ToString();
        return;
      }
      int status = 0;
      const std::string line = r.request;
      pool.Submit([&status, line] {
            status = svc_handle(line.data(), line.size());
          })
          .wait();
      r.status = status;
      std::set<uint64_t> unique;
      for (uint64_t pc : col->Pcs()) {
        unique.insert(pc);
        r.functions[FunctionOf(pc)]++;
      }
      r.pcs = col->Pcs().size();
      r.unique = unique.size();
      remcov_device_stats_t st{};
      remcov_device_stats(col->fd(), &st);
      r.overflow = st.overflow_entries + st.private_overflow_entries;
      (void)col->Disable();
      std::lock_guard<std::mutex> lock(mu);
    });
  }
  for (auto& t : clients) t.join();
  stop = true;
  housekeeping.join();

  printf(
      "remcov demo: %zu concurrent requests, 3 pool workers, 1 housekeeping "
      "thread\n\n",
      results.size());
  int failures = 0;
  for (const Result& r : results) {
    if (!r.error.empty()) {
      printf("%-20s ERROR %s\n", r.request.substr(0, 20).c_str(),
             r.error.c_str());
      failures++;
      continue;
    }
    printf("request %-16s -> %d   %3zu PCs (%zu unique)%s\n",
           r.request.substr(0, 16).c_str(), r.status, r.pcs, r.unique,
           r.overflow ? "  [overflow counted]" : "");
    for (const auto& [fn, n] : r.functions)
      printf("    %-20s %3zu\n", fn.c_str(), n);
    // Attribution check: never the housekeeping thread's code.
    if (r.functions.count("svc_housekeeping")) {
      printf("    !! housekeeping coverage leaked into this request\n");
      failures++;
    }
    if (r.pcs == 0) failures++;
  }
  remcov_runtime_stats_t rs{};
  remcov_runtime_stats(&rs);
  printf(
      "\nruntime: %llu sections dropped by DISABLE, %llu refused, %llu invalid "
      "handles\n",
      static_cast<unsigned long long>(rs.sequence_dropped_sections),
      static_cast<unsigned long long>(rs.refused_sections),
      static_cast<unsigned long long>(rs.invalid_handles));
  printf(failures
             ? "demo: FAILED\n"
             : "demo: every request saw only its own worker-thread coverage\n");
  return failures ? 1 : 0;
}
