// SPDX-License-Identifier: Apache-2.0
// remcov::Sys: the one seam through which the kernel kcov client makes every
// operating-system call (open, close, ioctl, mmap, munmap, stat/statfs and
// reading /proc files). RealSys() forwards to the system calls; tests replace
// it with a fake that injects errors (ENOENT, EACCES, EBUSY, ENOTTY, 524, mmap
// failure) and emulates a 32- or 64-bit kernel.
//
// Every call behaves like the system call it mirrors: -1 (MAP_FAILED for Mmap)
// with errno set.
//
// Thread safety: RealSys() is stateless and may be used from any thread.
#ifndef REMCOV_SYS_H_
#define REMCOV_SYS_H_

#include <stddef.h>
#include <sys/types.h>

#include <string>

#include "remcov/export.h"

namespace remcov {

class REMCOV_EXPORT Sys {
 public:
  virtual ~Sys();
  virtual int Open(const char* path, int flags) = 0;
  virtual int Close(int fd) = 0;
  virtual int Ioctl(int fd, unsigned long cmd, unsigned long arg) = 0;
  virtual void* Mmap(void* addr, size_t len, int prot, int flags, int fd,
                     off_t off) = 0;
  virtual int Munmap(void* addr, size_t len) = 0;
  // access(2).
  virtual int Access(const char* path, int mode) = 0;
  // statfs(2), reduced to the file-system magic (f_type) in *type.
  virtual int StatfsType(const char* path, long* type) = 0;
  // Reads at most max_bytes of a (proc) file into *out. 0 or -1 with errno.
  virtual int ReadFile(const char* path, size_t max_bytes,
                       std::string* out) = 0;
};

// The real system calls. Never null.
REMCOV_EXPORT Sys& RealSys();

}  // namespace remcov

#endif  // REMCOV_SYS_H_
