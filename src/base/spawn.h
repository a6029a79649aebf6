// SPDX-License-Identifier: Apache-2.0
// Starting a program and learning whether it started: fork, an optional step
// in the child, then execvp, with a close-on-exec pipe that carries the
// child's errno back when the step or the exec fails (so "cannot execute"
// is told apart from a program that ran and failed). For the tools (`remcov
// trace` runs the command, `remcov report --html` runs genhtml); not for the
// runtime or signal handlers (it allocates and flushes stdio).
//
// Thread safety: call from a single-threaded process, or make pre_exec
// async-signal-safe (after fork only the calling thread exists in the child).
#ifndef REMCOV_BASE_SPAWN_H_
#define REMCOV_BASE_SPAWN_H_

#include <sys/types.h>

#include <functional>

#include "remcov/status.h"

namespace remcov::internal {

struct Spawned {
  enum class Failed {
    kNo,       // the program runs as pid: wait for it (WaitExit)
    kPreExec,  // pre_exec returned error in the child
    kExec,     // execvp failed with error (ENOENT: not found)
  };
  Failed failed = Failed::kNo;
  int error = 0;   // the child's errno when failed != kNo
  pid_t pid = -1;  // the child; already reaped when failed != kNo
};

// Flushes stdio, forks and, in the child, runs pre_exec (when set; it
// returns 0 or an errno) and then execvp(argv[0], argv). Returns once the
// exec has succeeded (the pipe closed) or the child has reported a failure
// and been reaped. REQUIRES: argv is non-empty and null-terminated.
// Errors: kIoError (and the errno) when pipe2 or fork fails in the caller.
StatusOr<Spawned> Spawn(char* const argv[],
                        const std::function<int()>& pre_exec = {});

// Waits for pid to end (retrying EINTR) and returns its wait status.
// Errors: the errno of waitpid (e.g. ECHILD).
StatusOr<int> WaitExit(pid_t pid);

// A wait status as a shell reports it: the exit status, or 128+N when
// signal N ended the process; other statuses (stopped) give -1.
int ShellExitCode(int wait_status);

}  // namespace remcov::internal

#endif  // REMCOV_BASE_SPAWN_H_
