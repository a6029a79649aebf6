// SPDX-License-Identifier: Apache-2.0
// remcov's counters mode (include/remcov/kcov_abi.h,
// REMCOV_KCOV_TRACE_COUNTERS; docs/kcov.md, "Counters mode"): its errors, the
// slots and saturating counts of a local trace, comparisons recorded in the
// same run (switches as a fuzzer wants them), remote sections on several
// threads adding into one map exactly, and a section that straddles
// KCOV_DISABLE dropped and counted.
#include <errno.h>
#include <stdint.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

constexpr unsigned kBits = 16;
constexpr size_t kMapWords = size_t{1} << (kBits - 3);

int IoctlErr(int fd, unsigned long cmd, unsigned long arg) {
  errno = 0;
  return remcov_ioctl(fd, cmd, arg) == 0 ? 0 : errno;
}

// The work every test counts: branches, a loop, comparisons.
// fixture_counting_* call __remcov_cov_trace_pc_counting, the trace_pc entry
// that counts (the plain __sanitizer_cov_trace_pc does not).
void Work() {
  (void)fixture_counting_parse("123", 3);
  (void)fixture_counting_parse("KCOV", 4);
  (void)fixture_counting_spin(40);
  (void)fixture_counting_compare(1, 2, 3, 4, 5);
}

std::vector<uint8_t> Copy(std::span<const uint8_t> map) {
  return std::vector<uint8_t>(map.begin(), map.end());
}

TEST(CountersTest, ModeValuesOutsideTheExtensionAreEinval) {
  RawDevice d(kMapWords + 512);
  // Map sizes outside 2^6..2^24, and stray bits, are not counters modes.
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_COUNTERS(5)),
            EINVAL);
  EXPECT_EQ(
      IoctlErr(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_COUNTERS(25)),
      EINVAL);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE,
                     REMCOV_KCOV_TRACE_COUNTERS(kBits) | 2u),
            EINVAL);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE,
                     REMCOV_KCOV_TRACE_COUNTERS(kBits) | (1ull << 32)),
            EINVAL);
  // A map larger than the area.
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE,
                     REMCOV_KCOV_TRACE_COUNTERS(kBits + 1)),
            EINVAL);
  ASSERT_EQ(
      IoctlErr(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_COUNTERS(kBits)),
      0);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
}

TEST(CountersTest, MapWithoutRoomForAComparisonRecordIsEinval) {
  RawDevice d(kMapWords);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE,
                     REMCOV_KCOV_TRACE_COUNTERS(kBits) | REMCOV_KCOV_TRACE_CMP),
            EINVAL);
  EXPECT_EQ(
      IoctlErr(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_COUNTERS(kBits)),
      0);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
}

TEST(CountersTest, CollectorRefusesAMapThatDoesNotFit) {
  auto c = Collector::Open(RuntimeBackend(), 1024);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Status s = c->EnableCounters({kBits, false});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(c->enabled());
}

// The slots a local counters trace sets are exactly those of the PCs a PC
// trace of the same work records, through remcov_counter_slot; each counts
// the PC's executions.
TEST(CountersTest, LocalCountsAreThePcTracesExecutionsPerSlot) {
  auto pc = Collector::Open(RuntimeBackend(), 1 << 16);
  ASSERT_TRUE(pc.ok());
  ASSERT_TRUE(pc->Enable(TraceMode::kPc).ok());
  Work();
  std::vector<uint64_t> pcs(pc->Pcs().begin(), pc->Pcs().end());
  ASSERT_TRUE(pc->Disable().ok());

  auto cc = Collector::Open(RuntimeBackend(), kMapWords + 1);
  ASSERT_TRUE(cc.ok());
  ASSERT_TRUE(cc->EnableCounters({kBits, false}).ok());
  Work();
  const std::vector<uint8_t> map = Copy(cc->Counters());
  ASSERT_TRUE(cc->Disable().ok());

  ASSERT_EQ(map.size(), size_t{1} << kBits);
  std::vector<unsigned> expected(map.size(), 0);
  for (uint64_t p : pcs) {
    if (FixtureFunction(p).empty()) continue;  // the test's own calls
    expected[remcov_counter_slot(p, kBits)]++;
  }
  size_t fixture_slots = 0;
  for (size_t i = 0; i < map.size(); i++) {
    if (expected[i] == 0) continue;
    fixture_slots++;
    EXPECT_EQ(map[i], std::min(expected[i], 255u)) << "slot " << i;
  }
  EXPECT_GT(fixture_slots, 10u);
  // The loop's body ran 40 times.
  EXPECT_GE(*std::max_element(map.begin(), map.end()), 40);
}

