// SPDX-License-Identifier: Apache-2.0
// KernelBackend: the Linux kcov device (/sys/kernel/debug/kcov) as a Backend,
// with every call routed through the Sys seam and errors explained for a
// person: the usual cause of each errno from debugfs, open or kernel/kcov.c
// (kcov_ioctl, kcov_ioctl_locked), listed in docs/client.md.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "remcov/kcov.h"
#include "remcov/kcov_abi.h"

namespace remcov {

unsigned DetectKernelWordBytes(Sys& sys, unsigned user_word_bytes) {
  // A 64-bit program implies a 64-bit kernel. Otherwise look at the address
  // width in /proc/kallsyms, as syzkaller's detect_kernel_bitness() does.
  if (user_word_bytes == 8) return 8;
  std::string text;
  if (sys.ReadFile("/proc/kallsyms", 256, &text) != 0 || text.empty())
    return user_word_bytes;
  size_t digits = 0;
  while (digits < text.size() &&
         isxdigit(static_cast<unsigned char>(text[digits])))
    digits++;
  if (digits == 16) return 8;
  if (digits == 8) return 4;
  return user_word_bytes;
}

bool HasResetTrace(Backend& backend, int fd) {
  if (backend.Ioctl(fd, REMCOV_KCOV_RESET_TRACE, 0) == 0) return true;
  return errno != ENOTTY;
}

KernelBackend::KernelBackend(Sys& sys, KernelBackendOptions options)
    : sys_(&sys), options_(std::move(options)) {
  if (options_.user_word_bytes == 0) options_.user_word_bytes = sizeof(long);
  word_bytes_ = DetectKernelWordBytes(sys, options_.user_word_bytes);
}

int KernelBackend::Open() {
  return sys_->Open(options_.device_path.c_str(), O_RDWR);
}
int KernelBackend::Ioctl(int fd, unsigned long cmd, unsigned long arg) {
  return sys_->Ioctl(fd, cmd, arg);
}
void* KernelBackend::Mmap(void* addr, size_t len, int prot, int flags, int fd,
                          off_t off) {
  return sys_->Mmap(addr, len, prot, flags, fd, off);
}
int KernelBackend::Munmap(void* addr, size_t len) {
  return sys_->Munmap(addr, len);
}
int KernelBackend::Close(int fd) { return sys_->Close(fd); }

std::string KernelBackend::Name() const {
  return "kcov " + options_.device_path;
}

std::string KernelBackend::Explain(const char* call, int err) const {
  std::string out = Backend::Explain(call, err);
  const std::string& path = options_.device_path;
  const bool is_open = strcmp(call, "open") == 0;
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty())
    dir.assign(1, '/');  // not = "/": GCC 12 -Wrestrict false positive
  if (is_open && err == ENOENT) {
    long type = 0;
    const bool default_path = path == kDefaultKcovPath;
    if (sys_->StatfsType(dir.c_str(), &type) != 0) {
      out += "; " + dir + " does not exist" +
             (default_path ? ": is debugfs available on this kernel?"
                           : std::string(""));
    } else if (type != kDebugfsMagic && default_path) {
      out += "; debugfs is not mounted at " + dir +
             ": mount it with `mount -t debugfs none " + dir + "` (as root)";
    } else if (type != kDebugfsMagic) {
      // A path the caller chose, outside debugfs: nothing says anything
      // about the kernel's configuration.
      out += "; " + path + " does not exist (" + dir +
             " is not debugfs; the kcov device is " + kDefaultKcovPath +
             " where debugfs is mounted)";
    } else {
      out += "; " + dir +
             " is mounted but has no kcov: the kernel was built without "
             "CONFIG_KCOV (or use --device to name another path)";
    }
  } else if (is_open && (err == EACCES || err == EPERM)) {
    out += "; " + path +
           " needs root, or read-write access to debugfs (it is mode 0600; "
           "debugfs itself is often 0700)";
  } else if (err == EEXIST && strcmp(call, "KCOV_REMOTE_ENABLE") == 0) {
    out +=
        "; a remote handle is already registered by another kcov device: "
        "another process uses the same common id or USB bus, or a handle "
        "was leaked by an old kernel bug (syzkaller #4626); pick another "
        "--common-id (e.g. the process id)";
  } else if (err == REMCOV_ENOTSUPP) {
    out +=
        "; the kernel lacks CONFIG_KCOV_ENABLE_COMPARISONS (trace without "
        "--cmp)";
  } else if (err == EBUSY && strcmp(call, "KCOV_ENABLE") == 0) {
    out += "; this thread already has another kcov device enabled";
  } else if (err == ENOTTY) {
    out +=
        "; the kernel does not know this kcov ioctl (wrong word-size "
        "encoding, or an older kernel)";
  }
  return out;
}

}  // namespace remcov
