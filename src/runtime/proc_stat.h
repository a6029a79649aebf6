// SPDX-License-Identifier: Apache-2.0
// A task's /proc stat, read with system calls only: the device's owner check
// (device.cc: is the owner's process gone, or its pid reused?), a domain
// entry's (domain.cc) and the move lock's dead-holder check (remote.cc, from
// signal handlers too) all read it. proc(5): the state is field 3, the start
// time field 22; the command name before them (field 2, in parentheses) may
// hold spaces and ')', so the fields are counted from the last ')'.
//
// Thread safety: any thread. Signal safety: async-signal-safe (openat, read,
// close; no libc formatting, no allocation); errno is preserved.
#ifndef REMCOV_RUNTIME_PROC_STAT_H_
#define REMCOV_RUNTIME_PROC_STAT_H_

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/number.h"

namespace remcov::internal {

// Reads /proc/PID/stat, or /proc/PID/task/TID/stat when tid != 0. On success
// stores the state letter and the start time (in clock ticks since boot) and
// returns true; false when the file cannot be read (the task is gone, or
// /proc is not mounted) or parsed; *error then holds the errno of the open
// (0 for a parse failure), when error is not null.
inline bool ReadTaskStat(uint32_t pid, uint32_t tid, char* state,
                         uint64_t* start, int* error = nullptr) {
  const int saved = errno;
  char path[64] = "/proc/";
  char* p = AppendDecimal(path + 6, pid);
  if (tid != 0) {
    memcpy(p, "/task/", 6);
    p = AppendDecimal(p + 6, tid);
  }
  memcpy(p, "/stat", 6);  // with the terminating NUL
  const long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error != nullptr) *error = errno;
    errno = saved;
    return false;
  }
  if (error != nullptr) *error = 0;
  char buf[1024];
  const long n = syscall(SYS_read, fd, buf, sizeof buf);
  syscall(SYS_close, fd);
  errno = saved;
  long close_paren = -1;
  for (long i = 0; i < n; i++)
    if (buf[i] == ')') close_paren = i;
  // ") S ..." : the state is two characters after the last ')'.
  if (close_paren < 0 || close_paren + 2 >= n || buf[close_paren + 1] != ' ')
    return false;
  long i = close_paren + 2;
  *state = buf[i];
  // Skip fields 3..21: 19 separators to the start of field 22.
  for (int field = 3; field < 22; field++) {
    while (i < n && buf[i] != ' ') i++;
    if (i >= n) return false;
    i++;
  }
  uint64_t v = 0;
  long digits = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++, digits++)
    v = v * 10 + static_cast<uint64_t>(buf[i] - '0');
  if (digits == 0) return false;
  *start = v;
  return true;
}

// Whether the process (pid, start) still runs: its stat is readable, it is
// not a zombie, and its start time is `start` (0: not known, the pid alone
// decides). The one liveness check of owners, domain entries and views.
inline bool ProcessAlive(int32_t pid, uint64_t start) {
  if (pid <= 0) return false;
  char state = 0;
  uint64_t now = 0;
  if (!ReadTaskStat(static_cast<uint32_t>(pid), 0, &state, &now)) return false;
  if (state == 'Z' || state == 'X' || state == 'x') return false;
  return start == 0 || now == start;
}

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_PROC_STAT_H_
