// SPDX-License-Identifier: Apache-2.0
#include "stability.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "remcov/collector.h"
#include "remcov/remcov.h"

namespace {

// The inline-8bit-counters ranges, one per instrumented module.
std::mutex g_ranges_mu;
std::vector<std::pair<char*, char*>> g_ranges;

}  // namespace

// Called by each module built with -fsanitize-coverage=inline-8bit-counters
// from its constructor.
extern "C" void __sanitizer_cov_8bit_counters_init(char* start, char* end) {
  std::lock_guard<std::mutex> lock(g_ranges_mu);
  if (start != end) g_ranges.emplace_back(start, end);
}

namespace remcov_stability {

namespace {

using remcov_service::Server;

// The counters are written by every instrumented thread without
// synchronization: that race is what the baseline measures, so the tool's side
// of it is kept out of ThreadSanitizer's view (volatile byte accesses, which
// are not turned into an intercepted memset).
__attribute__((no_sanitize("thread"))) void ZeroCounters(
    const std::vector<std::pair<char*, char*>>& ranges) {
  for (auto [b, e] : ranges)
    for (volatile char* c = b; c < e; c++) *c = 0;
}

// Appends the global indices of the nonzero counters to *hit, sorted.
__attribute__((no_sanitize("thread"))) void ReadCounters(
    const std::vector<std::pair<char*, char*>>& ranges,
    std::vector<uint64_t>* hit) {
  uint64_t base = 0;
  for (auto [b, e] : ranges) {
    for (volatile char* c = b; c < e; c++)
      if (*c != 0) hit->push_back(base + static_cast<uint64_t>(c - b));
    base += static_cast<uint64_t>(e - b);
  }
}

// Folds one input's per-run edge sets (each sorted, unique) into *out.
void Summarize(const std::vector<std::vector<uint64_t>>& runs,
               InputCoverage* out) {
  std::set<uint64_t> all;
  for (const auto& r : runs) all.insert(r.begin(), r.end());
  out->edges.assign(all.begin(), all.end());
  out->stable = runs.empty() ? std::vector<uint64_t>() : runs[0];
  for (size_t i = 1; i < runs.size(); i++) {
    std::vector<uint64_t> both;
    std::set_intersection(out->stable.begin(), out->stable.end(),
                          runs[i].begin(), runs[i].end(),
                          std::back_inserter(both));
    out->stable.swap(both);
  }
}

void Aggregate(Result* r) {
  std::set<uint64_t> seen, variable;
  for (const InputCoverage& in : r->per_input) {
    seen.insert(in.edges.begin(), in.edges.end());
    std::set_difference(in.edges.begin(), in.edges.end(), in.stable.begin(),
                        in.stable.end(),
                        std::inserter(variable, variable.end()));
  }
  r->edges = seen.size();
  r->variable = variable.size();
}

// Runs `input` on a worker and waits for two housekeeping rounds that began
// after the submission, so background work overlaps every run.
int RunOnce(Server& server, const std::string& input) {
  uint64_t start = server.ticks();
  int status = server.Handle(input);
  server.WaitTicks(start + 2);
  return status;
}

}  // namespace

std::vector<std::string> DefaultInputs() {
  using namespace remcov_service;
  std::string frame_ok = "POST /frame ";
  std::string frame_bug = frame_ok;
  const char magic[4] = {'R', 'C', 'O', 'V'};
  frame_ok.append(magic, 4).append("\x03\x00", 2).append("abc");
  frame_bug.append(magic, 4).append("\xff\x00", 2).append("abc");
  return {
      "GET /health",
      "POST /echo hello",
      "POST /sum 1,2,3",
      "POST /sum 1234605616436508000,552",  // == kSumMagic: bug 2
      "POST /frame XXXXyyabc",
      frame_ok,
      frame_bug,  // bug 1
      "GET /files/readme",
      "GET /files/../etc/passwd",  // bug 3
      "PUT /health",
      "GET /nowhere",
      "garbage",
  };
}

namespace {

// A result for `runs` runs of each of `inputs`, nothing measured yet.
Result EmptyResult(const std::vector<std::string>& inputs, unsigned runs) {
  Result r;
  r.inputs = inputs.size();
  r.runs = runs;
  r.per_input.resize(inputs.size());
  return r;
}

}  // namespace

Result MeasureRemcov(Server& server, const std::vector<std::string>& inputs,
                     unsigned runs) {
  Result r = EmptyResult(inputs, runs);
  for (size_t i = 0; i < inputs.size(); i++) {
    // One client thread and collector per input, with a handle no other
    // collector uses (kcov.rst: unique among concurrent collectors).
    std::thread client([&, i] {
      InputCoverage& out = r.per_input[i];
      auto col = remcov::Collector::Open(remcov::RuntimeBackend(), 1 << 16);
      if (!col.ok()) {
        r.error = col.status().ToString();
        return;
      }
      remcov::RemoteOptions opt;
      opt.common_handle = remcov_kcov_remote_handle(
          REMCOV_KCOV_SUBSYSTEM_COMMON, 0x5000 + static_cast<uint64_t>(i));
      if (auto s = col->EnableRemote(opt); !s.ok()) {
        r.error = s.ToString();
        return;
      }
      std::vector<std::vector<uint64_t>> per_run;
      for (unsigned run = 0; run < runs; run++) {
        if (auto s = col->Reset(); !s.ok()) {  // a remote trace: never refused
          r.error = s.ToString();
          return;
        }
        int status = RunOnce(server, inputs[i]);
        if (run == 0) out.status = status;
        if (status != out.status) out.statuses_agree = false;
        std::vector<uint64_t> pcs(col->Pcs().begin(), col->Pcs().end());
        std::sort(pcs.begin(), pcs.end());
        pcs.erase(std::unique(pcs.begin(), pcs.end()), pcs.end());
        per_run.push_back(std::move(pcs));
      }
      remcov_device_stats_t st{};
      remcov_device_stats(col->fd(), &st);
      r.lost += st.overflow_entries + st.private_overflow_entries;
      (void)col->Disable();
      Summarize(per_run, &out);
    });
    client.join();
  }
  Aggregate(&r);
  return r;
}

bool CountersAvailable() {
#if defined(REMCOV_SERVICE_HAVE_COUNTERS)
  std::lock_guard<std::mutex> lock(g_ranges_mu);
  return !g_ranges.empty();
#else
  return false;
#endif
}

Result MeasureCounters(Server& server, const std::vector<std::string>& inputs,
                       unsigned runs) {
  Result r = EmptyResult(inputs, runs);
  std::vector<std::pair<char*, char*>> ranges;
  {
    std::lock_guard<std::mutex> lock(g_ranges_mu);
    ranges = g_ranges;
  }
  for (size_t i = 0; i < inputs.size(); i++) {
    InputCoverage& out = r.per_input[i];
    std::vector<std::vector<uint64_t>> per_run;
    for (unsigned run = 0; run < runs; run++) {
      ZeroCounters(ranges);
      int status = RunOnce(server, inputs[i]);
      if (run == 0) out.status = status;
      if (status != out.status) out.statuses_agree = false;
      std::vector<uint64_t> hit;
      ReadCounters(ranges, &hit);
      per_run.push_back(std::move(hit));
    }
    Summarize(per_run, &out);
  }
  Aggregate(&r);
  return r;
}

}  // namespace remcov_stability
