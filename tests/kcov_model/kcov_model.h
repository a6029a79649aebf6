// SPDX-License-Identifier: Apache-2.0
// A small executable model of the kernel's KCOV state machine (Linux 6.1,
// kernel/kcov.c: kcov_open, kcov_ioctl, kcov_ioctl_locked, kcov_mmap,
// kcov_close, kcov_task_exit, kcov_remote_start/stop), used by the random
// sequence test (sequence_test.cc) to check remcov's runtime errno for errno.
//
// It models what the ABI promises: return values and errno in the kernel's
// check order, which device a thread traces into, registered handles, each
// thread's common handle, and how many entries a traced call or a remote
// section adds to a device's area (with the capacity and private-area
// limits). Descriptor resolution comes first, as the VFS does it before
// kcov_ioctl runs: a closed descriptor is EBADF, an open non-device one gets
// its own file's answer (ENOTTY from ioctl, ENODEV from mmap, for /dev/null).
//
// Thread safety: none; the sequence test drives it from one thread.
#ifndef REMCOV_TESTS_KCOV_MODEL_KCOV_MODEL_H_
#define REMCOV_TESTS_KCOV_MODEL_KCOV_MODEL_H_

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

namespace remcov::model {

enum class Mode { kDisabled, kInit, kTracePc, kTraceCmp };

struct Device {
  Mode mode = Mode::kDisabled;
  bool remote = false;
  uint64_t size = 0;         // words, 0 before INIT_TRACE
  int owner = -1;            // kcov->t: the thread id, -1 for none
  uint32_t remote_size = 0;  // private area words of remote sections
  int refs = 0;              // the descriptor + the owning thread
  std::set<uint64_t> handles;
  uint64_t count = 0;  // word 0, as the model predicts it
  // remcov's counters (the kernel drops these entries silently): entries that
  // did not fit the shared area, and entries of sections that did not fit
  // their private area.
  uint64_t overflow = 0;
  uint64_t private_overflow = 0;
  // Entries of moves refused because word 0 held a count beyond the
  // capacity of the section's mode (a count a PC-mode trace left, then a
  // CMP-mode REMOTE_ENABLE of the same device): the whole section is
  // dropped, as kcov_move_area drops it, and counted (garbage_entries).
  uint64_t garbage = 0;
};

struct Thread {
  int device = -1;  // t->kcov: a device id, -1 for none
  uint64_t common_handle = 0;
};

// What a call returns: 0 (or a mapping) or -1 with this errno.
struct Result {
  int ret = 0;
  int err = 0;
};

class KcovModel {
 public:
  // Comparisons available (CONFIG_KCOV_ENABLE_COMPARISONS)?
  explicit KcovModel(bool comparisons = true) : comparisons_(comparisons) {}

  // A new descriptor `fd` for a new device (kcov_open).
  void Open(int fd);
  // A non-device descriptor that is open (e.g. /dev/null).
  void OpenForeign(int fd) { foreign_.insert(fd); }
  Result Close(int fd);
  Result Ioctl(int thread, int fd, unsigned long cmd, unsigned long arg);
  // KCOV_REMOTE_ENABLE with the argument as the prologue read it: `faults`
  // means copying (part of) it faults; num_handles is the first read.
  struct RemoteArg {
    bool header_faults = false;  // reading num_handles faults
    bool handles_fault = false;  // copying the whole argument faults
    uint32_t trace_mode = 0;
    uint32_t area_size = 0;
    uint32_t num_handles = 0;
    uint64_t common_handle = 0;
    std::vector<uint64_t> handles;
  };
  Result RemoteEnable(int thread, int fd, const RemoteArg& a);
  // mmap(NULL, len, prot, MAP_SHARED, fd, off).
  Result Mmap(int fd, size_t len, long off, size_t page_size);
  // The thread exits (kcov_task_exit).
  void ThreadExit(int thread);
  // The thread runs code that records `pcs` PCs / `cmps` comparison records
  // outside any section: predicted effect on its device.
  void RunTraced(int thread, uint64_t pcs, uint64_t cmps);
  // The thread runs that code inside remcov_remote_start(h)..stop().
  void RunSection(int thread, uint64_t handle, uint64_t pcs, uint64_t cmps);
  // Whether a section on this thread has kernel-defined behaviour that the
  // runtime shares (false for a thread that owns a remote device: remcov
  // refuses those sections, the kernel runs them; docs/kcov.md).
  bool SectionDefined(int thread) const;

  uint64_t CommonHandle(int thread) const {
    return ThreadAt(thread).common_handle;
  }
  // Whether the thread traces into or owns a device (t->kcov != NULL).
  bool ThreadHasDevice(int thread) const {
    return ThreadAt(thread).device != -1;
  }
  // The device behind an open descriptor, or nullopt.
  std::optional<int> DeviceOf(int fd) const;
  const Device& DeviceAt(int id) const { return devices_.at(id); }
  bool DeviceLive(int id) const { return devices_.count(id) != 0; }

  // A deliberately wrong model for the test's negative control: ENABLE of a
  // busy thread answers EINVAL instead of EBUSY.
  void BreakForNegativeControl() { broken_ = true; }

 private:
  Thread& ThreadAt(int thread) { return threads_[thread]; }
  const Thread& ThreadAt(int thread) const {
    static const Thread kNone;
    auto it = threads_.find(thread);
    return it == threads_.end() ? kNone : it->second;
  }
  int ModeOf(unsigned long arg, Mode* mode) const;  // kcov_get_mode
  void Disable(int thread, int id);                 // kcov_disable
  void Put(int id);                                 // kcov_put
  static bool CheckHandle(uint64_t h, bool common_valid, bool uncommon_valid,
                          bool zero_valid);
  // Capacity in entries of an area of `words` words in the device's mode.
  static uint64_t Capacity(Mode mode, uint64_t words);
  void Append(Device& d, uint64_t entries);

  bool comparisons_;
  bool broken_ = false;
  int next_id_ = 0;
  std::map<int, Device> devices_;         // live devices by id
  std::map<int, int> fds_;                // descriptor -> device id
  std::set<int> foreign_;                 // open non-device descriptors
  std::map<int, Thread> threads_;         // by the test's thread id
  std::map<uint64_t, int> handle_owner_;  // kcov_remote_map: handle -> device
};

}  // namespace remcov::model

#endif  // REMCOV_TESTS_KCOV_MODEL_KCOV_MODEL_H_
