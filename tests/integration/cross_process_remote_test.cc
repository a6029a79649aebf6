// SPDX-License-Identifier: Apache-2.0
// Remote sections across fork, as in the kernel (kernel/fork.c: copy_process
// -> kcov_task_init keeps kcov_handle; remote handles are system-wide;
// kernel/kcov.c: kcov_remote_start/kcov_move_area): a child's sections with
// its parent's registered handles, or with the common handle it inherited,
// land in the parent's device, exactly; after a DISABLE in the parent the
// child's sections find no registration; a child killed in the middle
// of its sections (SIGKILL, also while it holds the move lock) never blocks
// the others and never leaves a partial section in the area.
//
// The children run their sections on their only thread: TSan refuses threads
// in the child of a multi-threaded process.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "runtime/device.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

constexpr uint64_t kHandle = REMCOV_KCOV_SUBSYSTEM_USB | 0x4242;

void Section() { (void)fixture_parse("1234", 4); }

// Runs `sections` sections with `handle` in the calling (child) process.
void RunSections(uint64_t handle, int sections) {
  for (int i = 0; i < sections; i++) {
    remcov_remote_start(handle);
    Section();
    remcov_remote_stop();
  }
}

// Forks a child that takes both halves of the move lock of the device on fd
// and keeps them, alive, until it is killed (or its parent dies). Returns its
// pid once it holds them; -1 on failure.
pid_t ForkMoveLockHolder(int fd) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    internal::Device* d = internal::DeviceForTesting(fd);
    if (d == nullptr) _exit(1);
    internal::HoldMoveLockForTesting(d);
    (void)!write(ready[1], "h", 1);
    for (;;) pause();
  }
  char c = 0;
  const bool held = pid > 0 && read(ready[0], &c, 1) == 1;
  close(ready[0]);
  close(ready[1]);
  return held ? pid : -1;
}

