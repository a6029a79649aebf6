// SPDX-License-Identifier: Apache-2.0
// One device across descriptors and processes, as the kernel's struct kcov
// (kernel/kcov.c: kcov_open, kcov_ioctl_locked, kcov_mmap, kcov_close,
// kcov_task_exit): dup, dup2, dup3 and fcntl(F_DUPFD) name the same device;
// a child of fork shares it (the parent's enable is seen, the child's too);
// the owner's process ending without a DISABLE (exit, _exit, SIGKILL, a
// zombie not yet reaped) returns the device to INIT.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

constexpr unsigned long kWords = 1 << 14;

int Errno(int rc) { return rc == 0 ? 0 : errno; }

unsigned long* MapArea(int fd, unsigned long words = kWords) {
  void* p = remcov_mmap(nullptr, words * sizeof(unsigned long),
                        PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<unsigned long*>(p);
}

unsigned long CountOf(const unsigned long* area) {
  return __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
}

std::set<std::string> FunctionsIn(const unsigned long* area) {
  std::vector<uint64_t> pcs(area + 1, area + 1 + CountOf(area));
  return FixtureFunctions(pcs);
}

// A pipe the parent waits on until a child reports a step.
class Signal {
 public:
  Signal() { EXPECT_EQ(pipe2(p_, O_CLOEXEC), 0); }
  ~Signal() {
    close(p_[0]);
    close(p_[1]);
  }
  void Send(char c) { (void)!write(p_[1], &c, 1); }
  char Wait() {
    char c = 0;
    return read(p_[0], &c, 1) == 1 ? c : 0;
  }

 private:
  int p_[2];
};

TEST(DeviceSharingTest, DupFamilyNamesOneDevice) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  int d1 = dup(fd);
  int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 300);
  int d3 = dup3(fd, 301, O_CLOEXEC);
  int d4 = dup2(fd, 302);
  ASSERT_GE(d1, 0);
  ASSERT_EQ(d2, 300);
  ASSERT_EQ(d3, 301);
  ASSERT_EQ(d4, 302);
  // INIT_TRACE through one; the others see an INIT device.
  ASSERT_EQ(remcov_ioctl(d1, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  EXPECT_EQ(Errno(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords)), EBUSY);
  EXPECT_EQ(Errno(remcov_ioctl(d4, REMCOV_KCOV_INIT_TRACE, kWords)), EBUSY);
  unsigned long* area = MapArea(d2);
  ASSERT_NE(area, nullptr);
  // A wrong size is refused through a dup as through the original.
  EXPECT_EQ(remcov_mmap(nullptr, 2 * kWords * sizeof(unsigned long), PROT_READ,
                        MAP_SHARED, d3, 0),
            MAP_FAILED);
  ASSERT_EQ(remcov_ioctl(d3, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  // Enabled through d3: a second ENABLE through any descriptor is EINVAL.
  EXPECT_EQ(Errno(remcov_ioctl(d4, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC)),
            EINVAL);
  area[0] = 0;
  (void)fixture_parse("KCOV", 4);
  const unsigned long n = CountOf(area);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_GT(n, 0u);
  EXPECT_EQ(FunctionsIn(area).count("fixture_parse"), 1u);
  munmap(area, kWords * sizeof(unsigned long));
  for (int x : {d1, d2, d3, d4, fd}) EXPECT_EQ(remcov_close(x), 0);
}

// syz-executor's pattern: open, dup2 to a fixed number, close the original.
TEST(DeviceSharingTest, DupToFixedNumberThenCloseOriginal) {
  constexpr int kFixed = 250;
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, kFixed), kFixed);
  ASSERT_EQ(remcov_close(fd), 0);
  ASSERT_EQ(remcov_ioctl(kFixed, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  unsigned long* area = MapArea(kFixed);
  ASSERT_NE(area, nullptr);
  ASSERT_EQ(remcov_ioctl(kFixed, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  area[0] = 0;
  (void)fixture_parse("KCOV", 4);
  ASSERT_EQ(remcov_ioctl(kFixed, REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_GT(CountOf(area), 0u);
  munmap(area, kWords * sizeof(unsigned long));
  ASSERT_EQ(remcov_close(kFixed), 0);
  // Closed: the number is no file any more.
  EXPECT_EQ(Errno(remcov_ioctl(kFixed, REMCOV_KCOV_INIT_TRACE, kWords)), EBADF);
}

// Closing one of two descriptors keeps the device and its state.
TEST(DeviceSharingTest, CloseOfOneDescriptorKeepsTheDevice) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  int other = dup(fd);
  ASSERT_GE(other, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  ASSERT_EQ(remcov_close(fd), 0);
  // Still INIT (not a fresh DISABLED device): INIT_TRACE is EBUSY, mmap works.
  EXPECT_EQ(Errno(remcov_ioctl(other, REMCOV_KCOV_INIT_TRACE, kWords)), EBUSY);
  unsigned long* area = MapArea(other);
  ASSERT_NE(area, nullptr);
  ASSERT_EQ(remcov_ioctl(other, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  ASSERT_EQ(remcov_ioctl(other, REMCOV_KCOV_DISABLE, 0), 0);
  munmap(area, kWords * sizeof(unsigned long));
  EXPECT_EQ(remcov_close(other), 0);
}

// kernel: INIT_TRACE commits the area (vmalloc_user) or fails with ENOMEM.
// The runtime allocates the file's pages there: a page faulted in later
// could not be had (SIGBUS in a callback).
TEST(DeviceSharingTest, InitTraceCommitsTheArea) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  // A fresh device holds its control page only.
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, page);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512,
            kWords * sizeof(unsigned long) + page);
  remcov_close(fd);
}

// A memfd that is not a device gets the memfd's own answers.
TEST(DeviceSharingTest, OtherMemfdIsNotADevice) {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "other", MFD_CLOEXEC));
  ASSERT_GE(fd, 0);
  // Large enough to hold a control page, but without its magic.
  ASSERT_EQ(ftruncate(fd, off_t{1} << 32), 0);
  EXPECT_EQ(Errno(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords)), ENOTTY);
  remcov_device_stats_t st;
  EXPECT_EQ(remcov_device_stats(fd, &st), REMCOV_E_NOTFOUND);
  close(fd);
}

TEST(DeviceSharingTest, ChildSeesTheParentsEnable) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  unsigned long* area = MapArea(fd);
  ASSERT_NE(area, nullptr);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  const int rc = InChild([&] {
    // kernel: the mode is no longer INIT (EINVAL); the child is not the
    // owner task (DISABLE: EINVAL); INIT_TRACE: EBUSY.
    if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) == 0 ||
        errno != EINVAL)
      return 1;
    if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) == 0 || errno != EINVAL)
      return 2;
    if (remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords) == 0 || errno != EBUSY)
      return 3;
    // The child traces nothing into the parent's area (kcov_task_init).
    const unsigned long before = CountOf(area);
    (void)fixture_parse("KCOV", 4);
    return CountOf(area) == before ? 0 : 4;
  });
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(rc, 0);
  munmap(area, kWords * sizeof(unsigned long));
  remcov_close(fd);
}

