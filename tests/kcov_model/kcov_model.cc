// SPDX-License-Identifier: Apache-2.0
// The KCOV model (kcov_model.h). Each function cites the kernel function whose
// checks it reproduces, in that function's order (Linux 6.1, kernel/kcov.c).
#include "kcov_model/kcov_model.h"

#include <errno.h>
#include <limits.h>

#include "remcov/kcov_abi.h"

namespace remcov::model {

namespace {
Result Fail(int err) { return Result{-1, err}; }
}  // namespace

void KcovModel::Open(int fd) {
  foreign_.erase(fd);
  const int id = next_id_++;
  devices_[id].refs = 1;
  fds_[fd] = id;
}

std::optional<int> KcovModel::DeviceOf(int fd) const {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return std::nullopt;
  return it->second;
}

// kcov_close: drops the descriptor's reference.
Result KcovModel::Close(int fd) {
  if (foreign_.erase(fd) != 0) return Result{};
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Fail(EBADF);
  const int id = it->second;
  fds_.erase(it);
  Put(id);
  return Result{};
}

// kcov_put: the last reference frees the device (kcov_remote_reset first).
void KcovModel::Put(int id) {
  Device& d = devices_.at(id);
  if (--d.refs > 0) return;
  for (uint64_t h : d.handles) handle_owner_.erase(h);
  devices_.erase(id);
}

// kcov_get_mode.
int KcovModel::ModeOf(unsigned long arg, Mode* mode) const {
  if (arg == REMCOV_KCOV_TRACE_PC) {
    *mode = Mode::kTracePc;
    return 0;
  }
  if (arg == REMCOV_KCOV_TRACE_CMP) {
    if (!comparisons_) return REMCOV_ENOTSUPP;
    *mode = Mode::kTraceCmp;
    return 0;
  }
  return EINVAL;
}

// kcov_disable = kcov_task_reset + kcov_remote_reset / kcov_reset.
void KcovModel::Disable(int thread, int id) {
  Thread& t = ThreadAt(thread);
  t.device = -1;
  t.common_handle = 0;  // kcov_task_reset clears kcov_handle
  Device& d = devices_.at(id);
  for (uint64_t h : d.handles) handle_owner_.erase(h);
  d.handles.clear();
  d.owner = -1;
  d.mode = Mode::kInit;
  d.remote = false;
  d.remote_size = 0;
}

// kcov_check_handle.
bool KcovModel::CheckHandle(uint64_t h, bool common_valid, bool uncommon_valid,
                            bool zero_valid) {
  if (h & ~(REMCOV_KCOV_SUBSYSTEM_MASK | REMCOV_KCOV_INSTANCE_MASK))
    return false;
  switch (h & REMCOV_KCOV_SUBSYSTEM_MASK) {
    case REMCOV_KCOV_SUBSYSTEM_COMMON:
      return (h & REMCOV_KCOV_INSTANCE_MASK) ? common_valid : zero_valid;
    case REMCOV_KCOV_SUBSYSTEM_USB:
      return uncommon_valid;
    default:
      return false;
  }
}

// kcov_ioctl + kcov_ioctl_locked, after the VFS resolved the descriptor.
Result KcovModel::Ioctl(int thread, int fd, unsigned long cmd,
                        unsigned long arg) {
  if (foreign_.count(fd) != 0) return Fail(ENOTTY);  // /dev/null's answer
  auto fit = fds_.find(fd);
  if (fit == fds_.end()) return Fail(EBADF);
  Device& d = devices_.at(fit->second);
  const int id = fit->second;
  Thread& t = ThreadAt(thread);
  if (cmd == REMCOV_KCOV_INIT_TRACE) {
    // kcov_ioctl, KCOV_INIT_TRACE: size, allocation, then the mode.
    if (arg < 2 || arg > INT_MAX / sizeof(unsigned long)) return Fail(EINVAL);
    if (d.mode != Mode::kDisabled) return Fail(EBUSY);
    d.size = arg;
    d.mode = Mode::kInit;
    return Result{};
  }
  if (cmd == REMCOV_KCOV_ENABLE) {
    if (d.mode != Mode::kInit || d.size == 0) return Fail(EINVAL);
    if (d.owner != -1 || t.device != -1) return Fail(broken_ ? EINVAL : EBUSY);
    Mode mode;
    if (int err = ModeOf(arg, &mode)) return Fail(err);
    d.mode = mode;
    d.owner = thread;
    t.device = id;
    d.refs++;  // kcov_get
    return Result{};
  }
  if (cmd == REMCOV_KCOV_DISABLE) {
    if (arg != 0 || d.owner != thread) return Fail(EINVAL);
    Disable(thread, id);
    Put(id);
    return Result{};
  }
  return Fail(ENOTTY);
}

// kcov_ioctl's KCOV_REMOTE_ENABLE prologue, then kcov_ioctl_locked's.
Result KcovModel::RemoteEnable(int thread, int fd, const RemoteArg& a) {
  if (foreign_.count(fd) != 0) return Fail(ENOTTY);
  auto fit = fds_.find(fd);
  if (fit == fds_.end()) return Fail(EBADF);
  if (a.header_faults) return Fail(EFAULT);
  if (a.num_handles > REMCOV_KCOV_REMOTE_MAX_HANDLES) return Fail(EINVAL);
  if (a.handles_fault) return Fail(EFAULT);
  const int id = fit->second;
  Device& d = devices_.at(id);
  Thread& t = ThreadAt(thread);
  if (d.mode != Mode::kInit || d.size == 0) return Fail(EINVAL);
  if (d.owner != -1 || t.device != -1) return Fail(EBUSY);
  Mode mode;
  if (int err = ModeOf(a.trace_mode, &mode)) return Fail(err);
  d.mode = mode;
  t.device = id;
  d.owner = thread;
  d.remote = true;
  d.remote_size = a.area_size;
  auto add = [&](uint64_t h) {
    if (handle_owner_.count(h) != 0) return EEXIST;
    handle_owner_[h] = id;
    d.handles.insert(h);
    return 0;
  };
  for (uint32_t i = 0; i < a.num_handles; i++) {
    int err = CheckHandle(a.handles[i], false, true, false) ? add(a.handles[i])
                                                            : EINVAL;
    if (err != 0) {
      Disable(thread, id);
      return Fail(err);
    }
  }
  if (a.common_handle != 0) {
    int err = CheckHandle(a.common_handle, true, false, false)
                  ? add(a.common_handle)
                  : EINVAL;
    if (err != 0) {
      Disable(thread, id);
      return Fail(err);
    }
    t.common_handle = a.common_handle;
  }
  d.refs++;  // kcov_get: put in kcov_task_exit or KCOV_DISABLE
  return Result{};
}

// The mmap system call's own checks in their order (arch sys_mmap: an
// unaligned offset; ksys_mmap_pgoff: the descriptor; do_mmap: a zero length,
// then a file without mmap), then kcov_mmap.
Result KcovModel::Mmap(int fd, size_t len, long off, size_t page_size) {
  if (off % static_cast<long>(page_size) != 0) return Fail(EINVAL);
  const bool foreign = foreign_.count(fd) != 0;
  auto fit = fds_.find(fd);
  if (!foreign && fit == fds_.end()) return Fail(EBADF);
  if (len == 0) return Fail(EINVAL);
  if (foreign) return Fail(ENODEV);  // /dev/null has no mmap
  const Device& d = devices_.at(fit->second);
  const size_t vma = (len + page_size - 1) / page_size * page_size;
  if (d.size == 0 || off != 0 || vma != d.size * sizeof(unsigned long))
    return Fail(EINVAL);
  return Result{};
}

// kcov_task_exit.
void KcovModel::ThreadExit(int thread) {
  auto it = threads_.find(thread);
  if (it == threads_.end()) return;
  const int id = it->second.device;
  if (id != -1 && devices_.at(id).owner == thread) {
    Disable(thread, id);
    Put(id);
  }
  threads_.erase(thread);
}

uint64_t KcovModel::Capacity(Mode mode, uint64_t words) {
  if (words < 2) return 0;
  return mode == Mode::kTraceCmp ? (words - 1) / 4 : words - 1;
}

void KcovModel::Append(Device& d, uint64_t entries) {
  const uint64_t cap = Capacity(d.mode, d.size);
  const uint64_t room = d.count < cap ? cap - d.count : 0;
  const uint64_t stored = entries < room ? entries : room;
  d.count += stored;
  d.overflow += entries - stored;
}

// __sanitizer_cov_trace_pc / write_comp_data in a task with a local device.
void KcovModel::RunTraced(int thread, uint64_t pcs, uint64_t cmps) {
  const Thread& t = ThreadAt(thread);
  if (t.device == -1) return;
  Device& d = devices_.at(t.device);
  if (d.remote || d.owner != thread) return;
  if (d.mode == Mode::kTracePc) Append(d, pcs);
  if (d.mode == Mode::kTraceCmp) Append(d, cmps);
}

bool KcovModel::SectionDefined(int thread) const {
  const Thread& t = ThreadAt(thread);
  return t.device == -1 || !devices_.at(t.device).remote;
}

// kcov_remote_start + kcov_remote_stop (kcov_move_area) in task context.
void KcovModel::RunSection(int thread, uint64_t handle, uint64_t pcs,
                           uint64_t cmps) {
  // A section that does not start (an invalid or unregistered handle, or a
  // task that traces itself: the kernel WARNs) leaves the code between start
  // and stop traced as the task's own.
  auto it = handle_owner_.find(handle);
  if (!CheckHandle(handle, true, true, true) || ThreadAt(thread).device != -1 ||
      it == handle_owner_.end()) {
    RunTraced(thread, pcs, cmps);
    return;
  }
  Device& d = devices_.at(it->second);
  const uint64_t n = d.mode == Mode::kTraceCmp ? cmps : pcs;
  const uint64_t cap = Capacity(d.mode, d.remote_size);
  const uint64_t kept = n < cap ? n : cap;
  d.private_overflow += n - kept;
  if (d.count > Capacity(d.mode, d.size)) {
    d.garbage += kept;  // a count beyond the mode's capacity: refused whole
    return;
  }
  Append(d, kept);
}

}  // namespace remcov::model
