// SPDX-License-Identifier: Apache-2.0
// KCOV_UNIQUE_ENABLE, the unmerged proposal (docs/kcov.md, deliberate
// difference 15), opt-in through REMCOV_UNIQUE_ENABLE=1: its error table, and
// on a trace-pc-guard fixture (clang only) that every PC is recorded once with
// its bitmap bit set, and how much it reduces area overflow against PC mode on
// a loop.
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <set>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "test_util.h"

#ifdef REMCOV_GUARD_FIXTURE
#include "guard_fixture.h"
#endif

namespace remcov::testing {
namespace {

constexpr size_t kWords = 4096;

int IoctlErr(int fd, unsigned long cmd, unsigned long arg) {
  errno = 0;
  return remcov_ioctl(fd, cmd, arg) == 0 ? 0 : errno;
}

class UniqueTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("REMCOV_UNIQUE_ENABLE", "1", 1); }
  void TearDown() override { unsetenv("REMCOV_UNIQUE_ENABLE"); }
};

TEST(UniqueOffTest, UniqueEnableIsEnottyByDefault) {
  unsetenv("REMCOV_UNIQUE_ENABLE");
  RawDevice d(kWords);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, 16), ENOTTY);
}

TEST_F(UniqueTest, ErrorsFollowTheProposalsCheckOrder) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  // No area yet (mode is not INIT).
  EXPECT_EQ(IoctlErr(fd, REMCOV_KCOV_UNIQUE_ENABLE, 16), EINVAL);
  ASSERT_EQ(remcov_close(fd), 0);

  RawDevice d(kWords);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, 0), EINVAL);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kWords - 1), EINVAL);
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kWords), EINVAL);
  // The largest bitmap leaves a count word and one entry.
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kWords - 2), 0);
  // Enabled: the mode is no longer INIT.
  EXPECT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, 16), EINVAL);
  // This thread already has a device: busy before the size is looked at.
  RawDevice other(kWords);
  EXPECT_EQ(IoctlErr(other.fd(), REMCOV_KCOV_UNIQUE_ENABLE, 0), EBUSY);
  EXPECT_EQ(IoctlErr(other.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC),
            EBUSY);
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  // Disabled: back to INIT, enable again in PC mode is fine.
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
}

#ifdef REMCOV_GUARD_FIXTURE
size_t Popcount(const uint64_t* w, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += static_cast<size_t>(__builtin_popcountll(w[i]));
  return c;
}

TEST_F(UniqueTest, EachPcIsRecordedOnceAndItsBitIsSet) {
  constexpr size_t kBitmapWords = 16;
  RawDevice d(kWords);
  uint64_t* area = d.area();
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kBitmapWords), 0);
  for (int i = 0; i < 3; i++) guard_loop(1000);
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  const uint64_t* trace = area + kBitmapWords;
  const uint64_t n = trace[0];
  std::set<uint64_t> pcs(trace + 1, trace + 1 + n);
  EXPECT_EQ(pcs.size(), n) << "a PC was recorded twice";
  EXPECT_GE(n, 4u);  // entry, loop head, both branch arms at least
  EXPECT_LT(n, 30u);
  for (uint64_t pc : pcs) {
    Dl_info info;
    ASSERT_NE(dladdr(reinterpret_cast<void*>(pc), &info), 0);
    EXPECT_STREQ(info.dli_sname, "guard_loop");
  }
  EXPECT_EQ(Popcount(area, kBitmapWords), n);
  EXPECT_EQ(d.Stats().overflow_entries, 0u);

  // Again without resetting: every bit is set, nothing new is recorded.
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kBitmapWords), 0);
  guard_loop(1000);
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(trace[0], n);

  // Reset = zero the bitmap and the trace count: recorded again, once each.
  for (size_t i = 0; i <= kBitmapWords; i++) area[i] = 0;
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kBitmapWords), 0);
  guard_loop(1000);
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(trace[0], n);
  EXPECT_EQ(std::set<uint64_t>(trace + 1, trace + 1 + trace[0]), pcs);

  // PC mode on the same code records every hit.
  area[0] = 0;
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  guard_loop(100);
  ASSERT_EQ(IoctlErr(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_GT(area[0], 100u);
  EXPECT_EQ(std::set<uint64_t>(area + 1, area + 1 + area[0]), pcs);
}

TEST_F(UniqueTest, UniqueModeAvoidsTheOverflowOfALoop) {
  // A small area (one page): a loop overflows it in PC mode.
  constexpr size_t kSmall = 512, kBitmapWords = 4;
  constexpr uint64_t kIters = 10000;
  RawDevice pc_dev(kSmall), uniq_dev(kSmall);
  ASSERT_EQ(IoctlErr(pc_dev.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  guard_loop(kIters);
  ASSERT_EQ(IoctlErr(pc_dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  ASSERT_EQ(IoctlErr(uniq_dev.fd(), REMCOV_KCOV_UNIQUE_ENABLE, kBitmapWords),
            0);
  guard_loop(kIters);
  ASSERT_EQ(IoctlErr(uniq_dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  const uint64_t pc_kept = pc_dev.area()[0];
  const uint64_t pc_over = pc_dev.Stats().overflow_entries;
  const uint64_t u_kept = uniq_dev.area()[kBitmapWords];
  const uint64_t u_over = uniq_dev.Stats().overflow_entries;
  printf(
      "[measure] guard_loop(%llu), %zu-word area: PC mode kept %llu, "
      "overflowed %llu; unique mode kept %llu, overflowed %llu\n",
      static_cast<unsigned long long>(kIters), kSmall,
      static_cast<unsigned long long>(pc_kept),
      static_cast<unsigned long long>(pc_over),
      static_cast<unsigned long long>(u_kept),
      static_cast<unsigned long long>(u_over));
  EXPECT_EQ(pc_kept, kSmall - 1);
  EXPECT_GT(pc_over, kIters);
  EXPECT_EQ(u_over, 0u);
  EXPECT_GT(u_kept, 0u);
}
#endif  // REMCOV_GUARD_FIXTURE: g++ 12 has no -fsanitize-coverage=
        // trace-pc-guard, so the fixture tests exist in clang builds only.

}  // namespace
}  // namespace remcov::testing