// The fork server's per-input pattern: the parent keeps the device INIT,
// each child enables it, runs, and ends without DISABLE; the parent reads
// what the child recorded and the next child enables again.
TEST(DeviceSharingTest, ChildrenEnableTheParentsDeviceInTurn) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  unsigned long* area = MapArea(fd);
  ASSERT_NE(area, nullptr);
  constexpr int kChildren = 50;
  int failed = 0, empty = 0;
  for (int i = 0; i < kChildren; i++) {
    area[0] = 0;
    const int rc = InChild([&] {
      if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
        return 1;
      (void)fixture_parse("KCOV", 4);
      // Alternate the three ways a process ends without DISABLE.
      if (i % 3 == 0) exit(0);   // atexit: the runtime disables
      if (i % 3 == 1) _exit(0);  // reaped by the next ENABLE
      raise(SIGKILL);            // likewise
      return 2;
    });
    if (rc != 0 && rc != 100 + SIGKILL) failed++;
    if (FunctionsIn(area).count("fixture_parse") != 1) empty++;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(empty, 0) << "children whose coverage the parent did not see";
  // The last child is reaped by the parent's own ENABLE.
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  // exit() disables at exit (kcov_task_exit); _exit and SIGKILL are noticed
  // by the next ENABLE.
  const int reaped = kChildren - (kChildren + 2) / 3;
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, static_cast<uint64_t>(reaped));
  munmap(area, kWords * sizeof(unsigned long));
  remcov_close(fd);
}

