// SPDX-License-Identifier: Apache-2.0
// Handlers that never return (docs/kcov.md, "Deliberate differences", 6): a
// handler left by siglongjmp, or one whose thread exits inside it, gives its
// pool area back and clears the in-handler state at the latest at the
// thread's next section or exit. Before the fix every such section kept a pool
// area for the life of the process: after 4 threads jumped out, every later
// handler section was refused as irq_pool_exhausted.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

uint64_t Usb(uint64_t bus) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, bus);
}

const uint64_t kHandlerHandle = Usb(0x9101);
const uint64_t kTaskHandle = Usb(0x9102);

thread_local sigjmp_buf t_env;
thread_local sigjmp_buf t_inner_env;

void SectionThenJump(int) {
  remcov_remote_start(kHandlerHandle);
  fixture_in_handler(21);
  siglongjmp(t_env, 1);
}

void NoSectionThenJump(int) {
  fixture_in_handler(22);
  siglongjmp(t_env, 1);
}

void SectionThenExit(int) {
  remcov_remote_start(kHandlerHandle);
  fixture_in_handler(23);
  pthread_exit(nullptr);
}

std::atomic<int> g_returned{0};
void SectionAndReturn(int) {
  remcov_remote_start(kHandlerHandle);
  fixture_in_handler(24);
  remcov_remote_stop();
  g_returned++;
}

// The outer handler jumps back into itself out of a nested handler's section,
// then runs a section of its own. The nested signal is a synchronous SIGILL
// (a trap): TSan defers a signal raised inside a handler until that handler
// has returned, but delivers synchronous ones at once.
void InnerSectionThenJump(int) {
  remcov_remote_start(kHandlerHandle);
  fixture_in_handler(25);
  siglongjmp(t_inner_env, 1);
}
void OuterHandler(int) {
  // TSan runs handlers with every signal blocked; a blocked SIGILL would
  // kill the process.
  sigset_t ill;
  sigemptyset(&ill);
  sigaddset(&ill, SIGILL);
  pthread_sigmask(SIG_UNBLOCK, &ill, nullptr);
  if (sigsetjmp(t_inner_env, 1) == 0) __builtin_trap();
  remcov_remote_start(kHandlerHandle);
  fixture_in_handler(26);
  remcov_remote_stop();
  g_returned++;
}

void Install(int sig, void (*fn)(int)) {
  struct sigaction sa = {};
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(sig, &sa, nullptr), 0);
}

remcov_runtime_stats_t Stats() {
  remcov_runtime_stats_t s{};
  remcov_runtime_stats(&s);
  return s;
}

// More threads than the default pool has areas (4).
constexpr int kThreads = 12;

