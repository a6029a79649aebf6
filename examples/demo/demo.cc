// SPDX-License-Identifier: Apache-2.0
// remcov's demo: concurrent requests to the example service
// (examples/service), whose handlers run on a 3-thread worker pool while a
// housekeeping thread runs instrumented code of its own. Each request's
// client thread owns a collector with its own common handle (as KCOV Remote
// gives a system call's background work); the pool runs each task in a
// remote section with the submitter's handle. Every request therefore sees
// exactly the coverage of its own work, which ran on other threads, and none
// of the housekeeping thread's.
//
//   remcov_demo [--rounds N] [--cov-dir DIR]
//
// --cov-dir writes each request's coverage as a remcov coverage file
// (docs/format.md), for `remcov report` and `remcov diff` (scripts/demo.sh).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "remcov/collector.h"
#include "remcov/coverage_file.h"
#include "remcov/remcov.h"

#include "demo_support.h"
#include "server.h"

namespace {

using remcov_demo::DemoRequest;
using remcov_service::Server;

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

struct Result : remcov_demo::RequestCoverage {
  std::string error;
  int status = 0;
};

void RunRequest(Server& server, const DemoRequest& req, uint32_t instance,
                Result* r) {
  auto col = remcov::Collector::Open(remcov::RuntimeBackend(), 1 << 14);
  if (!col.ok()) {
    r->error = col.status().ToString();
    return;
  }
  remcov::RemoteOptions opt;
  // A common handle unique among concurrent collectors (kcov.rst suggests
  // the pid; several collectors in one process need one each).
  opt.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, instance);
  if (auto s = col->EnableRemote(opt); !s.ok()) {
    r->error = s.ToString();
    return;
  }
  r->status = server.Handle(req.line);  // runs on a pool worker
  static_cast<remcov_demo::RequestCoverage&>(*r) =
      remcov_demo::TakeCoverage(*col);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 1;
  std::string cov_dir;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--cov-dir") == 0 && i + 1 < argc) {
      cov_dir = argv[++i];
    } else {
      fprintf(stderr, "usage: remcov_demo [--rounds N] [--cov-dir DIR]\n");
      return 2;
    }
  }
  if (rounds < 1) rounds = 1;
  const std::vector<DemoRequest> requests = remcov_demo::DemoRequests();
  const unsigned kWorkers = 3;
  Server server(*svc_trace_api(), kWorkers);  // before any handle exists

  const size_t n = requests.size() * static_cast<size_t>(rounds);
  std::vector<Result> results(n);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < n; i++)
    clients.emplace_back([&, i] {
      RunRequest(server, requests[i % requests.size()],
                 0x1000 + static_cast<uint32_t>(i), &results[i]);
    });
  for (auto& t : clients) t.join();
  const uint64_t ticks = server.ticks();

  printf(
      "remcov demo: %zu concurrent requests, each with its own collector; "
      "handlers run on %u pool workers\nwhile a housekeeping thread ran %llu "
      "rounds of instrumented code.\n\n",
      n, kWorkers, static_cast<unsigned long long>(ticks));
  int failures = 0;
  // The load map every coverage file carries (for remcov report): read once.
  std::vector<remcov::CoverageModule> load_map;
  if (!cov_dir.empty()) load_map = remcov::CurrentLoadMap();
  for (size_t i = 0; i < n; i++) {
    const DemoRequest& req = requests[i % requests.size()];
    const Result& r = results[i];
    std::string shown = Printable(req.line);
    if (shown.size() > 34) shown = shown.substr(0, 31) + "...";
    if (!r.error.empty()) {
      printf("%-36s ERROR %s\n", shown.c_str(), r.error.c_str());
      failures++;
      continue;
    }
    std::set<uint64_t> unique(r.pcs.begin(), r.pcs.end());
    const char* note =
        r.status >= remcov_service::kBugBase ? "  <- planted bug" : "";
    printf("%-36s -> %d  %3zu PCs, %3zu unique%s%s\n", shown.c_str(), r.status,
           r.pcs.size(), unique.size(), r.dropped ? "  [overflow counted]" : "",
           note);
    failures += remcov_demo::PrintAndCheckFunctions(req, r.functions);
    if (r.pcs.empty()) failures++;
    if (!cov_dir.empty() && i < requests.size() &&
        !remcov_demo::WriteRequestCoverage(cov_dir + "/" + req.label + ".cov",
                                           r.pcs, r.dropped, load_map))
      failures++;
  }
  if (!cov_dir.empty()) {  // every request of the first round in one file
    std::vector<uint64_t> all;
    uint64_t dropped = 0;
    for (size_t i = 0; i < requests.size() && i < n; i++) {
      all.insert(all.end(), results[i].pcs.begin(), results[i].pcs.end());
      dropped += results[i].dropped;
    }
    if (!remcov_demo::WriteRequestCoverage(cov_dir + "/all.cov", all, dropped,
                                           load_map))
      failures++;
  }
  remcov_runtime_stats_t rs{};
  remcov_runtime_stats(&rs);
  printf(
      "\nruntime: %llu sections dropped by DISABLE, %llu refused, %llu invalid "
      "handles\n",
      static_cast<unsigned long long>(rs.sequence_dropped_sections),
      static_cast<unsigned long long>(rs.refused_sections),
      static_cast<unsigned long long>(rs.invalid_handles));
  if (!cov_dir.empty())
    printf("coverage files: %s/<request>.cov, all requests in %s/all.cov\n",
           cov_dir.c_str(), cov_dir.c_str());
  printf(failures
             ? "demo: FAILED\n"
             : "demo: every request saw only its own worker-thread coverage\n");
  return failures ? 1 : 0;
}