// While a child owns the device, the parent gets the kernel's answers; once
// the child is killed (even before it is reaped) the device is INIT again.
TEST(DeviceSharingTest, OwnerKilledReturnsTheDeviceToInit) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  Signal ready;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
      _exit(1);
    ready.Send('e');
    for (;;) pause();
  }
  ASSERT_EQ(ready.Wait(), 'e');
  EXPECT_EQ(Errno(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC)),
            EINVAL);
  EXPECT_EQ(Errno(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0)), EINVAL);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // A zombie is dead: wait for the exit without reaping it.
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, 1u);
  waitpid(pid, nullptr, 0);
  remcov_close(fd);
}

// A child's INIT_TRACE on a device the parent opened sets it up for both.
TEST(DeviceSharingTest, ChildInitTraceIsSeenByTheParent) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(InChild([&] {
              return remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords) == 0 ? 0
                                                                           : 1;
            }),
            0);
  EXPECT_EQ(Errno(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords)), EBUSY);
  // The size the child chose is the device's.
  EXPECT_EQ(remcov_mmap(nullptr, 2 * kWords * sizeof(unsigned long), PROT_READ,
                        MAP_SHARED, fd, 0),
            MAP_FAILED);
  unsigned long* area = MapArea(fd);
  ASSERT_NE(area, nullptr);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  area[0] = 0;
  (void)fixture_parse("KCOV", 4);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_GT(CountOf(area), 0u);
  munmap(area, kWords * sizeof(unsigned long));
  remcov_close(fd);
}

// The counters are the device's: what a child drops is reported to the
// parent.
TEST(DeviceSharingTest, ChildsOverflowIsCountedOnTheDevice) {
  constexpr unsigned long kSmall = 2;  // room for one PC
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kSmall), 0);
  ASSERT_EQ(
      InChild([&] {
        if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
          return 1;
        (void)fixture_parse("KCOV", 4);
        return remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) == 0 ? 0 : 2;
      }),
      0);
  EXPECT_GT(RawDevice::StatsFor(fd).overflow_entries, 0u);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, 0u);
  remcov_close(fd);
}

