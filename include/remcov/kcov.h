// SPDX-License-Identifier: Apache-2.0
// The client for the real Linux KCOV device (/sys/kernel/debug/kcov): a
// remcov::Backend, so the same Collector (guard pages, acquire loads, clamped
// count, CMP type validation, CAS drain) works over the kernel and over the
// in-process runtime. Every OS call goes through a remcov::Sys (remcov/sys.h).
//
// Differences from the runtime a caller must know (docs/client.md):
//  - Collector::DrainPcs/DrainCmps reset the count with a CAS; the kernel
//    updates the count with a plain read-modify-write under a lock user space
//    cannot take, so on this backend a drain can see duplicates (never loss).
//  - KCOV_RESET_TRACE is a proposal, not merged: probe with HasResetTrace().
//
// Thread safety: a KernelBackend is immutable after construction (the
// kernel's word size is detected in the constructor); it may be shared by
// Collectors on several threads if its Sys is thread-safe.
#ifndef REMCOV_KCOV_H_
#define REMCOV_KCOV_H_

#include <string>

#include "remcov/collector.h"
#include "remcov/export.h"
#include "remcov/sys.h"

namespace remcov {

inline constexpr const char kDefaultKcovPath[] = "/sys/kernel/debug/kcov";
inline constexpr long kDebugfsMagic = 0x64626720;  // DEBUGFS_MAGIC

struct KernelBackendOptions {
  std::string device_path = kDefaultKcovPath;
  // The calling program's word size; 0 = sizeof(long). A 4-byte user space
  // reads /proc/kallsyms to learn the kernel's (as syzkaller's
  // detect_kernel_bitness), because KCOV_INIT_TRACE must carry the kernel's.
  unsigned user_word_bytes = 0;
};

class REMCOV_EXPORT KernelBackend final : public Backend {
 public:
  // REQUIRES: sys outlives the backend.
  explicit KernelBackend(Sys& sys, KernelBackendOptions options = {});
  int Open() override;
  int Ioctl(int fd, unsigned long cmd, unsigned long arg) override;
  void* Mmap(void* addr, size_t len, int prot, int flags, int fd,
             off_t off) override;
  int Munmap(void* addr, size_t len) override;
  int Close(int fd) override;
  // The kernel's word size: 8, or 4 for a 32-bit kernel.
  unsigned WordBytes() const override { return word_bytes_; }
  std::string Name() const override;
  // Actionable explanations: ENOENT on open says whether debugfs is not
  // mounted or the kernel lacks CONFIG_KCOV; EACCES/EPERM asks for root;
  // EEXIST on KCOV_REMOTE_ENABLE names a handle held elsewhere (or leaked,
  // syzkaller #4626); 524 names CONFIG_KCOV_ENABLE_COMPARISONS.
  std::string Explain(const char* call, int err) const override;
  const std::string& device_path() const { return options_.device_path; }
  Sys& sys() const { return *sys_; }

 private:
  Sys* sys_;
  KernelBackendOptions options_;
  unsigned word_bytes_ = 8;
};

// Word size of the running kernel from /proc/kallsyms (16 hex digits: 8; 8
// digits: 4). Falls back to user_word_bytes when the file is unreadable.
REMCOV_EXPORT unsigned DetectKernelWordBytes(Sys& sys,
                                             unsigned user_word_bytes);

// Probes KCOV_RESET_TRACE on fd: true when the ioctl exists (any result but
// ENOTTY), false when the kernel answers ENOTTY.
REMCOV_EXPORT bool HasResetTrace(Backend& backend, int fd);

}  // namespace remcov

#endif  // REMCOV_KCOV_H_
