// SPDX-License-Identifier: Apache-2.0
// The instrumented fixture under the runtime: the exact fixture functions hit
// and not hit for several inputs, the exact comparison records, capacities and
// overflow accounting, and a concurrent reader that must see a consistent
// prefix.
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

const std::set<std::string> kAllParse = {"fixture_parse", "fixture_digits",
                                         "fixture_letters", "fixture_magic",
                                         "fixture_other"};

std::set<std::string> CoverParse(const char* input) {
  RawDevice d(8192);
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  fixture_parse(input, strlen(input));
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  return FixtureFunctions(d.Pcs());
}

struct ParseCase {
  const char* input;
  std::set<std::string> hit;
};

TEST(FixtureCoverageTest, ExactFunctionsHitAndNotHitPerInput) {
  const ParseCase cases[] = {
      {"12345", {"fixture_parse", "fixture_digits"}},
      {"Hello", {"fixture_parse", "fixture_letters"}},
      {"KCOV!", {"fixture_parse", "fixture_magic"}},
      {"#", {"fixture_parse", "fixture_other"}},
      {"", {"fixture_parse", "fixture_other"}},
  };
  for (const auto& c : cases) {
    std::set<std::string> hit = CoverParse(c.input);
    EXPECT_EQ(hit, c.hit) << "input '" << c.input << "'";
    for (const auto& f : kAllParse) {
      if (!c.hit.count(f)) {
        EXPECT_FALSE(hit.count(f)) << f << " for '" << c.input << "'";
      }
    }
  }
}

TEST(FixtureCoverageTest, NothingRecordedWithoutAnEnabledDevice) {
  RawDevice d(4096);
  fixture_parse("12345", 5);
  EXPECT_EQ(d.Count(), 0u);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  d.Reset();
  fixture_parse("12345", 5);
  EXPECT_EQ(d.Count(), 0u);
}

TEST(FixtureCoverageTest, PcModeRecordsNoComparisonsAndCmpModeNoPcs) {
  RawDevice d(8192);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP), 0);
  d.Reset();
  fixture_spin(0);  // loop condition only: i < n with i=0,n=0
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  // Every entry is a 4-word record with a valid type and a fixture ip.
  uint64_t n = d.Count();
  ASSERT_GT(n, 0u);
  for (uint64_t i = 0; i < n; i++) {
    const uint64_t* r = d.area() + 1 + 4 * i;
    EXPECT_LE(r[0], 7u);
    EXPECT_EQ(FixtureFunction(r[3]), "fixture_spin");
  }
}

std::multiset<Rec> CompareRecords(uint8_t a, uint16_t b, uint32_t c,
                                  uint64_t dd, uint64_t e) {
  RawDevice d(8192);
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP), 0);
  d.Reset();
  fixture_compare(a, b, c, dd, e);
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  return RecordsIn(d.area(), "fixture_compare");
}

constexpr uint64_t kConst = REMCOV_KCOV_CMP_CONST;
constexpr uint64_t S(int log2) { return REMCOV_KCOV_CMP_SIZE(log2); }

// The switch emits one record per case, constant first, then the value.
std::multiset<Rec> SwitchRecords(uint64_t e) {
  return {
      {kConst | S(3), 1, e}, {kConst | S(3), 100, e}, {kConst | S(3), 1000, e}};
}

// What each compiler emits for fixture_compare at -O0 (pinned from objdump:
// clang compares the promoted 8- and 16-bit operands as 32-bit values; g++
// keeps their width; both put the constant first).
std::multiset<Rec> ExpectedCompare(uint8_t a, uint16_t b, uint32_t c,
                                   uint64_t d, uint64_t e) {
  std::multiset<Rec> want = SwitchRecords(e);
#if defined(REMCOV_FIXTURE_CLANG)
  want.insert({kConst | S(2), 7, a});
  want.insert({S(2), b, static_cast<uint16_t>(e)});
#else
  want.insert({kConst | S(0), 7, a});
  want.insert({S(1), b, static_cast<uint16_t>(e)});
#endif
  want.insert({kConst | S(2), 0x4b434f56u, c});
  want.insert({S(3), d, e});
  return want;
}

TEST(FixtureCoverageTest, ExactComparisonRecordsForThreeInputs) {
  struct In {
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d, e;
  };
  const In inputs[] = {{7, 3, 0x4b434f56u, 9, 100},
                       {200, 60000, 1, 0, 1000},
                       {0, 0, 0xffffffffu, ~0ull, 1}};
  for (const In& in : inputs) {
    EXPECT_EQ(CompareRecords(in.a, in.b, in.c, in.d, in.e),
              ExpectedCompare(in.a, in.b, in.c, in.d, in.e))
        << "a=" << int(in.a) << " e=" << in.e;
  }
}