TEST(AbandonedHandlerTest, ThreadsThatJumpOutOfHandlerSectionsAndExit) {
  RawDevice d(1 << 16);
  RemoteOwner owner(d.fd(), {kHandlerHandle}, 0, 1 << 12);
  Install(SIGUSR1, SectionThenJump);
  Install(SIGUSR2, SectionAndReturn);
  const remcov_runtime_stats_t before = Stats();
  for (int i = 0; i < kThreads; i++) {
    std::thread th([] {
      if (sigsetjmp(t_env, 1) == 0) {
        raise(SIGUSR1);
        ADD_FAILURE() << "the handler returned";
      }
    });
    th.join();
  }
  // Later handler sections still record.
  g_returned = 0;
  std::thread th([] { raise(SIGUSR2); });
  th.join();
  EXPECT_EQ(g_returned.load(), 1);
  const remcov_runtime_stats_t after = Stats();
  EXPECT_EQ(after.irq_pool_exhausted, before.irq_pool_exhausted);
  EXPECT_EQ(after.refused_sections, before.refused_sections);
  EXPECT_EQ(after.signal_sections, before.signal_sections + kThreads + 1);
  // The abandoned sections were ended at thread exit: what they recorded was
  // moved, as when a handler returns with its section open.
  EXPECT_EQ(d.Stats().sections_moved, static_cast<uint64_t>(kThreads) + 1);
  EXPECT_EQ(FixtureFunctions(d.Pcs()),
            std::set<std::string>{"fixture_in_handler"});
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

TEST(AbandonedHandlerTest, ThreadsThatExitInsideHandlerSections) {
  RawDevice d(1 << 16);
  RemoteOwner owner(d.fd(), {kHandlerHandle}, 0, 1 << 12);
  Install(SIGUSR1, SectionThenExit);
  Install(SIGUSR2, SectionAndReturn);
  // glibc loads libgcc_s (dlopen, malloc) at the first pthread_exit: do that
  // outside a handler, so that TSan sees no signal-unsafe call of ours.
  {
    pthread_t th;
    ASSERT_EQ(pthread_create(
                  &th, nullptr, [](void*) -> void* { pthread_exit(nullptr); },
                  nullptr),
              0);
    ASSERT_EQ(pthread_join(th, nullptr), 0);
  }
  const remcov_runtime_stats_t before = Stats();
  for (int i = 0; i < kThreads; i++) {
    pthread_t th;
    ASSERT_EQ(pthread_create(
                  &th, nullptr,
                  [](void*) -> void* {
                    raise(SIGUSR1);
                    return reinterpret_cast<void*>(1);
                  },
                  nullptr),
              0);
    void* ret = nullptr;
    ASSERT_EQ(pthread_join(th, &ret), 0);
    EXPECT_EQ(ret, nullptr);  // pthread_exit(nullptr) in the handler
  }
  g_returned = 0;
  std::thread th([] { raise(SIGUSR2); });
  th.join();
  EXPECT_EQ(g_returned.load(), 1);
  const remcov_runtime_stats_t after = Stats();
  EXPECT_EQ(after.irq_pool_exhausted, before.irq_pool_exhausted);
  EXPECT_EQ(after.signal_sections, before.signal_sections + kThreads + 1);
  EXPECT_EQ(d.Stats().sections_moved, static_cast<uint64_t>(kThreads) + 1);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

// Raises sig, whose handler siglongjmps to t_env, set here: the jump lands
// in this frame, so no local of the caller lives across sigsetjmp.
__attribute__((noinline)) void RaiseAndJumpBack(int sig) {
  if (sigsetjmp(t_env, 1) == 0) raise(sig);
}

TEST(AbandonedHandlerTest, NextTaskSectionClearsTheStateOfAJumpedOutHandler) {
  RawDevice d(1 << 16);
  RemoteOwner owner(d.fd(), {kHandlerHandle, kTaskHandle}, 0, 1 << 12);
  Install(SIGUSR1, SectionThenJump);
  Install(SIGUSR2, SectionAndReturn);
  const remcov_runtime_stats_t before = Stats();
  std::thread th([&] {
    for (int i = 0; i < kThreads; i++) {
      RaiseAndJumpBack(SIGUSR1);
      // Back in task context: this section is a task section again.
      remcov_remote_start(kTaskHandle);
      fixture_spin(3);
      remcov_remote_stop();
    }
    // Local tracing works again as well.
    RawDevice local(1 << 14);
    ASSERT_EQ(
        remcov_ioctl(local.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
    local.Reset();
    fixture_spin(2);
    ASSERT_EQ(remcov_ioctl(local.fd(), REMCOV_KCOV_DISABLE, 0), 0);
    EXPECT_EQ(FixtureFunctions(local.Pcs()),
              std::set<std::string>{"fixture_spin"});
    g_returned = 0;
    raise(SIGUSR2);  // and so do handler sections
    EXPECT_EQ(g_returned.load(), 1);
  });
  th.join();
  const remcov_runtime_stats_t after = Stats();
  EXPECT_EQ(after.irq_pool_exhausted, before.irq_pool_exhausted);
  EXPECT_EQ(after.refused_sections, before.refused_sections);
  EXPECT_EQ(after.signal_sections, before.signal_sections + kThreads + 1);
  // Each abandoned section and each task section was moved.
  EXPECT_EQ(d.Stats().sections_moved, 2u * kThreads + 1);
  EXPECT_EQ(FixtureFunctions(d.Pcs()),
            (std::set<std::string>{"fixture_in_handler", "fixture_spin"}));
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

TEST(AbandonedHandlerTest, LocalTracingResumesAfterTheNextSectionCall) {
  Install(SIGUSR1, NoSectionThenJump);
  std::thread th([] {
    RawDevice local(1 << 14);
    ASSERT_EQ(
        remcov_ioctl(local.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
    if (sigsetjmp(t_env, 1) == 0) raise(SIGUSR1);
    // Refused (the thread traces), but it finds the handler gone.
    remcov_remote_start(Usb(0x9103));
    remcov_remote_stop();
    local.Reset();
    fixture_spin(2);
    ASSERT_EQ(remcov_ioctl(local.fd(), REMCOV_KCOV_DISABLE, 0), 0);
    EXPECT_EQ(FixtureFunctions(local.Pcs()),
              std::set<std::string>{"fixture_spin"});
  });
  th.join();
  signal(SIGUSR1, SIG_DFL);
}

TEST(AbandonedHandlerTest, CommonHandleComesBackAfterAJumpOut) {
  Install(SIGUSR1, NoSectionThenJump);
  std::thread th([] {
    RawDevice d(1 << 12);
    const uint64_t common =
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x9104);
    std::vector<uint64_t> buf(3);
    auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf.data());
    ra->trace_mode = REMCOV_KCOV_TRACE_PC;
    ra->area_size = 1 << 10;
    ra->num_handles = 0;
    ra->common_handle = common;
    ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra)),
              0);
    EXPECT_EQ(remcov_common_handle(), common);
    if (sigsetjmp(t_env, 1) == 0) raise(SIGUSR1);
    // In a handler it would be 0 (the kernel's in_task() check).
    EXPECT_EQ(remcov_common_handle(), common);
    EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  });
  th.join();
  signal(SIGUSR1, SIG_DFL);
}

TEST(AbandonedHandlerTest, JumpFromANestedHandlerBackIntoItsOuterHandler) {
  RawDevice d(1 << 16);
  RemoteOwner owner(d.fd(), {kHandlerHandle}, 0, 1 << 12);
  Install(SIGUSR1, OuterHandler);
  Install(SIGILL, InnerSectionThenJump);
  const remcov_runtime_stats_t before = Stats();
  g_returned = 0;
  std::thread th([] {
    for (int i = 0; i < kThreads; i++) raise(SIGUSR1);
  });
  th.join();
  EXPECT_EQ(g_returned.load(), kThreads);
  const remcov_runtime_stats_t after = Stats();
  EXPECT_EQ(after.irq_pool_exhausted, before.irq_pool_exhausted);
  EXPECT_EQ(after.refused_sections, before.refused_sections);
  EXPECT_EQ(after.signal_sections, before.signal_sections + 2 * kThreads);
  EXPECT_EQ(d.Stats().sections_moved, 2u * kThreads);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGILL, SIG_DFL);
}

}  // namespace
}  // namespace remcov::testing
