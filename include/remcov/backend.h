// SPDX-License-Identifier: Apache-2.0
// remcov::Backend: the five calls a KCOV device needs (open, ioctl, mmap,
// munmap, close), which a Collector (remcov/collector.h) makes. Two come with
// remcov: the in-process runtime (RuntimeBackend, remcov::runtime_backend)
// and the kernel's /sys/kernel/debug/kcov (KernelBackend, remcov/kcov.h); a
// test can implement its own.
//
// Thread safety: as the implementation's (the runtime's and the kernel's
// calls may be made from any thread).
#ifndef REMCOV_BACKEND_H_
#define REMCOV_BACKEND_H_

#include <stddef.h>
#include <sys/types.h>

#include <string>

#include "remcov/export.h"
#include "remcov/kcov_abi.h"

namespace remcov {

// The five calls KCOV needs (open, ioctl, mmap, munmap, close).
// Implementations return -1 (MAP_FAILED) and set errno, exactly like the
// system calls.
class REMCOV_EXPORT Backend {
 public:
  virtual ~Backend();
  virtual int Open() = 0;
  virtual int Ioctl(int fd, unsigned long cmd, unsigned long arg) = 0;
  virtual void* Mmap(void* addr, size_t len, int prot, int flags, int fd,
                     off_t off) = 0;
  virtual int Munmap(void* addr, size_t len) = 0;
  virtual int Close(int fd) = 0;
  // The device's word size in bytes (8 for the runtime; the kernel's).
  virtual unsigned WordBytes() const = 0;
  // KCOV_INIT_TRACE encoded for that word size.
  unsigned long InitTraceCmd() const {
    return WordBytes() == 4 ? REMCOV_KCOV_INIT_TRACE32
                            : REMCOV_KCOV_INIT_TRACE64;
  }
  virtual std::string Name() const = 0;
  // Explains an errno from `call` for a person (e.g. what to do about EACCES);
  // the errno text itself comes from the Status it goes into (FromErrno).
  virtual std::string Explain(const char* call, int err) const;
};

// The in-process runtime (remcov_open/ioctl/mmap/close). Never null.
REMCOV_EXPORT Backend& RuntimeBackend();

}  // namespace remcov

#endif  // REMCOV_BACKEND_H_
