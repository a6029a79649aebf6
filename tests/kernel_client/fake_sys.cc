// SPDX-License-Identifier: Apache-2.0
// FakeSys: an emulated kcov device following the kernel's check order.
#include "fake_sys.h"

#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "remcov/kcov.h"
#include "remcov/kcov_abi.h"

namespace remcov::testing {
namespace {
pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }
}  // namespace

FakeSys::FakeSys() = default;

FakeSys::~FakeSys() {
  for (auto& [fd, d] : devs_) {
    if (d.view != nullptr) munmap(d.view, d.size * 8);
    close(d.memfd);
  }
}

bool FakeSys::Injected(Call c, int* err) {
  auto it = inject_.find(c);
  if (it == inject_.end() || it->second == 0) return false;
  *err = it->second;
  return true;
}

uint64_t* FakeSys::Area(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = devs_.find(fd);
  return it == devs_.end() ? nullptr : it->second.view;
}

int FakeSys::Open(const char* path, int /*flags*/) {
  std::lock_guard<std::mutex> l(mu_);
  int err;
  if (Injected(Call::kOpen, &err)) return Fail(err);
  if (device_path != path || !debugfs_mounted || !debug_dir_exists)
    return Fail(ENOENT);
  Dev d;
  d.memfd = memfd_create("fake-kcov", MFD_CLOEXEC);
  if (d.memfd < 0) return -1;
  // Fake fds are the memfds themselves: unique and closable.
  int fd = d.memfd;
  devs_[fd] = d;
  return fd;
}

int FakeSys::Close(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  int err;
  if (Injected(Call::kClose, &err)) return Fail(err);
  auto it = devs_.find(fd);
  if (it == devs_.end()) return Fail(EBADF);
  Dev& d = it->second;
  if (d.view != nullptr) munmap(d.view, d.size * 8);
  for (uint64_t h : d.handles) remote_handles_.erase(h);
  for (auto t = thread_kcov_.begin(); t != thread_kcov_.end();) {
    t = t->second == fd ? thread_kcov_.erase(t) : std::next(t);
  }
  close(d.memfd);
  devs_.erase(it);
  return 0;
}

