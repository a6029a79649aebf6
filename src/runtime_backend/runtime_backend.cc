// SPDX-License-Identifier: Apache-2.0
// The Backend over the in-process runtime (remcov_open/ioctl/mmap/close).
#include <sys/mman.h>

#include "remcov/backend.h"
#include "remcov/remcov.h"

namespace remcov {

namespace {

class RuntimeBackendImpl final : public Backend {
 public:
  int Open() override { return remcov_open(); }
  int Ioctl(int fd, unsigned long cmd, unsigned long arg) override {
    return remcov_ioctl(fd, cmd, arg);
  }
  void* Mmap(void* addr, size_t len, int prot, int flags, int fd,
             off_t off) override {
    return remcov_mmap(addr, len, prot, flags, fd, off);
  }
  int Munmap(void* addr, size_t len) override { return munmap(addr, len); }
  int Close(int fd) override { return remcov_close(fd); }
  unsigned WordBytes() const override { return sizeof(unsigned long); }
  std::string Name() const override { return "remcov runtime"; }
};

}  // namespace

Backend& RuntimeBackend() {
  static RuntimeBackendImpl* backend = new RuntimeBackendImpl();
  return *backend;
}

}  // namespace remcov