// A device received by a process that never made it (here: inherited, then
// found under a new number) is the same device.
TEST(DeviceSharingTest, ChildFindsInheritedDeviceUnderANewNumber) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  ASSERT_EQ(
      InChild([&] {
        int moved = fcntl(fd, F_DUPFD, 400);
        if (moved < 0 || remcov_close(fd) != 0) return 1;
        if (remcov_ioctl(moved, REMCOV_KCOV_INIT_TRACE, kWords) == 0 ||
            errno != EBUSY)
          return 2;
        if (remcov_ioctl(moved, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
          return 3;
        return remcov_ioctl(moved, REMCOV_KCOV_DISABLE, 0) == 0 ? 0 : 4;
      }),
      0);
  // The child's close dropped only its own reference.
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  remcov_close(fd);
}

// kernel: exec keeps the task and its t->kcov. A child enables a device and
// execs an instrumented program with the descriptor (a dup2 to a fixed
// number: not close-on-exec); the new image traces into it from its start
// and, being the owner, may disable it.
int ExecChild(int fd, const char* how, unsigned long request) {
  constexpr int kFixed = 240;
  return InChild([&] {
    if (dup2(fd, kFixed) != kFixed) return 90;
    if (request == REMCOV_KCOV_ENABLE &&
        remcov_ioctl(kFixed, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
      return 91;
    if (request == REMCOV_KCOV_REMOTE_ENABLE) {
      remcov_kcov_remote_arg arg{};
      arg.trace_mode = REMCOV_KCOV_TRACE_PC;
      arg.area_size = 4096;
      arg.common_handle = REMCOV_KCOV_SUBSYSTEM_COMMON | 0x42;
      if (remcov_ioctl(kFixed, REMCOV_KCOV_REMOTE_ENABLE,
                       reinterpret_cast<unsigned long>(&arg)) != 0)
        return 92;
    }
    const std::string fd_arg = std::to_string(kFixed);
    const std::string words = std::to_string(kWords);
    execl(REMCOV_EXEC_IMAGE, REMCOV_EXEC_IMAGE, how, fd_arg.c_str(),
          words.c_str(), static_cast<char*>(nullptr));
    return 93;
  });
}

TEST(DeviceSharingTest, ExecKeepsTracingIntoTheOwnersDevice) {
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  unsigned long* area = MapArea(fd);
  ASSERT_NE(area, nullptr);
  EXPECT_EQ(ExecChild(fd, "traces", REMCOV_KCOV_ENABLE), 0);
  // What the new image recorded is in the area; it disabled the device.
  EXPECT_GT(CountOf(area), 0u);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, 0u);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  munmap(area, kWords * sizeof(unsigned long));
  remcov_close(fd);
}

// The owner task is the one that execs, whatever its descriptors and thread
// (kernel: exec keeps the calling task and its t->kcov; de_thread ends the
// process's other threads, and kcov_task_exit returns their devices to
// INIT). The exec prepares the devices (device.cc, PrepareExec):
//  * enabled through remcov_open's close-on-exec descriptor, the device is
//    still traced by the new image, which knows no descriptor of it: what it
//    records is in the area the test maps;
//  * enabled and exec'd by a thread other than the process's first, the new
//    image (whose one thread has the process's pid) traces and may DISABLE;
//  * enabled by the first thread while another one execs: the owner ended,
//    so the new image finds the device INIT (its ENABLE succeeds).
TEST(DeviceSharingTest, ExecKeepsTheExecingTasksDeviceAndEndsTheOthers) {
  constexpr int kFixed = 241;
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  unsigned long* area = MapArea(fd);
  ASSERT_NE(area, nullptr);
  const std::string fixed = std::to_string(kFixed);
  const std::string words = std::to_string(kWords);
  // 1. Only close-on-exec descriptors.
  EXPECT_EQ(
      InChild([&] {
        if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
          return 91;
        __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
        execl(REMCOV_EXEC_IMAGE, REMCOV_EXEC_IMAGE, "blind",
              static_cast<char*>(nullptr));
        return 93;
      }),
      0);
  EXPECT_GT(CountOf(area), 0u) << "the new image recorded nothing";
  // Its process ended without DISABLE: INIT again once asked (counted).
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  const uint64_t exits = RawDevice::StatsFor(fd).owner_exits;
  // 2. and 3.: in a program started for it (threads in a fork child of this
  // multi-threaded process would not do under TSan), the device's descriptor
  // on kFixed.
  auto from_thread = [&](const char* who) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, kFixed);
    char* const argv[] = {const_cast<char*>(REMCOV_EXEC_IMAGE),
                          const_cast<char*>("from-thread"),
                          const_cast<char*>(who),
                          const_cast<char*>(fixed.c_str()),
                          const_cast<char*>(words.c_str()),
                          nullptr};
    pid_t pid = -1;
    int status = -1;
    if (posix_spawn(&pid, REMCOV_EXEC_IMAGE, &fa, nullptr, argv, environ) !=
            0 ||
        waitpid(pid, &status, 0) != pid)
      status = -1;
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  // 2. Enabled and exec'd by a second thread: "traces" recorded, and its
  // DISABLE succeeded.
  EXPECT_EQ(from_thread("thread"), 0);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, exits);
  // 3. Enabled by the first thread, exec'd by another: the owner ended, and
  // "idle"'s ENABLE succeeded; the ended owner was counted.
  EXPECT_EQ(from_thread("main"), 0);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, exits + 1);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  munmap(area, kWords * sizeof(unsigned long));
  remcov_close(fd);
}