TEST(CrossProcessRemoteTest, ChildSectionsWithRegisteredHandleReachParent) {
  const uint64_t per_section = PcsOf(Section);
  ASSERT_GT(per_section, 0u);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  constexpr int kChildren = 6, kSections = 20;
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; c++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << strerror(errno);
    if (pid == 0) {
      RunSections(kHandle, kSections);
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // Every section whole, nothing else: exactly kChildren * kSections
  // sections' worth of the fixture's PCs.
  EXPECT_EQ(dev.Count(), per_section * kChildren * kSections);
  EXPECT_EQ(FixtureFunctions(dev.Pcs()),
            (std::set<std::string>{"fixture_parse", "fixture_digits"}));
  const remcov_device_stats_t s = dev.Stats();
  EXPECT_EQ(s.sections_started, uint64_t{kChildren * kSections});
  EXPECT_EQ(s.sections_moved, uint64_t{kChildren * kSections});
  EXPECT_EQ(s.sections_dropped, 0u);
  EXPECT_EQ(s.overflow_entries, 0u);
}

// The kernel's handle table is global, so a registration made after a fork
// reaches processes forked before it: here through the family domain the
// parent made at its first fork (docs/kcov.md, difference 7). A child forked
// first waits for the parent's REMOTE_ENABLE and then runs sections with the
// handle: they land in the parent's device, exactly.
TEST(CrossProcessRemoteTest, HandlesRegisteredAfterTheForkReachTheChild) {
  constexpr uint64_t kLate = REMCOV_KCOV_SUBSYSTEM_USB | 0x4343;
  constexpr int kSections = 5;
  const uint64_t per_section = PcsOf(Section);
  ASSERT_GT(per_section, 0u);
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << strerror(errno);
  if (pid == 0) {
    char c = 0;
    if (read(go[0], &c, 1) != 1) _exit(2);
    RunSections(kLate, kSections);
    _exit(0);
  }
  RawDevice dev(1 << 16);
  {
    RemoteOwner owner(dev.fd(), {kLate});
    ASSERT_EQ(write(go[1], "g", 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  close(go[0]);
  close(go[1]);
  EXPECT_EQ(dev.Count(), per_section * kSections);
  EXPECT_EQ(dev.Stats().sections_moved, uint64_t{kSections});
  remcov_runtime_stats_t rs;
  ASSERT_EQ(remcov_runtime_stats(&rs), REMCOV_OK);
  EXPECT_EQ(rs.family_domain_failures, 0u);
}

// And the other way: a child's registration reaches its parent and a sibling
// forked before it (the kernel: one table for every task).
TEST(CrossProcessRemoteTest, AChildsRegistrationReachesItsParentAndSiblings) {
  constexpr uint64_t kChilds = REMCOV_KCOV_SUBSYSTEM_USB | 0x4444;
  constexpr int kSections = 3;
  const uint64_t per_section = PcsOf(Section);
  ASSERT_GT(per_section, 0u);
  int sib_go[2], ready[2], done[2];
  ASSERT_EQ(pipe(sib_go), 0);
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t sibling = fork();
  ASSERT_GE(sibling, 0);
  if (sibling == 0) {
    char c = 0;
    if (read(sib_go[0], &c, 1) != 1) _exit(2);
    RunSections(kChilds, kSections);
    _exit(0);
  }
  const pid_t registrant = fork();
  ASSERT_GE(registrant, 0);
  if (registrant == 0) {
    // Its own device, registered on its only thread (no RemoteOwner thread:
    // TSan refuses threads in this child); it waits for the others' sections
    // and exits 0 when exactly theirs arrived.
    int code = 0;
    {
      RawDevice own(1 << 16);
      if (RemoteEnableHere(own.fd(), {kChilds}) != 0) _exit(3);
      char c = 'r';
      if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1) _exit(4);
      code = own.Count() == per_section * kSections * 2 ? 0 : 5;
      if (remcov_ioctl(own.fd(), REMCOV_KCOV_DISABLE, 0) != 0) code = 6;
    }
    _exit(code);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  RunSections(kChilds, kSections);  // the parent, on this thread
  ASSERT_EQ(write(sib_go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(sibling, &status, 0), sibling);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(write(done[1], "d", 1), 1);
  ASSERT_EQ(waitpid(registrant, &status, 0), registrant);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "3: REMOTE_ENABLE failed, 5: not exactly the parent's and the "
         "sibling's sections arrived, 6: DISABLE failed";
  for (int* p : {sib_go, ready, done}) {
    close(p[0]);
    close(p[1]);
  }
}

// A child that closes every inherited descriptor (close_range, as daemons and
// sandboxes do) drops its references to the files, as a kernel process would;
// the device lives on in the parent, and the child's sections with the
// parent's handle still land there (a remote section names the handle, not a
// descriptor: kernel/kcov.c, kcov_remote_start).
TEST(CrossProcessRemoteTest, ChildThatClosesItsDescriptorsStillReachesParent) {
  const uint64_t per_section = PcsOf(Section);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  const int fd = dev.fd();
  EXPECT_EQ(
      InChild([fd] {
        if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) return 1;
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) return 2;
        // The descriptor is gone: the device calls say so.
        if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != -1 || errno != EBADF)
          return 3;
        RunSections(kHandle, 4);
        return 0;
      }),
      0)
      << "1: close_range; 2: the descriptor survived; 3: DISABLE on it";
  EXPECT_EQ(dev.Count(), per_section * 4);
  // And the parent's device is unaffected.
  EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, 1 << 16), -1);
  EXPECT_EQ(errno, EBUSY);
}

TEST(CrossProcessRemoteTest, ForkedChildInheritsTheCommonHandle) {
  const uint64_t per_section = PcsOf(Section);
  const uint64_t common =
      REMCOV_KCOV_SUBSYSTEM_COMMON | (static_cast<uint64_t>(getpid()) & 0xffff);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {}, common);
  int rc = -1;
  // Forked by the owner thread: the child's task carries its kcov_handle.
  owner.RunOnOwner([&] {
    rc = InChild([&] {
      if (remcov_common_handle() != common) return 1;
      RunSections(remcov_common_handle(), 3);
      return 0;
    });
  });
  EXPECT_EQ(rc, 0) << "1: the child's common handle differs";
  EXPECT_EQ(dev.Count(), per_section * 3);
  // A child of another thread has no common handle (kcov_handle is per task).
  EXPECT_EQ(InChild([] { return remcov_common_handle() == 0 ? 0 : 1; }), 0);
}

