// SPDX-License-Identifier: Apache-2.0
// The signal-handler area pool (the kernel's softirq pool) in a process of its
// own, so it can be sized before first use: one area; while one thread's
// handler holds it, another thread's handler section is skipped and counted;
// and made ahead (remcov_prepare_remote) for fork children. Each test sizes
// the pool first, so each needs a process of its own, as ctest runs them
// (gtest_discover_tests: one process per test).
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

const uint64_t kHandle =
    remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 0x8001);
std::atomic<int> g_in_section{0};
std::atomic<bool> g_release{false};
std::atomic<int> g_done{0};

void HoldingHandler(int) {
  remcov_remote_start(kHandle);
  fixture_in_handler(5);
  g_in_section = 1;
  while (!g_release.load()) {
  }
  remcov_remote_stop();
  g_done++;
}

void SkippedHandler(int) {
  remcov_remote_start(kHandle);  // pool empty: skipped, counted
  fixture_in_handler(6);
  remcov_remote_stop();
  g_done++;
}

TEST(IrqPoolTest, ConfiguredSizeIsHonouredAndExhaustionCounted) {
  ASSERT_EQ(remcov_config_irq_pool(1, 256), REMCOV_OK);
  RawDevice d(1 << 12);
  RemoteOwner owner(d.fd(), {kHandle}, 0, 256);
  // Too late to resize once allocated.
  EXPECT_EQ(remcov_config_irq_pool(2, 256), REMCOV_E_BUSY);
  EXPECT_EQ(remcov_config_irq_pool(0, 256), REMCOV_E_INVALID);

  struct sigaction hold = {}, skip = {};
  hold.sa_handler = HoldingHandler;
  skip.sa_handler = SkippedHandler;
  ASSERT_EQ(sigaction(SIGUSR1, &hold, nullptr), 0);
  ASSERT_EQ(sigaction(SIGUSR2, &skip, nullptr), 0);
  remcov_runtime_stats_t before{};
  remcov_runtime_stats(&before);
  std::atomic<bool> stop{false};
  auto spin = [&] {
    while (!stop.load()) fixture_spin(1);
  };
  std::thread a(spin), b(spin);
  pthread_kill(a.native_handle(), SIGUSR1);
  while (g_in_section.load() == 0) std::this_thread::yield();
  pthread_kill(b.native_handle(), SIGUSR2);
  while (g_done.load() < 1) std::this_thread::yield();  // b's handler finished
  g_release = true;
  while (g_done.load() < 2) std::this_thread::yield();
  stop = true;
  a.join();
  b.join();
  remcov_runtime_stats_t after{};
  remcov_runtime_stats(&after);
  EXPECT_EQ(after.irq_pool_exhausted, before.irq_pool_exhausted + 1);
  EXPECT_EQ(after.signal_sections, before.signal_sections + 1);
  EXPECT_EQ(d.Stats().sections_moved, 1u);
  EXPECT_EQ(FixtureFunctions(d.Pcs()),
            std::set<std::string>{"fixture_in_handler"});
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

void SectionHandler(int) {
  remcov_remote_start(kHandle);
  fixture_in_handler(7);
  remcov_remote_stop();
}

// remcov_prepare_remote makes the pool at once (so it can no longer be
// resized), and a fork child that registers a handle uses the inherited pool
// for its handler sections instead of making its own (the fork-server use:
// bench/fork_server_cost). The child runs on its only thread (TSan refuses
// threads in the child of a multi-threaded process).
TEST(IrqPoolTest, APreparedPoolIsMadeOnceAndInheritedByForkChildren) {
  ASSERT_EQ(remcov_config_irq_pool(1, 256), REMCOV_OK);
  ASSERT_EQ(remcov_prepare_remote(), REMCOV_OK);
  EXPECT_EQ(remcov_config_irq_pool(1, 256), REMCOV_E_BUSY);
  EXPECT_EQ(remcov_prepare_remote(), REMCOV_OK);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The parent's pool, made: too late to resize here too.
    if (remcov_config_irq_pool(2, 256) != REMCOV_E_BUSY) _exit(8);
    int code = 0;
    {
      RawDevice d(1 << 12);
      if (RemoteEnableHere(d.fd(), {kHandle}, 0, 256) != 0) _exit(3);
      struct sigaction sa = {};
      sa.sa_handler = SectionHandler;
      if (sigaction(SIGUSR1, &sa, nullptr) != 0) _exit(4);
      raise(SIGUSR1);
      remcov_runtime_stats_t rs{};
      remcov_runtime_stats(&rs);
      if (rs.irq_pool_exhausted != 0 || rs.signal_sections != 1) code = 5;
      if (d.Stats().sections_moved != 1) code = 6;
      if (remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0) != 0) code = 7;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "3: REMOTE_ENABLE, 4: sigaction, 5: the handler's section had no "
         "area, 6: it did not arrive, 7: DISABLE, 8: the child could resize "
         "the pool (not inherited)";
}

}  // namespace
}  // namespace remcov::testing