TEST(CountersTest, CountsSaturateAt255) {
  auto cc = Collector::Open(RuntimeBackend(), kMapWords + 1);
  ASSERT_TRUE(cc.ok());
  ASSERT_TRUE(cc->EnableCounters({kBits, false}).ok());
  (void)fixture_counting_spin(1000);
  const std::vector<uint8_t> map = Copy(cc->Counters());
  ASSERT_TRUE(cc->Reset().ok());
  const std::vector<uint8_t> after_reset = Copy(cc->Counters());
  ASSERT_TRUE(cc->Disable().ok());
  EXPECT_EQ(*std::max_element(map.begin(), map.end()), 255);
  EXPECT_TRUE(std::all_of(after_reset.begin(), after_reset.end(),
                          [](uint8_t v) { return v == 0; }));
}

// Plain __sanitizer_cov_trace_pc calls count nothing (their entry stays as
// short as PC mode needs: docs/kcov.md, "Counters mode").
TEST(CountersTest, PlainTracePcCallsCountNothing) {
  auto cc = Collector::Open(RuntimeBackend(), kMapWords + 1);
  ASSERT_TRUE(cc.ok());
  ASSERT_TRUE(cc->EnableCounters({kBits, false}).ok());
  (void)fixture_spin(100);
  const std::vector<uint8_t> plain = Copy(cc->Counters());
  (void)fixture_counting_spin(100);
  const std::vector<uint8_t> counting = Copy(cc->Counters());
  ASSERT_TRUE(cc->Disable().ok());
  EXPECT_TRUE(std::all_of(plain.begin(), plain.end(),
                          [](uint8_t v) { return v == 0; }));
  EXPECT_GE(*std::max_element(counting.begin(), counting.end()), 100);
}

// The fixture's records of one run of `work`, in CMP mode (kernel ABI) and
// in counters mode with comparisons, and whether the counters-mode run
// counted anything.
struct CmpRuns {
  std::vector<CmpRecord> cmp;
  std::vector<CmpRecord> counters;
  bool counted = false;
};
template <typename Work>
CmpRuns RunBothModes(Work work) {
  CmpRuns out;
  auto in_fixture = [](const CmpRecord& r) {
    return !FixtureFunction(r.ip).empty();
  };
  auto cmp = Collector::Open(RuntimeBackend(), 1 << 16);
  EXPECT_TRUE(cmp.ok());
  if (!cmp.ok() || !cmp->Enable(TraceMode::kCmp).ok()) return out;
  work();
  out.cmp.assign(cmp->Cmps().begin(), cmp->Cmps().end());
  EXPECT_TRUE(cmp->Disable().ok());

  auto cc = Collector::Open(RuntimeBackend(), kMapWords + (1 << 12));
  EXPECT_TRUE(cc.ok());
  if (!cc.ok() || !cc->EnableCounters({kBits, true}).ok()) return out;
  work();
  out.counters.assign(cc->Cmps().begin(), cc->Cmps().end());
  const std::vector<uint8_t> map = Copy(cc->Counters());
  EXPECT_TRUE(cc->Validate(TraceMode::kCmp).ok());
  EXPECT_TRUE(cc->Disable().ok());
  out.counted =
      std::any_of(map.begin(), map.end(), [](uint8_t v) { return v; });
  std::erase_if(out.cmp, [&](const CmpRecord& r) { return !in_fixture(r); });
  std::erase_if(out.counters,
                [&](const CmpRecord& r) { return !in_fixture(r); });
  return out;
}

