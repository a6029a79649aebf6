// SPDX-License-Identifier: Apache-2.0
// remcov::LibFuzzerAdaptor on the example service, without libFuzzer: this
// binary defines libFuzzer's compare hooks itself (recording every call), and
// links the service's trace-pc,trace-cmp objects renamed to __remcov_cov_*,
// exactly as a fuzz target does. Bounded by runs, not time.
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/libfuzzer.h"
#include "remcov/remcov.h"

#include "server.h"
#include "service_api.h"

namespace {

struct HookCall {
  unsigned size;
  bool is_const;
  uint64_t arg1, arg2;
  bool operator==(const HookCall&) const = default;
};

std::mutex g_calls_mu;
std::vector<HookCall> g_calls;

void Record(unsigned size, bool is_const, uint64_t a, uint64_t b) {
  std::lock_guard<std::mutex> lock(g_calls_mu);
  g_calls.push_back({size, is_const, a, b});
}

std::vector<HookCall> TakeCalls() {
  std::lock_guard<std::mutex> lock(g_calls_mu);
  return std::exchange(g_calls, {});
}

}  // namespace

// libFuzzer's hooks, as the adaptor calls them (libFuzzer itself is not
// linked into this test).
extern "C" {
void __sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b) {
  Record(1, false, a, b);
}
void __sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b) {
  Record(2, false, a, b);
}
void __sanitizer_cov_trace_cmp4(uint32_t a, uint32_t b) {
  Record(4, false, a, b);
}
void __sanitizer_cov_trace_cmp8(uint64_t a, uint64_t b) {
  Record(8, false, a, b);
}
void __sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b) {
  Record(1, true, a, b);
}
void __sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b) {
  Record(2, true, a, b);
}
void __sanitizer_cov_trace_const_cmp4(uint32_t a, uint32_t b) {
  Record(4, true, a, b);
}
void __sanitizer_cov_trace_const_cmp8(uint64_t a, uint64_t b) {
  Record(8, true, a, b);
}
// libFuzzer 14 scans [__start, __stop) of this section.
extern uint8_t __start___libfuzzer_extra_counters[]
    __attribute__((weak, visibility("hidden")));
extern uint8_t __stop___libfuzzer_extra_counters[]
    __attribute__((weak, visibility("hidden")));
}

namespace {

using remcov::LibFuzzerAdaptor;
using remcov_service::Server;

constexpr unsigned kRuns = 5;

// The adaptor's two-run feedback (LibFuzzerOptions::single_run = false): a PC
// trace folded by SlotOf, and comparisons from a second run.
remcov::LibFuzzerOptions TwoRuns() {
  remcov::LibFuzzerOptions options;
  options.single_run = false;
  return options;
}

std::string FunctionOf(uint64_t pc) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0 ||
      info.dli_sname == nullptr)
    return "?";
  return info.dli_sname;
}

bool Contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

std::string FrameRequest(const char magic[4], uint8_t declared) {
  std::string r = "POST /frame ";
  r.append(magic, 4).push_back(static_cast<char>(declared));
  r.push_back('\0');
  return r + "abc";
}

std::vector<std::string> Inputs() {
  return {"GET /health",           "POST /echo hello",
          "POST /sum 1,2,3",       FrameRequest("ABCD", 3),
          FrameRequest("RCOV", 3), "GET /files/readme",
          "PUT /health",           "garbage"};
}

// Created once, before any adaptor: its threads must not inherit a handle.
Server& TheServer() {
  static Server* s = new Server(*svc_trace_api(), 2);
  return *s;
}

// Runs `input` and waits for two housekeeping rounds that began after the
// submission, while the adaptor's collector is enabled: background coverage
// overlaps every run (the positive control of tests/stability).
std::function<void()> Submit(const std::string& input) {
  return [input] {
    Server& s = TheServer();
    uint64_t start = s.ticks();
    (void)s.Handle(input);
    s.WaitTicks(start + 2);
  };
}

std::vector<uint8_t> Snapshot() {
  auto c = LibFuzzerAdaptor::Counters();
  return {c.begin(), c.end()};
}

TEST(LibFuzzerAdaptorTest, CountersAreInLibFuzzersSection) {
  auto c = LibFuzzerAdaptor::Counters();
  ASSERT_NE(__start___libfuzzer_extra_counters, nullptr);
  EXPECT_EQ(c.data(), __start___libfuzzer_extra_counters);
  EXPECT_EQ(c.data() + c.size(), __stop___libfuzzer_extra_counters);
  EXPECT_EQ(c.size(), remcov::kLibFuzzerCounterSlots);
}