int FakeSys::Ioctl(int fd, unsigned long cmd, unsigned long arg) {
  std::lock_guard<std::mutex> l(mu_);
  commands_.push_back(cmd);
  auto it = devs_.find(fd);
  if (it == devs_.end()) return Fail(EBADF);
  Dev& d = it->second;
  int err;
  const unsigned long init_cmd =
      kernel64 ? REMCOV_KCOV_INIT_TRACE64 : REMCOV_KCOV_INIT_TRACE32;
  const uint64_t word = kernel64 ? 8 : 4;
  const pid_t tid = Tid();
  if (cmd == init_cmd) {
    if (Injected(Call::kInit, &err)) return Fail(err);
    if (arg < 2 || arg > INT_MAX / word) return Fail(EINVAL);
    if (d.mode != Mode::kDisabled) return Fail(EBUSY);
    if (ftruncate(d.memfd, static_cast<off_t>(arg * word)) != 0) return -1;
    d.size = arg;
    d.mode = Mode::kInit;
    return 0;
  }
  if (cmd == REMCOV_KCOV_ENABLE) {
    if (Injected(Call::kEnable, &err)) return Fail(err);
    if (d.mode != Mode::kInit) return Fail(EINVAL);
    if (d.owner != 0 || thread_kcov_.count(tid)) return Fail(EBUSY);
    if (arg != REMCOV_KCOV_TRACE_PC && arg != REMCOV_KCOV_TRACE_CMP)
      return Fail(EINVAL);
    if (arg == REMCOV_KCOV_TRACE_CMP && !comparisons)
      return Fail(REMCOV_ENOTSUPP);
    d.mode = Mode::kEnabled;
    d.owner = tid;
    thread_kcov_[tid] = fd;
    return 0;
  }
  if (cmd == REMCOV_KCOV_DISABLE) {
    if (Injected(Call::kDisable, &err)) return Fail(err);
    auto t = thread_kcov_.find(tid);
    if (arg != 0 || t == thread_kcov_.end() || t->second != fd)
      return Fail(EINVAL);
    thread_kcov_.erase(t);
    for (uint64_t h : d.handles) remote_handles_.erase(h);
    d.handles.clear();
    d.owner = 0;
    d.mode = Mode::kInit;
    return 0;
  }
  if (cmd == REMCOV_KCOV_REMOTE_ENABLE) {
    if (Injected(Call::kRemoteEnable, &err)) return Fail(err);
    const auto* a = reinterpret_cast<const remcov_kcov_remote_arg*>(arg);
    if (a->num_handles > REMCOV_KCOV_REMOTE_MAX_HANDLES) return Fail(EINVAL);
    if (d.mode != Mode::kInit) return Fail(EINVAL);
    if (d.owner != 0 || thread_kcov_.count(tid)) return Fail(EBUSY);
    if (a->trace_mode != REMCOV_KCOV_TRACE_PC &&
        a->trace_mode != REMCOV_KCOV_TRACE_CMP)
      return Fail(EINVAL);
    if (a->trace_mode == REMCOV_KCOV_TRACE_CMP && !comparisons)
      return Fail(REMCOV_ENOTSUPP);
    std::vector<uint64_t> hs(a->handles, a->handles + a->num_handles);
    if (a->common_handle != 0) hs.push_back(a->common_handle);
    for (uint64_t h : hs)
      if (remote_handles_.count(h)) return Fail(EEXIST);
    for (uint64_t h : hs) remote_handles_.insert(h);
    d.handles = hs;
    d.mode = Mode::kRemote;
    d.owner = tid;
    thread_kcov_[tid] = fd;
    return 0;
  }
  if (cmd == REMCOV_KCOV_RESET_TRACE && reset_trace) {
    if (d.view != nullptr) d.view[0] = 0;
    return 0;
  }
  return Fail(ENOTTY);
}

void* FakeSys::Mmap(void* addr, size_t len, int prot, int flags, int fd,
                    off_t off) {
  std::lock_guard<std::mutex> l(mu_);
  int err;
  if (Injected(Call::kMmap, &err)) {
    errno = err;
    return MAP_FAILED;
  }
  auto it = devs_.find(fd);
  if (it == devs_.end()) {
    errno = EBADF;
    return MAP_FAILED;
  }
  Dev& d = it->second;
  const uint64_t word = kernel64 ? 8 : 4;
  if (d.size == 0 || off != 0 || len != d.size * word) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  void* p = mmap(addr, len, prot, flags, d.memfd, 0);
  if (p != MAP_FAILED && d.view == nullptr) {
    void* v =
        mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, d.memfd, 0);
    if (v != MAP_FAILED) d.view = static_cast<uint64_t*>(v);
  }
  return p;
}

int FakeSys::Munmap(void* addr, size_t len) { return munmap(addr, len); }

int FakeSys::Access(const char* path, int /*mode*/) {
  return device_path == path && debugfs_mounted ? 0 : Fail(ENOENT);
}

int FakeSys::StatfsType(const char* /*path*/, long* type) {
  if (!debug_dir_exists) return Fail(ENOENT);
  *type = debugfs_mounted ? kDebugfsMagic : 0x62656572 /* SYSFS_MAGIC */;
  return 0;
}

int FakeSys::ReadFile(const char* path, size_t max_bytes, std::string* out) {
  if (auto it = files.find(path); it != files.end()) {
    *out = it->second.substr(0, max_bytes);
    return 0;
  }
  if (std::strcmp(path, "/proc/kallsyms") != 0 || !kallsyms_readable)
    return Fail(EACCES);
  *out = kernel64 ? "ffffffff81000000 T _stext\n" : "c1000000 T _stext\n";
  if (out->size() > max_bytes) out->resize(max_bytes);
  return 0;
}

}  // namespace remcov::testing