// One run gives counters and the comparison records a CMP trace gives, except
// for switches: a fuzzer's records there (the nearest case below and above
// the value), not the kernel's one per case.
TEST(CountersTest, ComparisonsAreRecordedInTheSameRun) {
  // e: the switch's value. Its cases are 1, 100 and 1000; `near` lists the
  // cases counters mode records, in that order.
  const struct {
    uint64_t e;
    std::vector<uint64_t> near;
  } kCases[] = {
      {5, {}},             // a value below 256: nothing
      {100, {}},           // a case, but below 256
      {500, {100, 1000}},  // between two cases
      {1000, {100}},       // the largest case: only the one below
      {2000, {1000}},      // above every case
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.e);
    const CmpRuns runs =
        RunBothModes([&] { (void)fixture_counting_compare(1, 2, 3, 4, c.e); });
    EXPECT_TRUE(runs.counted);
    // CMP mode: 4 compares, then the 3 cases {case, value}.
    ASSERT_EQ(runs.cmp.size(), 7u);
    std::vector<CmpRecord> want(runs.cmp.begin(), runs.cmp.begin() + 4);
    for (size_t i = 4; i < 7; i++) {
      const CmpRecord& r = runs.cmp[i];
      EXPECT_TRUE(r.is_const());
      EXPECT_EQ(r.arg2, c.e);
      if (std::find(c.near.begin(), c.near.end(), r.arg1) != c.near.end())
        want.push_back(r);
    }
    EXPECT_EQ(want.size(), 4 + c.near.size());
    EXPECT_EQ(runs.counters, want);
  }
}

// A switch whose cases are all below 256 records nothing in counters mode,
// whatever the value; CMP mode records its 3 cases.
TEST(CountersTest, ASwitchOfSmallCasesRecordsNothing) {
  for (const uint64_t v : {uint64_t{7}, uint64_t{300}}) {
    SCOPED_TRACE(v);
    const CmpRuns runs =
        RunBothModes([&] { (void)fixture_counting_small_switch(v); });
    EXPECT_TRUE(runs.counted);
    EXPECT_EQ(runs.cmp.size(), 3u);
    EXPECT_TRUE(runs.counters.empty());
  }
}

// The map of one local run of Work(), on a thread of its own.
std::vector<uint8_t> LocalMap() {
  std::vector<uint8_t> map;
  std::thread([&] {
    auto cc = Collector::Open(RuntimeBackend(), kMapWords + 1);
    if (!cc.ok() || !cc->EnableCounters({kBits, false}).ok()) return;
    Work();
    map = Copy(cc->Counters());
    (void)cc->Disable();
  }).join();
  return map;
}

// Sections on several threads add into the collector's map: each slot is the
// saturating sum of the threads' counts, exactly.
TEST(CountersTest, RemoteSectionsAddTheirCountsIntoTheMap) {
  const std::vector<uint8_t> one = LocalMap();
  ASSERT_EQ(one.size(), size_t{1} << kBits);
  const uint64_t handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 0x4301);
  RawDevice d(kMapWords + 512);
  constexpr int kThreads = 5;
  constexpr int kSectionsPerThread = 12;
  {
    RemoteOwner owner(d.fd(), {handle}, 0, 4096,
                      REMCOV_KCOV_TRACE_COUNTERS(kBits));
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; i++) {
      threads.emplace_back([&] {
        for (int k = 0; k < kSectionsPerThread; k++) {
          remcov_remote_start(handle);
          Work();
          remcov_remote_stop();
        }
      });
    }
    for (auto& t : threads) t.join();
    const auto* map = reinterpret_cast<const uint8_t*>(d.area());
    size_t checked = 0;
    for (size_t i = 0; i < one.size(); i++) {
      const unsigned want = std::min(
          255u, static_cast<unsigned>(one[i]) * kThreads * kSectionsPerThread);
      ASSERT_EQ(map[i], want) << "slot " << i;
      checked += want != 0;
    }
    EXPECT_GT(checked, 10u);
    const remcov_device_stats_t st = d.Stats();
    EXPECT_EQ(st.sections_moved, uint64_t{kThreads * kSectionsPerThread});
    EXPECT_EQ(st.sections_dropped, 0u);
  }
}