TEST(CrossProcessRemoteTest, DisableInParentDropsChildSectionsCounted) {
  RawDevice dev(1 << 16);
  int to_child[2], from_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(from_child), 0);
  auto owner = std::make_unique<RemoteOwner>(dev.fd(), std::vector{kHandle});
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Registered in the parent: a device of the child's own cannot take the
    // handle (EEXIST, as the kernel's system-wide table answers).
    RawDevice mine(4096);
    uint64_t buf[4] = {};
    auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
    ra->trace_mode = REMCOV_KCOV_TRACE_PC;
    ra->area_size = 4096;
    ra->num_handles = 1;
    buf[3] = kHandle;
    int code = 0;
    if (remcov_ioctl(mine.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                     reinterpret_cast<unsigned long>(ra)) == 0 ||
        errno != EEXIST)
      code |= 1;
    char c;
    if (write(from_child[1], "r", 1) != 1) code |= 2;
    if (read(to_child[0], &c, 1) != 1) code |= 2;  // the parent disabled
    RunSections(kHandle, 2);  // dropped: the registration is gone
    // Once the parent's registration is gone, the child may take the handle.
    if (remcov_ioctl(mine.fd(), REMCOV_KCOV_REMOTE_ENABLE,
                     reinterpret_cast<unsigned long>(ra)) != 0)
      code |= 4;
    else if (remcov_ioctl(mine.fd(), REMCOV_KCOV_DISABLE, 0) != 0)
      code |= 8;
    _exit(code);
  }
  char c;
  ASSERT_EQ(read(from_child[0], &c, 1), 1);
  owner.reset();  // KCOV_DISABLE in the parent
  ASSERT_EQ(write(to_child[1], "d", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: EEXIST expected while the parent's registration stands; "
         "4/8: REMOTE_ENABLE/DISABLE of the handle once it was gone";
  // The child's sections after the DISABLE find no registration, as in the
  // kernel: nothing in the area, nothing started.
  EXPECT_EQ(dev.Count(), 0u);
  EXPECT_EQ(dev.Stats().sections_moved, 0u);
  EXPECT_EQ(dev.Stats().sections_started, 0u)
      << "a section bound to a disabled registration was started";
  for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]})
    close(fd);
}

