// SPDX-License-Identifier: Apache-2.0
// RealSys(): the Sys seam over the Linux system calls.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "remcov/sys.h"

namespace remcov {

Sys::~Sys() = default;

namespace {

class RealSysImpl final : public Sys {
 public:
  int Open(const char* path, int flags) override {
    int fd;
    do {
      fd = ::open(path, flags | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
  }
  int Close(int fd) override { return ::close(fd); }
  int Ioctl(int fd, unsigned long cmd, unsigned long arg) override {
    return ::ioctl(fd, cmd, arg);
  }
  void* Mmap(void* addr, size_t len, int prot, int flags, int fd,
             off_t off) override {
    return ::mmap(addr, len, prot, flags, fd, off);
  }
  int Munmap(void* addr, size_t len) override { return ::munmap(addr, len); }
  int Access(const char* path, int mode) override {
    return ::access(path, mode);
  }
  int StatfsType(const char* path, long* type) override {
    struct statfs st;
    if (::statfs(path, &st) != 0) return -1;
    *type = static_cast<long>(st.f_type);
    return 0;
  }
  int ReadFile(const char* path, size_t max_bytes, std::string* out) override {
    int fd = Open(path, O_RDONLY);
    if (fd < 0) return -1;
    out->clear();
    char buf[4096];
    while (out->size() < max_bytes) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        errno = err;
        return -1;
      }
      if (n == 0) break;
      out->append(buf, static_cast<size_t>(n));
    }
    if (out->size() > max_bytes) out->resize(max_bytes);
    ::close(fd);
    return 0;
  }
};

}  // namespace

Sys& RealSys() {
  static RealSysImpl* sys = new RealSysImpl();
  return *sys;
}

}  // namespace remcov