// Comparisons of remote sections reach the trace after the map.
TEST(CountersTest, RemoteComparisonsFollowTheMap) {
  const uint64_t handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 0x4302);
  RawDevice d(kMapWords + 4096);
  {
    RemoteOwner owner(
        d.fd(), {handle}, 0, 1024,
        REMCOV_KCOV_TRACE_COUNTERS(kBits) | REMCOV_KCOV_TRACE_CMP);
    std::thread([&] {
      for (uint64_t seq = 0; seq < 3; seq++) {
        remcov_remote_start(handle);
        (void)fixture_counting_ident(0x77, seq);
        remcov_remote_stop();
      }
    }).join();
    const uint64_t* trace = d.area() + kMapWords;
    std::vector<uint64_t> seqs;
    const uint64_t n =
        std::atomic_ref<uint64_t>(const_cast<uint64_t&>(trace[0]))
            .load(std::memory_order_acquire);
    for (uint64_t i = 0; i < n; i++) {
      const uint64_t* r = trace + 1 + 4 * i;
      if (r[1] == 0x77 || r[2] == 0x77)
        seqs.push_back(r[1] == 0x77 ? r[2] : r[1]);
    }
    EXPECT_EQ(seqs, (std::vector<uint64_t>{0, 1, 2}));
    const auto* map = reinterpret_cast<const uint8_t*>(d.area());
    EXPECT_GT(std::count_if(map, map + (size_t{1} << kBits),
                            [](uint8_t v) { return v != 0; }),
              0);
  }
}

// kernel: a section that straddles KCOV_DISABLE is not moved (the sequence
// check in kcov_move_area's caller). Its counts are dropped and counted.
TEST(CountersTest, SectionStraddlingDisableIsDroppedAndCounted) {
  const uint64_t handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 0x4303);
  RawDevice d(kMapWords + 512);
  remcov_runtime_stats_t before{};
  ASSERT_EQ(remcov_runtime_stats(&before), 0);
  std::atomic<int> phase{0};
  std::thread worker;
  {
    RemoteOwner owner(d.fd(), {handle}, 0, 4096,
                      REMCOV_KCOV_TRACE_COUNTERS(kBits));
    worker = std::thread([&] {
      remcov_remote_start(handle);
      Work();
      phase.store(1);
      while (phase.load() != 2) std::this_thread::yield();
      remcov_remote_stop();
      phase.store(3);
    });
    while (phase.load() != 1) std::this_thread::yield();
  }  // the owner disables
  phase.store(2);
  while (phase.load() != 3) std::this_thread::yield();
  worker.join();
  const auto* map = reinterpret_cast<const uint8_t*>(d.area());
  EXPECT_TRUE(std::all_of(map, map + (size_t{1} << kBits),
                          [](uint8_t v) { return v == 0; }));
  remcov_runtime_stats_t after{};
  ASSERT_EQ(remcov_runtime_stats(&after), 0);
  EXPECT_EQ(after.sequence_dropped_sections - before.sequence_dropped_sections,
            1u);
  EXPECT_GT(after.sequence_dropped_entries - before.sequence_dropped_entries,
            10u);
  EXPECT_EQ(d.Stats().sections_dropped, 1u);
}

}  // namespace
}  // namespace remcov::testing