// Children run sections without pause; the test kills one at a random moment
// (SIGKILL: possibly inside a section, possibly holding the move lock) and
// forks a replacement, kKills times. Nothing hangs; every section in the area
// is whole; what the killed children had not published is accounted for:
// started = stored whole + lost, with at most one section lost per kill.
TEST(CrossProcessRemoteTest, ChildrenKilledAtRandomNeverBlockTheOthers) {
  const uint64_t per_section = PcsOf(Section);
  ASSERT_GT(per_section, 0u);
  constexpr int kRunning = 3;
  constexpr int kKills = 1000;
  // Each child runs at most this many sections, then waits to be killed:
  // the area is sized so that it never fills.
  constexpr int kSectionsPerChild = 100;
  unsigned long words = 1;
  while (words < 2 * (kKills + kRunning + 1) * kSectionsPerChild * per_section)
    words *= 2;
  RawDevice dev(words);
  RemoteOwner owner(dev.fd(), {kHandle});
  const pid_t parent = getpid();
  auto spawn = [parent] {
    pid_t pid = fork();
    if (pid == 0) {
      // Never outlive the test, whatever happens to it.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(1);
      RunSections(kHandle, kSectionsPerChild);
      for (;;) pause();
    }
    return pid;
  };
  std::vector<pid_t> running;
  for (int i = 0; i < kRunning; i++) running.push_back(spawn());
  std::mt19937 rng(12345);
  for (int k = 0; k < kKills; k++) {
    const size_t victim = rng() % kRunning;
    struct timespec ts = {0, static_cast<long>(rng() % 300) * 1000};
    nanosleep(&ts, nullptr);
    ASSERT_EQ(kill(running[victim], SIGKILL), 0);
    ASSERT_EQ(waitpid(running[victim], nullptr, 0), running[victim]);
    running[victim] = spawn();
    ASSERT_GT(running[victim], 0);
  }
  for (pid_t pid : running) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  const int killed = kKills + kRunning;
  const uint64_t count = dev.Count();
  EXPECT_EQ(count % per_section, 0u) << "a partial section is in the area";
  const uint64_t stored = count / per_section;
  const remcov_device_stats_t s = dev.Stats();
  EXPECT_EQ(s.overflow_entries, 0u);
  EXPECT_EQ(s.sections_dropped, 0u);
  EXPECT_GT(stored, static_cast<uint64_t>(killed)) << "sections ran";
  // A child killed between its move's publication and the counter after it
  // stored a section the counter does not show; only a holder that died can.
  EXPECT_GE(stored, s.sections_moved);
  EXPECT_LE(stored, s.sections_moved + s.move_holders_died);
  ASSERT_GE(s.sections_started, stored);
  const uint64_t lost = s.sections_started - stored;
  EXPECT_LE(lost, static_cast<uint64_t>(killed))
      << "at most one section in flight per killed child";
  // And the device still works: one more child's sections arrive whole.
  const uint64_t before = dev.Count();
  EXPECT_EQ(InChild([] {
              RunSections(kHandle, 5);
              return 0;
            }),
            0);
  EXPECT_EQ(dev.Count() - before, per_section * 5);
  RecordProperty("stored_sections", std::to_string(stored));
  RecordProperty("lost_sections", std::to_string(lost));
  RecordProperty("move_holders_died", std::to_string(s.move_holders_died));
}

// A process that dies holding the move lock: the next mover finds the holder
// gone (a zombie not yet reaped, then a reaped process), takes the lock over
// and counts it; nothing hangs.
TEST(CrossProcessRemoteTest, MoveLockOfADeadProcessIsTakenOver) {
  const uint64_t per_section = PcsOf(Section);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  for (const bool reap_first : {false, true}) {
    SCOPED_TRACE(reap_first ? "reaped holder" : "zombie holder");
    const pid_t pid = ForkMoveLockHolder(dev.fd());
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    if (reap_first) {
      ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
    } else {
      // Dead but not reaped: wait until /proc shows the zombie.
      siginfo_t info;
      ASSERT_EQ(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
    }
    const uint64_t died = dev.Stats().move_holders_died;
    const uint64_t before = dev.Count();
    RunSections(kHandle, 2);  // in this process: takes the lock over
    EXPECT_EQ(dev.Count() - before, 2 * per_section);
    EXPECT_EQ(dev.Stats().move_holders_died, died + 1);
    if (!reap_first) {
      ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
    }
  }
}

// A process that holds the move lock and does not let go while alive (stuck,
// or a hostile domain member): a mover gives up after the wait limit (2 s),
// drops its section whole and counts it; DISABLE goes on likewise. Nothing
// hangs, and once the holder is gone sections arrive again.
TEST(CrossProcessRemoteTest, MoveLockHeldByALiveProcessIsGivenUpAndCounted) {
  const uint64_t per_section = PcsOf(Section);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  const pid_t pid = ForkMoveLockHolder(dev.fd());
  ASSERT_GT(pid, 0);
  const remcov_device_stats_t before = dev.Stats();
  RunSections(kHandle, 1);  // waits out the limit, then drops the section
  const remcov_device_stats_t after = dev.Stats();
  EXPECT_EQ(dev.Count(), 0u);
  EXPECT_EQ(after.move_lock_timeouts - before.move_lock_timeouts, 1u);
  EXPECT_EQ(after.sections_dropped - before.sections_dropped, 1u);
  EXPECT_EQ(after.sections_moved, before.sections_moved);
  EXPECT_EQ(after.move_holders_died, before.move_holders_died);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  RunSections(kHandle, 2);  // the holder is gone: taken over, then moved
  EXPECT_EQ(dev.Count(), 2 * per_section);
}

}  // namespace
}  // namespace remcov::testing
