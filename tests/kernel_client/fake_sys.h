// SPDX-License-Identifier: Apache-2.0
// FakeSys: a remcov::Sys that emulates the kernel's kcov device (state machine
// and errno codes of kernel/kcov.c, kcov_ioctl and kcov_ioctl_locked) so tests
// can inject every error the kernel client must handle, emulate a 32- or
// 64-bit kernel, and write the device's buffer themselves (count, PCs, CMP
// records, corruption).
//
// Each device's area is a memfd, so the Collector's MAP_SHARED|MAP_FIXED
// mapping and the test's view (Area()) alias the same pages.
//
// Thread safety: guarded by one mutex; "threads" are real thread ids, so the
// EBUSY/EINVAL rules of KCOV_ENABLE/DISABLE hold per calling thread.
#ifndef REMCOV_TESTS_KERNEL_CLIENT_FAKE_SYS_H_
#define REMCOV_TESTS_KERNEL_CLIENT_FAKE_SYS_H_

#include <stdint.h>
#include <sys/types.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "remcov/sys.h"

namespace remcov::testing {

class FakeSys final : public Sys {
 public:
  // Which call an injected errno applies to.
  enum class Call {
    kOpen,
    kInit,
    kMmap,
    kEnable,
    kDisable,
    kRemoteEnable,
    kClose
  };

  FakeSys();
  ~FakeSys() override;

  // Emulated kernel.
  bool kernel64 = true;  // kallsyms shows 16 or 8 hex digits
  bool kallsyms_readable = true;
  bool comparisons = true;      // else KCOV_TRACE_CMP -> 524
  bool reset_trace = false;     // KCOV_RESET_TRACE exists
  bool debugfs_mounted = true;  // statfs of the device's directory
  bool debug_dir_exists = true;
  std::string device_path = "/sys/kernel/debug/kcov";
  // Other files ReadFile serves (path -> contents); the rest are EACCES.
  std::map<std::string, std::string> files;

  // Every later call `c` fails with errno `err` (0 clears).
  void Inject(Call c, int err) {
    std::lock_guard<std::mutex> l(mu_);
    inject_[c] = err;
  }
  // The test's own view of the area of fd (nullptr before mmap).
  uint64_t* Area(int fd);
  // Every ioctl command received, in order.
  std::vector<unsigned long> commands() {
    std::lock_guard<std::mutex> l(mu_);
    return commands_;
  }
  int open_fds() {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int>(devs_.size());
  }

  int Open(const char* path, int flags) override;
  int Close(int fd) override;
  int Ioctl(int fd, unsigned long cmd, unsigned long arg) override;
  void* Mmap(void* addr, size_t len, int prot, int flags, int fd,
             off_t off) override;
  int Munmap(void* addr, size_t len) override;
  int Access(const char* path, int mode) override;
  int StatfsType(const char* path, long* type) override;
  int ReadFile(const char* path, size_t max_bytes, std::string* out) override;

 private:
  enum class Mode { kDisabled, kInit, kEnabled, kRemote };
  struct Dev {
    int memfd = -1;
    uint64_t size = 0;  // words
    Mode mode = Mode::kDisabled;
    pid_t owner = 0;
    uint64_t* view = nullptr;
    std::vector<uint64_t> handles;
  };
  bool Injected(Call c, int* err);
  int Fail(int err) {
    errno = err;
    return -1;
  }

  std::mutex mu_;
  std::map<Call, int> inject_;
  std::map<int, Dev> devs_;           // fake fd -> device
  std::map<pid_t, int> thread_kcov_;  // current->kcov
  std::set<uint64_t> remote_handles_;
  std::vector<unsigned long> commands_;
};

}  // namespace remcov::testing

#endif  // REMCOV_TESTS_KERNEL_CLIENT_FAKE_SYS_H_