// A remote owner stays the owner across exec (the kernel's task keeps t->kcov
// and its registrations): the new image's ENABLE is refused (exec_image idle
// exits 6), its DISABLE succeeds and leaves the device INIT; nothing is
// counted as an owner's exit. (Its sections: domain_test's ExecTest.)
TEST(DeviceSharingTest, ExecKeepsARemoteOwnership) {
  constexpr int kEnableRefused = 6;
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  EXPECT_EQ(ExecChild(fd, "idle", REMCOV_KCOV_REMOTE_ENABLE), kEnableRefused);
  EXPECT_EQ(ExecChild(fd, "remote-owner", REMCOV_KCOV_REMOTE_ENABLE), 0);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, 0u);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  remcov_close(fd);
}

// posix_spawn, vfork + exec and system make a new task without the
// runtime's fork handlers (glibc's posix_spawn and system clone with
// CLONE_VM | CLONE_VFORK): the parent's state stays intact, and the new
// program, which inherits a descriptor of the parent's enabled device, is not
// its owner (kcov_task_init: a new task has no kcov).
TEST(DeviceSharingTest, SpawnedProgramsAreNotTheOwner) {
  constexpr int kInherited = 241;
  int fd = remcov_open();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords), 0);
  unsigned long* area = MapArea(fd);
  ASSERT_NE(area, nullptr);
  ASSERT_EQ(dup2(fd, kInherited), kInherited);  // survives exec
  ASSERT_EQ(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  const std::string fd_arg = std::to_string(kInherited);
  const std::string words = std::to_string(kWords);
  char* const argv[] = {const_cast<char*>(REMCOV_EXEC_IMAGE),
                        const_cast<char*>("idle"),
                        const_cast<char*>(fd_arg.c_str()),
                        const_cast<char*>(words.c_str()), nullptr};
  // exec_image idle exits 6 when its ENABLE fails: EINVAL, the device is
  // enabled (by this thread).
  constexpr int kEnableRefused = 6;
  auto exit_code = [](int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  pid_t pid = -1;
  ASSERT_EQ(
      posix_spawn(&pid, REMCOV_EXEC_IMAGE, nullptr, nullptr, argv, environ), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code(status), kEnableRefused) << "posix_spawn";
  pid = vfork();
  if (pid == 0) {
    execv(REMCOV_EXEC_IMAGE, argv);
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code(status), kEnableRefused) << "vfork";
  const std::string cmd =
      std::string(REMCOV_EXEC_IMAGE) + " idle " + fd_arg + " " + words;
  status = system(cmd.c_str());
  EXPECT_EQ(exit_code(status), kEnableRefused) << "system";
  // The parent still owns its device and traces.
  area[0] = 0;
  (void)fixture_parse("KCOV", 4);
  EXPECT_GT(CountOf(area), 0u);
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(RawDevice::StatsFor(fd).owner_exits, 0u);
  munmap(area, kWords * sizeof(unsigned long));
  remcov_close(kInherited);
  remcov_close(fd);
}

}  // namespace
}  // namespace remcov::testing