TEST(CapacityTest, PcModeHoldsSizeMinusOneAndCountsTheRest) {
  constexpr size_t kWords = 512;  // one page
  RawDevice d(kWords);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  fixture_spin(10000);  // far more than 511 blocks
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(d.Count(), kWords - 1);
  remcov_device_stats_t s = d.Stats();
  EXPECT_GT(s.overflow_entries, 10000u);
  // Nothing beyond the area was written (the page holds exactly the area).
}

TEST(CapacityTest, CmpModeHoldsSizeMinusOneOverFourRecords) {
  constexpr size_t kWords = 512;
  RawDevice d(kWords);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP), 0);
  d.Reset();
  fixture_spin(1000);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(d.Count(), (kWords - 1) / 4);
  EXPECT_GT(d.Stats().overflow_entries, 1000u);
}

TEST(CapacityTest, OverflowIsExactlyTheEntriesThatDidNotFit) {
  // Count how many PCs one call produces with a big area, then replay it into
  // an area of known capacity: stored + overflow must equal that number.
  RawDevice big(1 << 16);
  ASSERT_EQ(remcov_ioctl(big.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC),
            0);
  big.Reset();
  fixture_spin(300);
  ASSERT_EQ(remcov_ioctl(big.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  uint64_t total = big.Count();
  ASSERT_GT(total, 511u);
  RawDevice small(512);
  ASSERT_EQ(remcov_ioctl(small.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC),
            0);
  small.Reset();
  fixture_spin(300);
  ASSERT_EQ(remcov_ioctl(small.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(small.Count(), 511u);
  EXPECT_EQ(small.Stats().overflow_entries, total - 511);
}

TEST(ConsistentPrefixTest, ConcurrentReaderNeverSeesAnUnfilledSlot) {
  // A reader thread loads the count with acquire and checks that every slot it
  // covers holds a fixture PC (never the 0 the area was reset with).
  RawDevice d(1 << 16);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bad{0}, checks{0};
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      uint64_t n = d.Count();
      if (n > d.words() - 1) n = d.words() - 1;
      for (uint64_t i = (n > 64 ? n - 64 : 0); i < n; i++) {
        if (std::atomic_ref<uint64_t>(d.area()[1 + i])
                .load(std::memory_order_relaxed) == 0)
          bad++;
      }
      checks++;
    }
  });
  while (checks.load() == 0)
    std::this_thread::yield();  // the reader is running
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  // Keep appending until the reader has checked many times (a loaded machine
  // may schedule it late), bounded by the area filling up.
  for (int i = 0;
       (i < 200 || checks.load() < 1000) && d.Count() < d.words() - 1; i++)
    fixture_spin(10);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(checks.load(), 0u);
}

TEST(CollectorTest, CppApiCollectsAndValidates) {
  auto c = Collector::Open(RuntimeBackend(), 5000);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->words() % 512, 0u);  // rounded to whole pages
  ASSERT_TRUE(c->Enable(TraceMode::kPc).ok());
  fixture_parse("99", 2);
  ASSERT_TRUE(c->Disable().ok());
  std::vector<uint64_t> pcs(c->Pcs().begin(), c->Pcs().end());
  EXPECT_TRUE(FixtureFunctions(pcs).count("fixture_digits"));
  EXPECT_TRUE(c->Validate(TraceMode::kPc).ok());
  // A corrupted count is reported, never trusted.
  c->Pcs();
  std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*(c->Pcs().data() - 1)))
      .store(1ull << 40);
  EXPECT_EQ(c->Validate(TraceMode::kPc).code(), StatusCode::kDataLoss);
  EXPECT_EQ(c->Pcs().size(), c->Capacity(TraceMode::kPc));
}

TEST(CollectorTest, CppApiReportsErrnoAsStatus) {
  auto a = Collector::Open(RuntimeBackend(), 512);
  auto b = Collector::Open(RuntimeBackend(), 512);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Enable(TraceMode::kPc).ok());
  Status s = b->Enable(TraceMode::kPc);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.error_number(), EBUSY);
  ASSERT_TRUE(a->Disable().ok());
}

TEST(PcSetTest, DeduplicatesInInsertionOrder) {
  PcSet set;
  for (uint64_t i = 0; i < 10000; i++) set.Insert((i % 1000) * 16 + 1);
  EXPECT_EQ(set.size(), 1000u);
  EXPECT_EQ(set.values().front(), 1u);
  EXPECT_FALSE(set.Insert(1));
  EXPECT_TRUE(set.Insert(0));
  EXPECT_FALSE(set.Insert(0));
}

}  // namespace
}  // namespace remcov::testing
