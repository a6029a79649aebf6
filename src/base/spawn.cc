// SPDX-License-Identifier: Apache-2.0
// fork + execvp with the child's errno reported through a close-on-exec pipe
// (src/base/spawn.h).
#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace remcov::internal {
namespace {

// What the child writes to the pipe when it fails before exec.
struct ChildError {
  Spawned::Failed stage;
  int err;
};

[[noreturn]] void ChildFails(int fd, Spawned::Failed stage, int err) {
  const ChildError e{stage, err};
  ssize_t w = write(fd, &e, sizeof e);  // a short write reads as success
  (void)w;
  // What a shell exits with; the parent reaps this child and reports e.
  _exit(stage == Spawned::Failed::kExec ? (err == ENOENT ? 127 : 126) : 125);
}

}  // namespace

StatusOr<Spawned> Spawn(char* const argv[],
                        const std::function<int()>& pre_exec) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe2");
  fflush(nullptr);  // or the child's exit path could write them again
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(p[0]);
    close(p[1]);
    return Status::FromErrno(err, "fork");
  }
  if (pid == 0) {
    close(p[0]);
    if (pre_exec) {
      const int err = pre_exec();
      if (err != 0) ChildFails(p[1], Spawned::Failed::kPreExec, err);
    }
    execvp(argv[0], argv);
    ChildFails(p[1], Spawned::Failed::kExec, errno);
  }
  close(p[1]);
  ChildError e{};
  ssize_t n;
  do {
    n = read(p[0], &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  close(p[0]);
  Spawned s;
  s.pid = pid;
  if (n == static_cast<ssize_t>(sizeof e)) {
    s.failed = e.stage;
    s.error = e.err;
    (void)WaitExit(pid);  // reaps it; its status says nothing more than e
  }
  return s;
}

StatusOr<int> WaitExit(pid_t pid) {
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "waitpid");
  }
  return ws;
}

int ShellExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace remcov::internal
