// SPDX-License-Identifier: Apache-2.0
#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace remcov::internal {
namespace {

// argv for execvp from strings (kept alive by the caller's vector).
std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Runs sh -c script to its end and returns its wait status.
int RunShell(const std::string& script) {
  std::vector<std::string> args = {"sh", "-c", script};
  StatusOr<Spawned> s = Spawn(Argv(args).data());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return -1;
  EXPECT_EQ(s->failed, Spawned::Failed::kNo);
  StatusOr<int> ws = WaitExit(s->pid);
  EXPECT_TRUE(ws.ok()) << ws.status().ToString();
  return ws.ok() ? *ws : -1;
}

TEST(SpawnTest, ExitStatusComesBack) {
  const int ws = RunShell("exit 3");
  ASSERT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 3);
  EXPECT_EQ(ShellExitCode(ws), 3);
  EXPECT_EQ(ShellExitCode(RunShell("true")), 0);
}

TEST(SpawnTest, ASignalEndingTheProgramIs128PlusItsNumber) {
  const int ws = RunShell("kill -TERM $$");
  ASSERT_TRUE(WIFSIGNALED(ws));
  EXPECT_EQ(WTERMSIG(ws), SIGTERM);
  EXPECT_EQ(ShellExitCode(ws), 128 + SIGTERM);
}

TEST(SpawnTest, AMissingProgramIsENOENTFromExec) {
  std::vector<std::string> args = {"/nonexistent/remcov-spawn-test"};
  StatusOr<Spawned> s = Spawn(Argv(args).data());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->failed, Spawned::Failed::kExec);
  EXPECT_EQ(s->error, ENOENT);
  // The child has been reaped.
  EXPECT_EQ(waitpid(s->pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(SpawnTest, AFileWithoutExecutePermissionIsEACCESFromExec) {
  char path[] = "/tmp/remcov-spawn-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
  close(fd);
  ASSERT_EQ(chmod(path, 0644), 0);
  std::vector<std::string> args = {path};
  StatusOr<Spawned> s = Spawn(Argv(args).data());
  unlink(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->failed, Spawned::Failed::kExec);
  EXPECT_EQ(s->error, EACCES);
}

TEST(SpawnTest, PreExecRunsInTheChildAndItsErrorComesBack) {
  // Its effect is the child's: the program sees the directory it chose.
  std::vector<std::string> args = {"sh", "-c", "[ \"$(pwd -P)\" = / ]"};
  StatusOr<Spawned> ok = Spawn(Argv(args).data(), [] { return chdir("/"); });
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->failed, Spawned::Failed::kNo);
  StatusOr<int> ws = WaitExit(ok->pid);
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(ShellExitCode(*ws), 0);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_NE(std::string(cwd), "/");  // not the parent's

  StatusOr<Spawned> failed = Spawn(Argv(args).data(), [] { return EPERM; });
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->failed, Spawned::Failed::kPreExec);
  EXPECT_EQ(failed->error, EPERM);
}

TEST(SpawnTest, WaitingForANonChildIsAnError) {
  StatusOr<int> ws = WaitExit(getppid());
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().error_number(), ECHILD);
}

}  // namespace
}  // namespace remcov::internal