TEST(LibFuzzerAdaptorTest, CountersHoldOnlyTheInputsPcs) {
  TheServer();
  auto a = LibFuzzerAdaptor::Create(TwoRuns());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  size_t routed = 0;
  for (const std::string& input : Inputs()) {
    SCOPED_TRACE(input);
    std::vector<uint8_t> first;
    for (unsigned run = 0; run < kRuns; run++) {
      ASSERT_TRUE((*a)->RunOne(Submit(input)).ok());
      auto pcs = (*a)->last_pcs();
      ASSERT_FALSE(pcs.empty());
      // What the counters should hold: one count per recorded PC execution.
      std::map<size_t, unsigned> want;
      for (uint64_t pc : pcs) {
        EXPECT_FALSE(Contains(FunctionOf(pc), "Housekeeping"))
            << FunctionOf(pc);
        routed += Contains(FunctionOf(pc), "svc_trace") &&
                  Contains(FunctionOf(pc), "Route");
        want[LibFuzzerAdaptor::SlotOf(pc)]++;
      }
      std::vector<uint8_t> got = Snapshot();
      size_t nonzero = 0;
      for (size_t slot = 0; slot < got.size(); slot++) {
        if (got[slot] == 0) continue;
        nonzero++;
        auto it = want.find(slot);
        ASSERT_NE(it, want.end()) << "slot " << slot << " set by no input PC";
        EXPECT_EQ(got[slot], std::min(it->second, 255u));
      }
      EXPECT_EQ(nonzero, want.size());
      // The same input gives the same counters every time.
      if (run == 0) first = got;
      EXPECT_TRUE(got == first) << "run " << run << " differs";
    }
  }
  EXPECT_GT(routed, 0u) << "dladdr does not name the service's PCs";
  EXPECT_EQ((*a)->stats().runs, Inputs().size() * kRuns);
  EXPECT_EQ((*a)->stats().overflow_runs, 0u);
  EXPECT_GT(TheServer().ticks(), 2u * kRuns) << "housekeeping did not run";
}

TEST(LibFuzzerAdaptorTest, ComparisonHintsReachLibFuzzersHooks) {
  TheServer();
  auto a = LibFuzzerAdaptor::Create(TwoRuns());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  TakeCalls();
  // The frame magic: a 4-byte compare of the body's first word against
  // 'RCOV', constant first.
  ASSERT_TRUE((*a)->RunOne(Submit(FrameRequest("ABCD", 3))).ok());
  std::vector<HookCall> calls = TakeCalls();
  EXPECT_NE(
      std::find(calls.begin(), calls.end(),
                HookCall{4, true, remcov_service::kFrameMagic, 0x44434241u}),
      calls.end());
  // Every record is replayed once, in order, through the hook of its size.
  auto cmps = (*a)->last_cmps();
  ASSERT_EQ(calls.size(), cmps.size());
  EXPECT_EQ((*a)->stats().last_cmps, cmps.size());
  for (size_t i = 0; i < cmps.size(); i++) {
    EXPECT_EQ(calls[i].size, cmps[i].size());
    EXPECT_EQ(calls[i].is_const, cmps[i].is_const());
    EXPECT_EQ(calls[i].arg1, cmps[i].arg1);
    EXPECT_EQ(calls[i].arg2, cmps[i].arg2);
    EXPECT_FALSE(Contains(FunctionOf(cmps[i].ip), "Housekeeping"));
  }
  // The /sum magic: an 8-byte compare of the sum (6) against kSumMagic.
  ASSERT_TRUE((*a)->RunOne(Submit("POST /sum 1,2,3")).ok());
  calls = TakeCalls();
  EXPECT_NE(std::find(calls.begin(), calls.end(),
                      HookCall{8, true, remcov_service::kSumMagic, 6}),
            calls.end());
}

