// SPDX-License-Identifier: Apache-2.0
// Programs started every way libc starts them (the exec family,
// posix_spawn, posix_spawnp, system, popen, vfork children) get what the
// kernel gives a new task: the starting thread's common handle
// (ExecCarryTest) and the starter's handle table (FamilyTest), whatever the
// environment passed (src/runtime/interpose_exec.cc); and the runtime's
// popen behaves as glibc's (PopenTest). Its own binary: the family domain
// is a process's until it joins a named one, which domain_test's process
// does.
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "runtime/domain.h"
#include "test_util.h"

namespace remcov::testing {
namespace {

// The kernel copies the starting task's kcov_handle into every task it makes
// and exec keeps it, whatever the environment: a program started from a
// thread with a common handle, by any of libc's calls, has that handle; one
// started from a thread without one has none, whatever its environment says
// (src/runtime/interpose_exec.cc).

enum class StartWay {
  kPosixSpawn,    // explicit environment
  kPosixSpawnp,   // explicit environment
  kSystem,        // environ, through /bin/sh
  kVforkExecv,    // environ, on the parent's memory
  kVforkExecle,   // explicit environment, on the parent's memory
  kForkExecve,    // explicit environment
  kForkExecvpe,   // explicit environment, PATH search
  kForkExeclp,    // environ, PATH search
  kForkFexecve,   // explicit environment
  kForkExecveat,  // explicit environment
  kPopen,         // environ, through /bin/sh
};
constexpr StartWay kStartWays[] = {
    StartWay::kPosixSpawn,   StartWay::kPosixSpawnp, StartWay::kSystem,
    StartWay::kVforkExecv,   StartWay::kVforkExecle, StartWay::kForkExecve,
    StartWay::kForkExecvpe,  StartWay::kForkExeclp,  StartWay::kForkFexecve,
    StartWay::kForkExecveat, StartWay::kPopen};
const char* WayName(StartWay w) {
  switch (w) {
    case StartWay::kPosixSpawn:
      return "posix_spawn";
    case StartWay::kPosixSpawnp:
      return "posix_spawnp";
    case StartWay::kSystem:
      return "system";
    case StartWay::kVforkExecv:
      return "vfork+execv";
    case StartWay::kVforkExecle:
      return "vfork+execle";
    case StartWay::kForkExecve:
      return "fork+execve";
    case StartWay::kForkExecvpe:
      return "fork+execvpe";
    case StartWay::kForkExeclp:
      return "fork+execlp";
    case StartWay::kForkFexecve:
      return "fork+fexecve";
    case StartWay::kForkExecveat:
      return "fork+execveat";
    case StartWay::kPopen:
      return "popen";
  }
  return "?";
}

// Runs `program arg1 arg2 [arg3]` the way `w` says, its standard output into
// the file `out`, `envp` as the explicit environment of the ways that take one
// (the others use environ), and waits for it: its exit code, or -1.
int StartAndWait(StartWay w, const std::string& program, const char* arg1,
                 const char* arg2, const std::string& out, char* const* envp,
                 const char* arg3 = nullptr) {
  const char* prog = program.c_str();
  char* const argv[] = {const_cast<char*>(prog), const_cast<char*>(arg1),
                        const_cast<char*>(arg2), const_cast<char*>(arg3),
                        nullptr};
  pid_t pid = -1;
  if (w == StartWay::kSystem || w == StartWay::kPopen) {
    const std::string command = "exec '" + program + "' " + arg1 + " " +
                                (arg2 != nullptr ? arg2 : "") + " " +
                                (arg3 != nullptr ? arg3 : "");
    int status = -1;
    if (w == StartWay::kSystem) {
      status = system((command + " > '" + out + "'").c_str());
    } else {
      FILE* in = popen(command.c_str(), "r");
      if (in == nullptr) return -1;
      std::ofstream copy(out);
      char buf[4096];
      for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
        copy.write(buf, static_cast<std::streamsize>(n));
      status = pclose(in);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  if (w == StartWay::kPosixSpawn || w == StartWay::kPosixSpawnp) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = w == StartWay::kPosixSpawn
                        ? posix_spawn(&pid, prog, &fa, nullptr, argv, envp)
                        : posix_spawnp(&pid, prog, &fa, nullptr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) return -1;
  } else {
    const int fd =
        open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    const int exe = open(prog, O_RDONLY | O_CLOEXEC);
    const bool vforked =
        w == StartWay::kVforkExecv || w == StartWay::kVforkExecle;
    pid = vforked ? vfork() : fork();
    if (pid == 0) {
      dup2(fd, 1);
      switch (w) {
        case StartWay::kVforkExecv:
          execv(prog, argv);
          break;
        case StartWay::kVforkExecle:
          execle(prog, prog, arg1, arg2, arg3, static_cast<char*>(nullptr),
                 envp);
          break;
        case StartWay::kForkExecve:
          execve(prog, argv, envp);
          break;
        case StartWay::kForkExecvpe:
          execvpe(prog, argv, envp);
          break;
        case StartWay::kForkExeclp:
          execlp(prog, prog, arg1, arg2, arg3, static_cast<char*>(nullptr));
          break;
        case StartWay::kForkFexecve:
          fexecve(exe, argv, envp);
          break;
        case StartWay::kForkExecveat:
          execveat(AT_FDCWD, prog, argv, envp, 0);
          break;
        default:
          break;
      }
      _exit(127);
    }
    close(fd);
    close(exe);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> FileLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ExecCarryTest, EveryWayOfStartingAProgramCarriesTheCommonHandle) {
  constexpr uint64_t kCommon = REMCOV_KCOV_SUBSYSTEM_COMMON | 0x7c;
  constexpr int kSections = 4;
  const std::string sections = std::to_string(kSections);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {}, kCommon);
  const std::string out =
      ::testing::TempDir() + "exec_carry_out." + std::to_string(getpid());
  // The explicit environment: no entry of the runtime's.
  char path_entry[] = "PATH=/usr/bin:/bin";
  char* const plain_env[] = {path_entry, nullptr};
  // The entry a program started from the owner thread is given.
  std::string entry;
  int code = -1;
  owner.RunOnOwner([&] {
    code = StartAndWait(StartWay::kPosixSpawn, "/usr/bin/env", nullptr, nullptr,
                        out, plain_env);
  });
  ASSERT_EQ(code, 0);
  const std::string name = std::string(internal::kInheritedHandleEnv) + "=";
  for (const std::string& line : FileLines(out))
    if (line.rfind(name, 0) == 0) entry = line;
  ASSERT_EQ(entry.rfind(name + std::to_string(kCommon) + ":", 0), 0u)
      << "no entry for the handle in /usr/bin/env's environment";

  for (const StartWay w : kStartWays) {
    SCOPED_TRACE(WayName(w));
    const uint64_t before = dev.Count();
    owner.RunOnOwner([&] {
      code = StartAndWait(w, REMCOV_DOMAIN_MEMBER, "run-common",
                          sections.c_str(), out, plain_env);
    });
    ASSERT_EQ(code, 0);
    const std::vector<std::string> lines = FileLines(out);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "handle " + std::to_string(kCommon));
    const std::vector<uint64_t> one = ParsePcs(lines[1]);
    EXPECT_FALSE(one.empty());
    EXPECT_EQ(lines[2], "stats attaches 1 failures 0 handler_misses 0");
    EXPECT_EQ(dev.Count() - before, one.size() * kSections);
  }

  // From a thread without a common handle (this one), with the entry in the
  // environment it passes: removed, so the program has no handle and its
  // sections start nothing.
  std::string stale = entry;
  char* const stale_env[] = {path_entry, stale.data(), nullptr};
  ASSERT_EQ(
      setenv(internal::kInheritedHandleEnv, entry.c_str() + name.size(), 1), 0);
  for (const StartWay w : kStartWays) {
    SCOPED_TRACE(std::string(WayName(w)) + " without a handle");
    const uint64_t before = dev.Count();
    code = StartAndWait(w, REMCOV_DOMAIN_MEMBER, "run-common", sections.c_str(),
                        out, stale_env);
    ASSERT_EQ(code, 0);
    const std::vector<std::string> lines = FileLines(out);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "handle 0");
    EXPECT_EQ(lines[2], "stats attaches 0 failures 0 handler_misses 0");
    EXPECT_EQ(dev.Count(), before);
  }
  ASSERT_EQ(unsetenv(internal::kInheritedHandleEnv), 0);
  remcov_runtime_stats_t rs;
  ASSERT_EQ(remcov_runtime_stats(&rs), REMCOV_OK);
  EXPECT_EQ(rs.exec_environment_failures, 0u);
  unlink(out.c_str());
}

// popen and pclose are the runtime's own (src/runtime/interpose_exec.cc):
// they behave as glibc's, for the streams programs use them for.
TEST(PopenTest, StreamsBehaveAsGlibcs) {
  // "r": the command's standard output; pclose gives its exit status.
  FILE* r = popen("echo one; echo two; exit 3", "r");
  ASSERT_NE(r, nullptr);
  char line[64];
  ASSERT_NE(fgets(line, sizeof line, r), nullptr);
  EXPECT_STREQ(line, "one\n");
  ASSERT_NE(fgets(line, sizeof line, r), nullptr);
  EXPECT_STREQ(line, "two\n");
  EXPECT_EQ(fgets(line, sizeof line, r), nullptr);
  int status = pclose(r);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  // Without "e" the stream's descriptor is inherited across exec; with it,
  // not.
  for (const bool cloexec : {false, true}) {
    FILE* f = popen("cat > /dev/null", cloexec ? "we" : "w");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(fcntl(fileno(f), F_GETFD) & FD_CLOEXEC, cloexec ? FD_CLOEXEC : 0);
    EXPECT_EQ(pclose(f), 0);
  }
  // "w": the command's standard input. Two at once: the second shell does
  // not hold the first one's pipe (popen children close the streams earlier
  // calls opened), so the first cat sees its end of input and pclose
  // returns.
  const std::string out =
      ::testing::TempDir() + "popen_out." + std::to_string(getpid());
  FILE* a = popen(("cat > '" + out + "'").c_str(), "w");
  ASSERT_NE(a, nullptr);
  FILE* b = popen("cat > /dev/null", "w");
  ASSERT_NE(b, nullptr);
  EXPECT_GT(fputs("written\n", a), 0);
  EXPECT_EQ(pclose(a), 0);
  EXPECT_EQ(FileLines(out), std::vector<std::string>{"written"});
  EXPECT_EQ(pclose(b), 0);
  unlink(out.c_str());
  // Bad modes: EINVAL, as glibc.
  for (const char* mode : {"", "x", "rw", "e"}) {
    errno = 0;
    EXPECT_EQ(popen("true", mode), nullptr) << mode;
    EXPECT_EQ(errno, EINVAL) << mode;
  }
}

// The kernel's handle table is one for every task: a program started any
// way, from any thread, sees the registrations of the process that started
// it. remcov gives it its starter's family domain (domain.h,
// kFamilyDomainEnv): a handle registered before the start, not the common
// one and outside any named domain, reaches the registrant's device from the
// started program's sections. Before, only fork children (which keep the
// family's mapping) did; a spawned or exec'd image attached nothing.
TEST(FamilyTest, ProgramsStartedAnyWayShareTheStartersHandleTable) {
  constexpr uint64_t kRegistered = REMCOV_KCOV_SUBSYSTEM_USB | 0x7031;
  constexpr int kSections = 3;
  const std::string sections = std::to_string(kSections);
  const std::string handle = std::to_string(kRegistered);
  RawDevice dev(1 << 16);
  RemoteOwner owner(dev.fd(), {kRegistered});
  const std::string out =
      ::testing::TempDir() + "family_out." + std::to_string(getpid());
  char path_entry[] = "PATH=/usr/bin:/bin";
  char* const plain_env[] = {path_entry, nullptr};
  ASSERT_EQ(getenv(REMCOV_DOMAIN_ENV), nullptr);
  for (const StartWay w : kStartWays) {
    SCOPED_TRACE(WayName(w));
    const uint64_t before = dev.Count();
    // From this thread, which holds no common handle.
    const int code =
        StartAndWait(w, REMCOV_DOMAIN_MEMBER, "run", handle.c_str(), out,
                     plain_env, sections.c_str());
    ASSERT_EQ(code, 0);
    const std::vector<std::string> lines = FileLines(out);
    ASSERT_EQ(lines.size(), 2u);
    const std::vector<uint64_t> one = ParsePcs(lines[0]);
    EXPECT_FALSE(one.empty());
    EXPECT_EQ(lines[1], "stats attaches 1 failures 0 handler_misses 0");
    EXPECT_EQ(dev.Count() - before, one.size() * kSections);
  }
  unlink(out.c_str());
}

}  // namespace
}  // namespace remcov::testing
