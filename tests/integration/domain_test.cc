// SPDX-License-Identifier: Apache-2.0
// Domains (src/runtime/domain.h): remote handles reachable from processes that
// did not fork from the collector, as the kernel's system-wide handle table
// makes them (kernel/kcov.c: kcov_remote_add, kcov_remote_find). The member
// is a separate program (domain/domain_member.c) started with posix_spawn and
// REMCOV_DOMAIN in its environment: it shares no memory with this process
// but the domain file and the device it attaches.
//
// Its own test binary: a process joins one domain for its life.
#include "runtime/domain.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "runtime/open_table.h"
#include "test_util.h"

extern char** environ;

namespace remcov::testing {
namespace {

constexpr uint64_t kHandle = REMCOV_KCOV_SUBSYSTEM_USB | 0x7001;

// This process's domain: one file per process, joined once.
const std::string& DomainPath() {
  static const std::string path = [] {
    std::string p = "/tmp/remcov_domain_test." + std::to_string(getpid());
    unlink(p.c_str());
    EXPECT_EQ(remcov_domain_join(p.c_str()), REMCOV_OK) << strerror(errno);
    return p;
  }();
  return path;
}

// A started member: its pid, its standard input (closing it ends a
// "register" member) and its standard output.
struct Member {
  pid_t pid = -1;
  int in = -1;
  FILE* out = nullptr;