TEST(LibFuzzerAdaptorTest, WithoutHintsNothingIsReplayed) {
  TheServer();
  remcov::LibFuzzerOptions options = TwoRuns();
  options.cmp_hints = false;
  auto a = LibFuzzerAdaptor::Create(options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  TakeCalls();
  ASSERT_TRUE((*a)->RunOne(Submit(FrameRequest("ABCD", 3))).ok());
  EXPECT_TRUE(TakeCalls().empty());
  EXPECT_TRUE((*a)->last_cmps().empty());
  EXPECT_FALSE((*a)->last_pcs().empty());
  std::vector<uint8_t> got = Snapshot();
  EXPECT_NE(std::count(got.begin(), got.end(), 0), std::ssize(got));
}

// Coverage that does not fit the collectors is counted, including what the
// workers' remote sections lose when they move into a full collector (word 0
// never counts past the capacity there: only the device's counters know).
TEST(LibFuzzerAdaptorTest, CoverageThatDoesNotFitIsCountedAsOverflow) {
  TheServer();
  remcov::LibFuzzerOptions options = TwoRuns();
  options.pc_words = 2;   // one page: 511 PCs
  options.cmp_words = 2;  // one page: 127 comparison records
  auto a = LibFuzzerAdaptor::Create(options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const auto one = Submit(FrameRequest("ABCD", 3));
  ASSERT_TRUE((*a)->RunOne(one).ok());
  const size_t per_request = (*a)->last_pcs().size();
  ASSERT_GT(per_request, 0u);
  EXPECT_EQ((*a)->stats().overflow_runs, 0u) << "one request fits";
  // Enough requests in one input to overflow both collectors: the workers'
  // sections are the ones that do not fit.
  const size_t n = 2 * 511 / per_request + 2;
  ASSERT_TRUE((*a)->RunOne([&] {
                    for (size_t i = 0; i < n; i++) one();
                  })
                  .ok());
  // Both runs of the input (PCs, then comparisons) overflowed.
  EXPECT_EQ((*a)->stats().overflow_runs, 2u);
  EXPECT_LE((*a)->last_pcs().size(), 511u);
}

TEST(LibFuzzerAdaptorTest, ValueProfileCountsHowCloseCompareOperandsAre) {
  TheServer();
  remcov::LibFuzzerOptions options = TwoRuns();
  options.value_profile = true;
  auto a = LibFuzzerAdaptor::Create(options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Each record marks its two slots (presence: at least 1); nothing else
  // but the PCs, which count, sets a slot.
  auto counted = [&] {
    std::map<size_t, unsigned> want;
    for (uint64_t pc : (*a)->last_pcs()) want[LibFuzzerAdaptor::SlotOf(pc)]++;
    for (const remcov::CmpRecord& r : (*a)->last_cmps()) {
      for (size_t slot : {LibFuzzerAdaptor::HammingSlotOf(r),
                          LibFuzzerAdaptor::DistanceSlotOf(r)})
        if (want[slot] == 0) want[slot] = 1;
    }
    return want;
  };
  auto frame_magic_slot = [&] {
    for (const remcov::CmpRecord& r : (*a)->last_cmps())
      if (r.size() == 4 && r.arg1 == remcov_service::kFrameMagic)
        return LibFuzzerAdaptor::HammingSlotOf(r);
    return static_cast<size_t>(-1);
  };
  ASSERT_TRUE((*a)->RunOne(Submit(FrameRequest("ABCD", 3))).ok());
  std::vector<uint8_t> got = Snapshot();
  for (const auto& [slot, n] : counted())
    EXPECT_EQ(got[slot], std::min(n, 255u)) << "slot " << slot;
  EXPECT_EQ(static_cast<size_t>(std::count_if(
                got.begin(), got.end(), [](uint8_t c) { return c != 0; })),
            counted().size());
  const size_t far = frame_magic_slot();
  ASSERT_NE(far, static_cast<size_t>(-1)) << "no record of the magic compare";
  // One byte closer to 'RCOV' ('A' -> 'R'): a different Hamming slot, so
  // libFuzzer sees new coverage although no new PC ran.
  ASSERT_TRUE((*a)->RunOne(Submit(FrameRequest("RBCD", 3))).ok());
  const size_t nearer = frame_magic_slot();
  EXPECT_NE(nearer, far);
  EXPECT_NE(LibFuzzerAdaptor::Counters()[nearer], 0);
}

TEST(LibFuzzerAdaptorTest, PlantedBugCoverageReachesTheCounters) {
  TheServer();
  auto a = LibFuzzerAdaptor::Create(TwoRuns());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE((*a)->RunOne(Submit("GET /files/../x")).ok());
  size_t bug_pcs = 0;
  for (uint64_t pc : (*a)->last_pcs()) {
    if (!Contains(FunctionOf(pc), "PlantedBugTraversal")) continue;
    bug_pcs++;
    EXPECT_NE(LibFuzzerAdaptor::Counters()[LibFuzzerAdaptor::SlotOf(pc)], 0);
  }
  EXPECT_GT(bug_pcs, 0u);
  EXPECT_GE(svc_trace_api()->bug_hits(remcov_service::kBugTraversal), 2u)
      << "one hit per run: the PC run and the CMP run";
}

}  // namespace

namespace {

// ---- single_run: one run per input (counters mode) ----

// What the two-run adaptor sees of each input, on a thread of its own (one
// thread owns one collector): the counts per counters-mode slot
// (remcov_counter_slot) of the PCs it records, and its comparison records.
struct TwoRunView {
  std::vector<std::map<size_t, unsigned>> counts;
  std::vector<std::vector<remcov::CmpRecord>> cmps;
};

TwoRunView ViewWithTwoRuns() {
  TwoRunView v;
  std::thread([&v] {
    auto a = LibFuzzerAdaptor::Create(TwoRuns());
    if (!a.ok()) return;
    for (const std::string& input : Inputs()) {
      if (!(*a)->RunOne(Submit(input)).ok()) return;
      std::map<size_t, unsigned> counts;
      for (uint64_t pc : (*a)->last_pcs())
        counts[remcov_counter_slot(pc, 16)]++;
      v.counts.push_back(counts);
      auto cmps = (*a)->last_cmps();
      v.cmps.emplace_back(cmps.begin(), cmps.end());
    }
  }).join();
  return v;
}

// One run gives libFuzzer exactly what the two runs gave: the counters of the
// input's PCs (slot for slot; housekeeping on the server's other thread never
// counts) and the same comparison records, replayed.
TEST(LibFuzzerAdaptorTest, SingleRunFeedsWhatTwoRunsFed) {
  TheServer();
  const TwoRunView want = ViewWithTwoRuns();
  ASSERT_EQ(want.counts.size(), Inputs().size());
  remcov::LibFuzzerOptions options;
  options.single_run = true;
  auto a = LibFuzzerAdaptor::Create(options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const std::vector<std::string> inputs = Inputs();
  for (size_t k = 0; k < inputs.size(); k++) {
    SCOPED_TRACE(inputs[k]);
    for (unsigned run = 0; run < 2; run++) {
      TakeCalls();
      ASSERT_TRUE((*a)->RunOne(Submit(inputs[k])).ok());
      const std::vector<uint8_t> got = Snapshot();
      size_t nonzero = 0;
      for (size_t slot = 0; slot < got.size(); slot++) {
        auto it = want.counts[k].find(slot);
        const unsigned w = it == want.counts[k].end() ? 0 : it->second;
        ASSERT_EQ(got[slot], std::min(w, 255u)) << "slot " << slot;
        nonzero += got[slot] != 0;
      }
      EXPECT_GT(nonzero, 0u);  // "garbage" sets 5
      EXPECT_EQ((*a)->stats().last_pcs, nonzero);
      EXPECT_TRUE((*a)->last_pcs().empty());
      auto cmps = (*a)->last_cmps();
      EXPECT_EQ(std::vector<remcov::CmpRecord>(cmps.begin(), cmps.end()),
                want.cmps[k]);
      EXPECT_EQ(TakeCalls().size(), cmps.size());
    }
  }
  EXPECT_EQ((*a)->stats().overflow_runs, 0u);
}

// A comparison trace too small for an input: counted, and the records that
// fit are still fed.
TEST(LibFuzzerAdaptorTest, SingleRunCountsComparisonOverflow) {
  TheServer();
  remcov::LibFuzzerOptions options;
  options.single_run = true;
  options.cmp_words = 5;  // room for one record
  auto a = LibFuzzerAdaptor::Create(options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE((*a)->RunOne(Submit(FrameRequest("ABCD", 3))).ok());
  EXPECT_EQ((*a)->stats().overflow_runs, 1u);
  EXPECT_LE((*a)->last_cmps().size(), 1u);
}

// libFuzzer's -fork/-jobs workers are processes with an adaptor each; in one
// domain (src/runtime/domain.h) handles must be unique among all of them, as
// the kernel's are system-wide. Two processes' first adaptors get different
// handles and both register (with per-process handles the second would get
// EEXIST).
TEST(LibFuzzerAdaptorTest, AdaptorsOfTwoProcessesInOneDomainDoNotCollide) {
  const std::string domain =
      "/tmp/remcov_libfuzzer_domain." + std::to_string(getpid());
  unlink(domain.c_str());
  ASSERT_EQ(remcov_domain_join(domain.c_str()), REMCOV_OK) << strerror(errno);
  int handle_pipe[2], done_pipe[2];
  ASSERT_EQ(pipe(handle_pipe), 0);
  ASSERT_EQ(pipe(done_pipe), 0);
  // Forked before this process makes any thread (the adaptor makes one).
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto a = LibFuzzerAdaptor::Create(TwoRuns());
    uint64_t h = a.ok() ? (*a)->pc_handle() : 0;
    (void)!write(handle_pipe[1], &h, sizeof h);
    char c;
    (void)!read(done_pipe[0], &c, 1);  // registered until the parent is done
    _exit(a.ok() ? 0 : 1);
  }
  uint64_t child_handle = 0;
  ASSERT_EQ(read(handle_pipe[0], &child_handle, sizeof child_handle),
            static_cast<ssize_t>(sizeof child_handle));
  ASSERT_NE(child_handle, 0u);
  {
    auto a = LibFuzzerAdaptor::Create(TwoRuns());
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    if (a.ok()) EXPECT_NE((*a)->pc_handle(), child_handle);
  }
  (void)!write(done_pipe[1], "x", 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  unlink(domain.c_str());
}

}  // namespace
