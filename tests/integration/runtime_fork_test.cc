// SPDX-License-Identifier: Apache-2.0
// fork() from a process whose other threads are inside the runtime: the child
// must return from fork and behave as a fresh kernel task (kcov_task_init:
// nothing traced until it enables a device of its own).
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

// In the child: a device of its own traces the fixture. 0 = ok, else a code.
int ChildUsesItsOwnDevice() {
  int fd = remcov_open();
  if (fd < 0) return 10;
  if (remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, 4096) != 0) return 11;
  auto* area = static_cast<unsigned long*>(remcov_mmap(
      nullptr, 4096 * sizeof(unsigned long), PROT_READ, MAP_SHARED, fd, 0));
  if (area == MAP_FAILED) return 12;
  if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
    return 13;
  (void)fixture_parse("KCOV", 4);
  const unsigned long n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
  if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0) return 14;
  return n > 0 ? 0 : 15;
}

// Waits up to `seconds` for pid; kills it and returns -1 if it did not exit.
int WaitWithTimeout(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 100; i++) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

TEST(ForkTest, ChildReturnsFromForkWhileOtherThreadsMoveSections) {
  RawDevice dev(1 << 16);
  const uint64_t handle = REMCOV_KCOV_SUBSYSTEM_USB | 0x77;
  RemoteOwner owner(dev.fd(), {handle});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sections{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; i++) {
    workers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        remcov_remote_start(handle);
        (void)fixture_parse("1234", 4);
        remcov_remote_stop();
        sections.fetch_add(1, std::memory_order_relaxed);
        dev.Reset();  // keep room: every section moves
      }
    });
  }
  while (sections.load() < 100) std::this_thread::yield();
  int hung = 0, failed = 0;
  constexpr int kForks = 200;
  for (int i = 0; i < kForks; i++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << strerror(errno);
    if (pid == 0) _exit(ChildUsesItsOwnDevice());
    const int rc = WaitWithTimeout(pid, 5);
    if (rc == -1) hung++;
    if (rc > 0) failed++;
    if (hung + failed >= 3) break;  // enough to fail; spare the time
  }
  stop = true;
  for (auto& t : workers) t.join();
  EXPECT_EQ(hung, 0) << "children that never returned from fork (of " << kForks
                     << ")";
  EXPECT_EQ(failed, 0) << "children that could not trace with a device of "
                          "their own";
  EXPECT_GT(sections.load(), 100u);
}

}  // namespace
}  // namespace remcov::testing