  // Reads one line of its output ("" at the end).
  std::string Line() {
    char buf[65536];
    if (fgets(buf, sizeof buf, out) == nullptr) return "";
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  // Closes its input and waits: its exit code, or 100 + a signal.
  int Wait() {
    if (in >= 0) close(in);
    in = -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    fclose(out);
    out = nullptr;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  }
};

// Starts domain_member with args, in `domain` (REMCOV_DOMAIN; "" for none).
Member Start(const std::vector<std::string>& args, const std::string& domain) {
  int in[2], out[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; e++)
    if (strncmp(*e, REMCOV_DOMAIN_ENV "=", strlen(REMCOV_DOMAIN_ENV) + 1) != 0)
      env_s.push_back(*e);
  if (!domain.empty()) env_s.push_back(REMCOV_DOMAIN_ENV "=" + domain);
  std::vector<char*> env;
  for (auto& s : env_s) env.push_back(s.data());
  env.push_back(nullptr);
  std::vector<std::string> argv_s = {REMCOV_DOMAIN_MEMBER};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  Member m;
  const int err = posix_spawn(&m.pid, REMCOV_DOMAIN_MEMBER, &fa, nullptr,
                              argv.data(), env.data());
  EXPECT_EQ(err, 0) << strerror(err);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  m.in = in[1];
  m.out = fdopen(out[0], "r");
  return m;
}

// The domain file's table, mapped as a member maps it (for tests that write
// entries the way a buggy member could); nullptr on failure.
internal::DomainFile* MapDomainFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return nullptr;
  void* p = mmap(nullptr, sizeof(internal::DomainFile), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
  close(fd);
  return p == MAP_FAILED ? nullptr : static_cast<internal::DomainFile*>(p);
}

// `domain_member run HANDLE N` in `domain`, run to its end: the PCs one
// Work() records there, its counters line and its exit code.
struct RunResult {
  std::vector<uint64_t> one;
  std::string stats;
  int code = -1;
};
RunResult RunMember(uint64_t handle, int sections, const std::string& domain) {
  Member m =
      Start({"run", std::to_string(handle), std::to_string(sections)}, domain);
  RunResult r;
  r.one = ParsePcs(m.Line());
  r.stats = m.Line();
  r.code = m.Wait();
  return r;
}

TEST(DomainTest, UnrelatedProcessSectionsLandInTheCollectorExactly) {
  const std::string& domain = DomainPath();
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  constexpr int kSections = 25;
  const RunResult r = RunMember(kHandle, kSections, domain);
  ASSERT_EQ(r.code, 0);
  const std::vector<uint64_t>& one = r.one;
  ASSERT_FALSE(one.empty());
  // kSections copies of exactly what one Work() records in the member, in
  // order: nothing of the member's own housekeeping, nothing lost.
  std::vector<uint64_t> want;
  for (int i = 0; i < kSections; i++)
    want.insert(want.end(), one.begin(), one.end());
  EXPECT_EQ(dev.Pcs(), want);
  EXPECT_EQ(r.stats, "stats attaches 1 failures 0 handler_misses 0");
  const remcov_device_stats_t s = dev.Stats();
  EXPECT_EQ(s.sections_started, uint64_t{kSections});
  EXPECT_EQ(s.sections_moved, uint64_t{kSections});
  EXPECT_EQ(s.sections_dropped, 0u);
}

TEST(DomainTest, OutsideTheDomainNothingArrives) {
  (void)DomainPath();
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  const RunResult r = RunMember(kHandle, 5, "");
  EXPECT_FALSE(r.one.empty());
  EXPECT_EQ(r.stats, "stats attaches 0 failures 0 handler_misses 0");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(dev.Count(), 0u);
  EXPECT_EQ(dev.Stats().sections_started, 0u);
}

TEST(DomainTest, AfterDisableTheMembersSectionsStartNothing) {
  const std::string& domain = DomainPath();
  RawDevice dev(1 << 16);
  { RemoteOwner owner(dev.fd(), {kHandle}); }  // registered, then disabled
  const RunResult r = RunMember(kHandle, 5, domain);
  // The entry was withdrawn at DISABLE: no attach, no failure.
  EXPECT_EQ(r.stats, "stats attaches 0 failures 0 handler_misses 0");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(dev.Count(), 0u);
  EXPECT_EQ(dev.Stats().sections_started, 0u);
}

TEST(DomainTest, HandlesAreUniqueInTheDomain) {
  const std::string& domain = DomainPath();
  constexpr uint64_t kTaken = REMCOV_KCOV_SUBSYSTEM_USB | 0x7002;
  Member m = Start({"register", std::to_string(kTaken)}, domain);
  ASSERT_EQ(m.Line(), "registered");
  RawDevice dev(1 << 16);
  // Another live member holds it: the kernel's EEXIST, and nothing of this
  // registration stays (its other handle is free for the next try).
  EXPECT_EQ(RemoteEnableHere(dev.fd(), {kHandle, kTaken}), EEXIST);
  // The member is killed without DISABLE: its entry names a dead process
  // and the handle can be taken.
  kill(m.pid, SIGKILL);
  EXPECT_EQ(m.Wait(), 100 + SIGKILL);
  std::thread t([&] {
    EXPECT_EQ(RemoteEnableHere(dev.fd(), {kHandle, kTaken}), 0);
    EXPECT_EQ(remcov_ioctl(dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  });
  t.join();
  // And the other way round: a member cannot take a handle this process
  // registered.
  RemoteOwner owner(dev.fd(), {kTaken});
  Member m2 = Start({"register", std::to_string(kTaken)}, domain);
  EXPECT_EQ(m2.Line(), "errno " + std::to_string(EEXIST));
  EXPECT_EQ(m2.Wait(), 3);
}

TEST(DomainTest, JoiningNeedsTheFileAndOneDomainPerProcess) {
  const std::string& domain = DomainPath();
  // Already a member of another domain.
  EXPECT_EQ(remcov_domain_join("/tmp/remcov_domain_test.other"), REMCOV_E_BUSY);
  EXPECT_EQ(errno, EBUSY);
  // A file that is not a domain.
  const std::string junk = domain + ".junk";
  {
    FILE* f = fopen(junk.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("not a domain\n", f);
    fclose(f);
  }
  Member m = Start({"join", junk}, "");
  EXPECT_EQ(m.Line(), "failed " + std::to_string(REMCOV_E_INVALID) + " errno " +
                          std::to_string(EINVAL));
  EXPECT_EQ(m.Wait(), 0);
  Member m2 = Start({"join", ""}, "");
  EXPECT_EQ(m2.Line(), "failed " + std::to_string(REMCOV_E_INVALID) +
                           " errno " + std::to_string(EINVAL));
  EXPECT_EQ(m2.Wait(), 0);
  unlink(junk.c_str());
}

// Access control is the file's: a process that may not open the domain
// read-write cannot join it (and so cannot reach its members' devices).
TEST(DomainTest, APrincipalWithoutAccessCannotJoin) {
  const std::string& domain = DomainPath();
  struct stat st;
  ASSERT_EQ(stat(domain.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // made for its creator alone
  const int code = InChild([&] {
    // Another user (root can open any file: drop to nobody first).
    if (geteuid() == 0) {
      if (setuid(65534) != 0) return 10;
    } else if (chmod(domain.c_str(), 0) != 0) {
      return 11;
    }
    const int fd = open(domain.c_str(), O_RDWR);
    if (fd >= 0) return 12;
    return errno == EACCES ? 0 : 13;
  });
  EXPECT_EQ(code, 0);
  ASSERT_EQ(chmod(domain.c_str(), 0600), 0);
  // The same through the runtime, from a member started as that user.
  const int joined = InChild([&] {
    if (geteuid() == 0) {
      if (setuid(65534) != 0) return 10;
    } else if (chmod(domain.c_str(), 0) != 0) {
      return 11;
    }
    Member m = Start({"join", domain}, "");
    const std::string line = m.Line();
    (void)m.Wait();
    return line == "failed " + std::to_string(REMCOV_E_INVALID) + " errno " +
                       std::to_string(EACCES)
               ? 0
               : 14;
  });
  EXPECT_EQ(joined, 0);
  ASSERT_EQ(chmod(domain.c_str(), 0600), 0);
}

// The runtime's own descriptors (a registrant's, for members and exec'd
// images to open; a member's view's) are kept at high numbers: the kernel
// makes none, so the program's next open() gets the number it would get
// without remcov, and a number it closed stays closed (EBADF).
TEST(DomainTest, TheRuntimesDescriptorsLeaveTheProgramsNumbersAlone) {
  (void)DomainPath();
  RawDevice dev(1 << 16);
  const int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  close(probe);
  RemoteOwner owner(dev.fd(), {kHandle}, REMCOV_KCOV_SUBSYSTEM_COMMON | 0x7f);
  const int again = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(again, probe);
  close(again);
}

// A signal handler never attaches a device (it would open files and take
// mutexes): its section with a domain handle the process has not attached
// yet records nothing and is counted; once a task section attached it, the
// handler's sections land like any other.
TEST(DomainTest, AHandlerSectionNeedsTheDeviceAttachedInTaskContext) {
  const std::string& domain = DomainPath();
  const uint64_t per_section = RunMember(kHandle, 0, "").one.size();
  ASSERT_GT(per_section, 0u);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  Member m = Start({"signal", std::to_string(kHandle)}, domain);
  EXPECT_EQ(m.Line(), "handler_misses 1 attaches 0");
  EXPECT_EQ(m.Line(), "handler_misses 1 attaches 1");
  ASSERT_EQ(m.Wait(), 0);
  // The task section and the second handler section, nothing of the first.
  EXPECT_EQ(dev.Count(), 2 * per_section);
  EXPECT_EQ(dev.Stats().sections_started, 2u);
}

// A server that serves collectors which come and go (fuzzing workers, one
// client after another) does not accumulate their devices: views of devices
// that no longer take sections are freed before another is attached, so it
// goes on attaching well past the limit of views it keeps at once.
TEST(DomainTest, ALongLivedMemberServesManyCollectorsInTurn) {
  const std::string& domain = DomainPath();
  Member m = Start({"serve"}, domain);
  FILE* in = fdopen(m.in, "w");
  ASSERT_NE(in, nullptr);
  constexpr int kCollectors = 150;  // more than the views kept at once (64)
  for (int i = 0; i < kCollectors; i++) {
    const uint64_t handle = REMCOV_KCOV_SUBSYSTEM_USB | (0x7100 + i);
    RawDevice dev(1 << 12);
    {
      RemoteOwner owner(dev.fd(), {handle});
      fprintf(in, "%llu\n", static_cast<unsigned long long>(handle));
      fflush(in);
      ASSERT_EQ(m.Line(), "attaches " + std::to_string(i + 1) + " failures 0")
          << "collector " << i;
      EXPECT_GT(dev.Count(), 0u) << "collector " << i;
      EXPECT_EQ(dev.Stats().sections_moved, 1u) << "collector " << i;
    }
  }
  fclose(in);
  m.in = -1;
  EXPECT_EQ(m.Wait(), 0);
}

// exec keeps the task's common handle (kernel: exec keeps current and its
// kcov_handle): a program exec'd by a fork child of the owner thread, directly
// or through an uninstrumented shell, starts with the handle, and its
// sections land in the owner's device. A child of a thread without a common
// handle execs a program without one.
TEST(ExecTest, ACommonHandleSurvivesExecDirectlyAndThroughAShell) {
  constexpr uint64_t kCommon = REMCOV_KCOV_SUBSYSTEM_COMMON | 0x7e;
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {}, kCommon);
  constexpr int kSections = 5;
  auto exec_member = [](bool through_shell, int out_fd) {
    dup2(out_fd, 1);
    if (through_shell) {
      execl("/bin/sh", "sh", "-c", "exec \"$0\" run-common 5",
            REMCOV_DOMAIN_MEMBER, static_cast<char*>(nullptr));
    } else {
      execl(REMCOV_DOMAIN_MEMBER, REMCOV_DOMAIN_MEMBER, "run-common", "5",
            static_cast<char*>(nullptr));
    }
    _exit(127);
  };
  for (const bool shell : {false, true}) {
    SCOPED_TRACE(shell ? "through sh -c" : "execl");
    int out[2];
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    const uint64_t before = dev.Count();  // before the child can record
    pid_t pid = -1;
    owner.RunOnOwner([&] {
      pid = fork();
      if (pid == 0) exec_member(shell, out[1]);
    });
    ASSERT_GT(pid, 0);
    close(out[1]);
    Member m;
    m.pid = pid;
    m.out = fdopen(out[0], "r");
    EXPECT_EQ(m.Line(), "handle " + std::to_string(kCommon));
    const std::vector<uint64_t> one = ParsePcs(m.Line());
    EXPECT_EQ(m.Line(), "stats attaches 1 failures 0 handler_misses 0");
    ASSERT_EQ(m.Wait(), 0);
    EXPECT_EQ(dev.Count() - before, one.size() * kSections);
  }
  // From a thread without a common handle: none in the new image, nothing
  // arrives.
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const uint64_t before = dev.Count();
  const pid_t pid = fork();
  if (pid == 0) exec_member(false, out[1]);
  ASSERT_GT(pid, 0);
  close(out[1]);
  Member m;
  m.pid = pid;
  m.out = fdopen(out[0], "r");
  EXPECT_EQ(m.Line(), "handle 0");
  (void)m.Line();
  EXPECT_EQ(m.Line(), "stats attaches 0 failures 0 handler_misses 0");
  ASSERT_EQ(m.Wait(), 0);
  EXPECT_EQ(dev.Count(), before);
}

// exec keeps the task, and with it a remote owner's registrations and its
// kcov_handle (they are the task's in the kernel; kernel/kcov.c keeps them
// until kcov_task_exit or DISABLE): the image a remote owner execs takes
// them back from the device's control page. Its threads' sections with the
// handle and with the common handle land, another member of the domain
// reaches the device through what the new image published, and DISABLE from
// the new image ends it all. With only remcov_open's close-on-exec
// descriptor the same holds (the exec keeps one for the new image,
// device.cc, PrepareExec), except that the new image knows no descriptor to
// DISABLE with (EBADF, as in the kernel): its sections keep landing until
// its process ends, and the device is INIT after that.
void RemoteOwnerAcrossExec(bool close_on_exec) {
  constexpr uint64_t kOwn = REMCOV_KCOV_SUBSYSTEM_USB | 0x7011;
  constexpr uint64_t kCommon = REMCOV_KCOV_SUBSYSTEM_COMMON | 0x7f;
  constexpr int kSections = 3;
  const std::string& domain = DomainPath();
  RawDevice dev(1 << 16);
  int in[2], out[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    if ((!close_on_exec && fcntl(dev.fd(), F_SETFD, 0) != 0) ||
        RemoteEnableHere(dev.fd(), {kOwn}, kCommon) != 0)
      _exit(20);
    setenv(REMCOV_DOMAIN_ENV, domain.c_str(), 1);
    const std::string fd = std::to_string(close_on_exec ? -1 : dev.fd());
    const std::string own = std::to_string(kOwn);
    execl(REMCOV_DOMAIN_MEMBER, REMCOV_DOMAIN_MEMBER, "exec-owner", fd.c_str(),
          own.c_str(), std::to_string(kSections).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  close(in[0]);
  close(out[1]);
  Member owner;
  owner.pid = pid;
  owner.in = in[1];
  owner.out = fdopen(out[0], "r");
  EXPECT_EQ(owner.Line(), "handle " + std::to_string(kCommon));
  EXPECT_EQ(owner.Line(), "ready");
  // Another member of the domain: its sections with the owner's handle
  // attach the device through the new image's descriptor.
  const RunResult other = RunMember(kOwn, kSections, domain);
  ASSERT_EQ(other.code, 0);
  EXPECT_EQ(other.stats, "stats attaches 1 failures 0 handler_misses 0");
  ASSERT_FALSE(other.one.empty());
  const uint64_t landed = dev.Count();
  EXPECT_EQ(landed, other.one.size() * 3 * kSections);
  ASSERT_EQ(write(owner.in, "\n", 1), 1);
  if (close_on_exec) {
    EXPECT_EQ(owner.Line(), "disable -1 errno " + std::to_string(EBADF));
    EXPECT_EQ(owner.Wait(), 0);
    // Still registered: its last section landed too.
    EXPECT_EQ(dev.Count(), landed + other.one.size());
  } else {
    EXPECT_EQ(owner.Line(), "disable 0 errno 0");
    EXPECT_EQ(owner.Wait(), 0);
    EXPECT_EQ(dev.Count(), landed);  // after DISABLE: nothing more
  }
  // The device is INIT again for this process.
  EXPECT_EQ(remcov_ioctl(dev.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC),
            0);
  EXPECT_EQ(remcov_ioctl(dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
}

TEST(ExecTest, ARemoteOwnerKeepsItsRegistrationsAcrossExec) {
  RemoteOwnerAcrossExec(false);
}

TEST(ExecTest, ARemoteOwnerWithOnlyACloseOnExecDescriptorKeepsThemToo) {
  RemoteOwnerAcrossExec(true);
}

// exec ends the process's other threads, and with a remote owner among
// them its registrations (kernel: kcov_task_exit removes the owner's
// handles): a member whose registering thread ended at another thread's
// exec no longer holds its handle in the domain (the new image withdraws
// the old one's entries before main), so another member registers it.
// Before, the stale entry made that EEXIST until the process ended.
TEST(ExecTest, AnExecEndsTheRegistrationsOfTheThreadsItEnds) {
  constexpr uint64_t kEnded = REMCOV_KCOV_SUBSYSTEM_USB | 0x7041;
  const std::string& domain = DomainPath();
  Member m = Start({"register-exec", std::to_string(kEnded)}, domain);
  ASSERT_EQ(m.Line(), "registered");
  // The new image serves: one section with no handle, to know it runs.
  ASSERT_EQ(write(m.in, "0\n", 2), 2);
  EXPECT_EQ(m.Line(), "attaches 0 failures 0");
  RawDevice dev(1 << 16);
  EXPECT_EQ(RemoteEnableHere(dev.fd(), {kEnded}, 0), 0) << strerror(errno);
  EXPECT_EQ(remcov_ioctl(dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(m.Wait(), 0);
}

// A process that forked has its family domain (docs/kcov.md, difference 7);
// joining a named domain then moves its registrations there: a section of
// this process (a member of the named domain, not of the other's family)
// with the handle lands in the joiner's device.
TEST(DomainTest, JoiningAfterAForkMovesTheRegistrationsOutOfTheFamily) {
  constexpr uint64_t kMoved = REMCOV_KCOV_SUBSYSTEM_USB | 0x7021;
  const std::string& domain = DomainPath();
  Member m = Start({"family-join", std::to_string(kMoved), domain}, "");
  ASSERT_EQ(m.Line(), "joined");
  const uint64_t per_section = PcsOf([] { (void)fixture_parse("1234", 4); });
  ASSERT_GT(per_section, 0u);
  remcov_remote_start(kMoved);
  (void)fixture_parse("1234", 4);
  remcov_remote_stop();
  ASSERT_EQ(write(m.in, "\n", 1), 1);
  EXPECT_EQ(m.Line(), "count " + std::to_string(per_section));
  EXPECT_EQ(m.Wait(), 0);
}

// What a buggy or hostile member can write into the table costs lookups
// their answer, never the reader's process: entries with a bad mode, a
// descriptor out of range, or naming a file that is not the device are
// misses or counted failures, and a table with no empty slot ends a lookup
// after one pass.
TEST(DomainTest, CorruptEntriesAreMissesOrCountedFailures) {
  const std::string& domain = DomainPath();
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kHandle});
  internal::DomainFile* const f = MapDomainFile(domain);
  ASSERT_NE(f, nullptr);
  // Find our entry.
  internal::DomainEntry* e = nullptr;
  for (auto& x : f->entries)
    if (x.key.load() == kHandle) e = &x;
  ASSERT_NE(e, nullptr);
  const uint32_t mode = e->mode.load();
  const int32_t entry_fd = e->fd.load();
  // A member sees a bad mode as a miss.
  e->mode.store(99);
  EXPECT_EQ(RunMember(kHandle, 3, domain).stats,
            "stats attaches 0 failures 0 handler_misses 0");
  e->mode.store(mode);
  // A descriptor that names another file (stdin of the collector): the
  // attach is refused and counted.
  e->fd.store(0);
  EXPECT_EQ(RunMember(kHandle, 3, domain).stats,
            "stats attaches 0 failures 3 handler_misses 0");
  e->fd.store(entry_fd);
  EXPECT_EQ(dev.Count(), 0u);
  // Every slot taken by another key: the lookup of an absent handle ends.
  std::vector<uint64_t> saved;
  for (auto& x : f->entries) saved.push_back(x.key.load());
  for (auto& x : f->entries)
    if (x.key.load() != kHandle)
      x.key.store(REMCOV_KCOV_SUBSYSTEM_USB | 0x9999);
  EXPECT_EQ(RunMember(REMCOV_KCOV_SUBSYSTEM_USB | 0x1, 3, domain).stats,
            "stats attaches 0 failures 0 handler_misses 0");
  for (size_t i = 0; i < saved.size(); i++) f->entries[i].key.store(saved[i]);
  // Undamaged again: sections arrive.
  EXPECT_EQ(RunMember(kHandle, 2, domain).code, 0);
  EXPECT_GT(dev.Count(), 0u);
  munmap(f, sizeof(internal::DomainFile));
}

// Processes that end without DISABLE (a fork server's children, killed
// members) leave their entries; a full table is swept of them before a
// registration is refused with ENOMEM, as the kernel's kcov_task_exit would
// have removed them.
TEST(DomainTest, AFullTableIsSweptOfEndedProcessesEntries) {
  const std::string& domain = DomainPath();
  const pid_t ended = fork();
  if (ended == 0) _exit(0);
  ASSERT_GT(ended, 0);
  ASSERT_EQ(waitpid(ended, nullptr, 0), ended);
  internal::DomainFile* const f = MapDomainFile(domain);
  ASSERT_NE(f, nullptr);
  // Fill the table up to its limit with the ended process's entries (this
  // test's process has no other member running).
  const uint32_t limit = internal::kDomainSlots / 4 * 3;
  uint32_t added = 0;
  for (uint32_t i = 0; i < internal::kDomainSlots && f->live < limit; i++) {
    internal::DomainEntry& e = f->entries[i];
    if (e.key.load() != 0) continue;
    e.pid.store(ended);
    e.start.store(0);
    e.key.store(REMCOV_KCOV_SUBSYSTEM_USB | (0x20000 + i));
    f->live++;
    added++;
  }
  ASSERT_EQ(f->live, limit);
  ASSERT_GT(added, 0u);
  // A new registration: the sweep makes room instead of ENOMEM.
  RawDevice dev(1 << 12);
  constexpr uint64_t kAfterSweep = REMCOV_KCOV_SUBSYSTEM_USB | 0x7031;
  EXPECT_EQ(RemoteEnableHere(dev.fd(), {kAfterSweep}), 0);
  EXPECT_LT(f->live, limit - added + 8);  // the ended process's are gone
  uint32_t left = 0;
  for (auto& e : f->entries)
    if (e.key.load() != 0 && e.key.load() != internal::kTableTomb &&
        e.pid.load() == ended)
      left++;
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(remcov_ioctl(dev.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  munmap(f, sizeof(internal::DomainFile));
}

}  // namespace
}  // namespace remcov::testing
