// SPDX-License-Identifier: Apache-2.0
// Signals delivered asynchronously during collection: handler code outside a
// remote section records nothing (the kernel records nothing in interrupt
// context), the interrupted thread's coverage is intact and complete, and the
// callbacks preserve errno.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

std::atomic<uint64_t> g_handled{0};

void Handler(int) {
  fixture_in_handler(7);
  g_handled.fetch_add(1, std::memory_order_relaxed);
}

uint64_t PcsOfSpin(uint64_t n) {
  RawDevice d(1 << 18);
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  fixture_spin(n);
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  return d.Count();
}

#if defined(__SANITIZE_THREAD__)
constexpr int kDeliveries = 500;  // TSan delivers signals at safe points only
#else
constexpr int kDeliveries = 2000;
#endif

TEST(SignalTest, HandlerCodeOutsideSectionsIsNotRecordedAndNothingIsLost) {
  struct sigaction sa = {};
  sa.sa_handler = Handler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, nullptr), 0);
  // The installed handler is reported as the user's, not remcov's trampoline.
  struct sigaction old = {};
  ASSERT_EQ(sigaction(SIGUSR1, nullptr, &old), 0);
  EXPECT_EQ(old.sa_handler, &Handler);

  const uint64_t per_call = PcsOfSpin(50);
  ASSERT_GT(per_call, 0u);
  RawDevice d(1 << 22);
  g_handled = 0;
  std::atomic<bool> stop{false};
  pthread_t self = pthread_self();
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  // Standard signals coalesce while pending: send until kDeliveries handler
  // runs happened (bounded), while this thread keeps tracing.
  std::thread sender([&] {
    for (long i = 0; g_handled.load() < kDeliveries && i < 50L * kDeliveries;
         i++) {
      pthread_kill(self, SIGUSR1);
      if (i % 4 == 0) std::this_thread::yield();
    }
    stop = true;
  });
  uint64_t calls = 0;
  while (!stop.load()) {
    fixture_spin(50);
    calls++;
  }
  sender.join();
  // Let pending signals land before disabling.
  for (int i = 0; i < 10; i++) {
    fixture_spin(50);
    calls++;
  }
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_GE(g_handled.load(), static_cast<uint64_t>(kDeliveries));
  std::vector<uint64_t> pcs = d.Pcs();
  // Every entry accounted for: exactly per_call PCs per call, none dropped.
  EXPECT_EQ(pcs.size() + d.Stats().overflow_entries, per_call * calls);
  auto fns = FixtureFunctions(pcs);
  EXPECT_EQ(fns.count("fixture_in_handler"), 0u);
  EXPECT_EQ(fns, std::set<std::string>{"fixture_spin"});
  signal(SIGUSR1, SIG_DFL);
}

TEST(SignalTest, SignalFunctionIsWrappedToo) {
  ASSERT_NE(signal(SIGUSR2, Handler), SIG_ERR);
  EXPECT_EQ(signal(SIGUSR2, SIG_DFL),
            &Handler);  // the user's handler comes back
  ASSERT_NE(signal(SIGUSR2, Handler), SIG_ERR);
  RawDevice d(1 << 14);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  raise(SIGUSR2);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(FixtureFunctions(d.Pcs()).count("fixture_in_handler"), 0u);
  signal(SIGUSR2, SIG_DFL);
}

TEST(SignalTest, CallbacksPreserveErrno) {
  RawDevice d(1 << 14);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_CMP), 0);
  errno = 4321;
  fixture_compare(1, 2, 3, 4, 100);
  fixture_parse("12", 2);
  EXPECT_EQ(errno, 4321);
  remcov_remote_start(
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 999));
  remcov_remote_stop();
  EXPECT_EQ(errno, 4321);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
}

}  // namespace
}  // namespace remcov::testing
