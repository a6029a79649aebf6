// SPDX-License-Identifier: Apache-2.0
// The part of a device that every descriptor and every process holding it
// shares: the kernel's `struct kcov` is one object however many descriptors
// (dup, dup2, fcntl(F_DUPFD), fork) and processes name it (kernel/kcov.c:
// kcov_open, kcov_get/kcov_put). remcov keeps that part in the device's own
// memfd, one page at kControlOffset, so whoever can reach the file reaches
// the same state; each process keeps a view of it (Device, device.h) with its
// own mappings and its own threads' bookkeeping. docs/design.md, "One device
// across descriptors and processes", describes the protocol.
//
// Thread and process safety: the fields below `mu` are read and written with
// `mu` held (a robust, process-shared mutex: a process killed while holding it
// leaves it recoverable, EOWNERDEAD). The counters are relaxed atomics,
// written by callbacks and moves in any process without `mu`.
#ifndef REMCOV_RUNTIME_DEVICE_SHARED_H_
#define REMCOV_RUNTIME_DEVICE_SHARED_H_

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>

#include "remcov/kcov_abi.h"

namespace remcov::internal {

// Where the control page lives in a device's memfd: above the largest area
// INIT_TRACE accepts (INT_MAX / sizeof(long) words, rounded up to a page, is
// at most 2 GiB), so the area keeps file offset 0 (the kernel's mmap offset)
// and never moves. The file is sparse: the gap costs no memory.
inline constexpr uint64_t kControlOffset = uint64_t{1} << 31;
inline constexpr char kControlMagic[8] = {'R', 'C', 'K', 'C',
                                          'O', 'V', 'D', '1'};
inline constexpr uint32_t kControlVersion = 3;

struct DeviceShared {
  char magic[8];  // kControlMagic, written last at creation
  uint32_t version;
  uint32_t reserved;
  pthread_mutex_t mu;  // robust, process-shared

  // ---- guarded by mu ----
  // kDevDisabled, kDevInit or the enabled mode (kModeTracePc, kModeTraceCmp,
  // kModeUniquePc); an enabled device has an owner. Atomic so a view may read
  // it without mu for statistics; writes hold mu.
  std::atomic<uint32_t> mode;
  uint32_t owner_remote;  // the owner enabled it with REMOTE_ENABLE
  uint64_t size;          // words; set once by INIT_TRACE, never changed
  // The owner task (kernel: kcov->t): process, thread, and the process's
  // start time (so a reused pid is not taken for the owner). 0 = none.
  int32_t owner_pid;
  int32_t owner_tid;
  uint64_t owner_start;
  // A remote owner's KCOV_REMOTE_ENABLE argument (kernel: its kcov_remote
  // entries and t->kcov_handle, which belong to the task and so outlive an
  // exec of its image): what the new image registers again when it finds
  // the device its own (device.cc, AdoptIfOwned). Meaningful while
  // owner_remote is set; read only by the owner's process.
  uint32_t remote_trace_mode;
  uint32_t remote_area_size;
  uint32_t remote_num_handles;
  // A descriptor of the device the exec'ing image left open for the next
  // one, plus one (0: none): the owner's calls used a close-on-exec one
  // (device.cc, PrepareExec). The new image makes it close-on-exec once it
  // finds it (AdoptIfOwned).
  uint32_t exec_descriptor;
  uint64_t remote_common_handle;
  uint64_t remote_handles[REMCOV_KCOV_REMOTE_MAX_HANDLES];

  // ---- the move side (remote.cc), shared by every process that moves ----
  // Whether remote sections may be moved in (set by REMOTE_ENABLE, cleared by
  // DISABLE), and the epoch that DISABLE bumps (kernel: kcov->sequence): a
  // section bound to an older epoch, in whichever process it ran, is dropped
  // and counted at its move. Written with mu and the move lock held; read by
  // movers under the move lock, and relaxed by remcov_remote_start's check.
  std::atomic<uint32_t> accepting;
  std::atomic<uint32_t> epoch;
  // The move lock's cross-process half: 0 = free, else the holder's
  // (pid << 32 | tid). One thread per process contends for it, the holder
  // of that process's own MoveLock (device.h); a holder that died is found
  // by the waiters and its lock taken over (MoveLockShared, remote.cc).
  std::atomic<uint64_t> move_holder;

  // ---- statistics (relaxed counters; read by remcov_device_stats) ----
#define REMCOV_DEVICE_STAT(name, what) std::atomic<uint64_t> name;
#include "remcov/stats.inc"
#undef REMCOV_DEVICE_STAT
};

static_assert(sizeof(DeviceShared) <= 4096, "the control block is one page");
static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "atomics shared between processes must be lock-free");

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_DEVICE_SHARED_H_
