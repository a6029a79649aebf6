// SPDX-License-Identifier: Apache-2.0
// Devices: the user-space counterpart of the kernel's struct kcov, one per
// remcov_open(), each backed by a memfd whose pages are the shared area.
//
// Devices live in a static, never-freed table (type-stable memory): a remote
// section that outlives its view can still look at the slot, finds a newer
// sequence there, and drops its coverage (counted), as the kernel's sequence
// check does. `sequence` keeps increasing across reuse of a slot; DISABLE
// bumps the device's epoch in its control page (device_shared.h), which every
// process moving into the device checks.
//
// Thread safety: the ioctl-side fields are guarded by `mu`. The move-side
// fields (the control page's `accepting` and `epoch`, the area while
// accepting) are written with `mu` and both halves of the move lock held and
// read under the move lock by movers; remote sections snapshot (slot,
// sequence, epoch, mode) from the handle map at start, never under a lock.
// The lock order is mu -> registration lock -> move_lock -> the control
// page's move_holder.
// Signal safety: only MoveLock and the pending list are touched from signal
// handlers (see remote.cc).
#ifndef REMCOV_RUNTIME_DEVICE_H_
#define REMCOV_RUNTIME_DEVICE_H_

#include <stdint.h>
#include <sys/types.h>

#include <atomic>
#include <mutex>

#include "base/env_flags.h"
#include "runtime/device_shared.h"
#include "runtime/thread_state.h"

namespace remcov::internal {

// Device (struct kcov) modes.
inline constexpr uint32_t kDevDisabled = 0;
inline constexpr uint32_t kDevInit = 1;
// kModeTracePc / kModeTraceCmp when enabled.

inline constexpr uint32_t kMaxDevices = 4096;

// A spinlock that knows its owner, so a signal handler on the owning thread
// never spins on it (it defers instead). try_lock only from signal handlers.
//
// seq_cst (not just acquire/release): the lock word is one half of the
// store-buffer pattern with Device::pending (remote.cc, UnlockAndDrain and
// DeferMove). The holder stores "free", then loads the list; a handler pushes,
// then tries the lock. With a release unlock the holder's load may be
// satisfied before its store is visible (x86 reorders a store with a later
// load), both sides then miss each other and the pushed area waits for the
// next mover. On x86 the seq_cst unlock is an `xchg` instead of a `mov` (the
// same instruction count); the CAS is `lock cmpxchg` either way.
class MoveLock {
 public:
  bool TryLock(const ThreadState* self) {
    const ThreadState* expected = nullptr;
    return owner_.compare_exchange_strong(
        expected, self, std::memory_order_seq_cst, std::memory_order_relaxed);
  }
  void Lock(const ThreadState* self);
  // Release half pairs with the acquire half of TryLock/Lock.
  void Unlock() { owner_.store(nullptr, std::memory_order_seq_cst); }
  bool HeldBy(const ThreadState* self) const {
    return owner_.load(std::memory_order_relaxed) == self;
  }
  // The child side of fork: the owner, if any, was another thread.
  void ResetAfterFork() { owner_.store(nullptr, std::memory_order_relaxed); }

 private:
  std::atomic<const ThreadState*> owner_{nullptr};
};

// A process's view of a device. The state every descriptor and process
// shares (mode, size, owner task, statistics) is in the control page `sh`
// (device_shared.h); the view holds this process's mappings, its owner thread
// (when the owner is one of its threads) and the remote machinery, whose
// handles and sections are this process's.
struct Device {
  // ---- guarded by mu (the ioctl side) ----
  std::mutex mu;
  bool in_use = false;
  // The memfd's identity: every descriptor naming it (dup, dup2, fcntl,
  // inherited, received) finds this view.
  dev_t dev = 0;
  ino_t ino = 0;
  int fd = -1;          // the descriptor of the call in progress
  bool has_fd = false;  // this process may hold a descriptor naming it
  // What PrepareExec changed, for ExecFailed: the thread whose exec
  // prepared the device (null: none), the owner thread id it replaced and
  // the descriptor it opened for the next image (-1: none). exec_prepared is
  // written under mu; ExecFailed reads it first without mu.
  std::atomic<const ThreadState*> exec_prepared{nullptr};
  int32_t exec_saved_tid = 0;
  int exec_carried_fd = -1;
  uint64_t size = 0;  // words of the local mapping (sh->size)
  // An area adopted at an offset of a hand-off file (AdoptAreaAt): found by
  // its descriptor, not its inode (one file holds every traced process's
  // slot), and mapped from `base`.
  bool adopted = false;
  off_t base = 0;
  // `remcov trace`'s hand-off device (trace_env.cc, MarkStepsAside): when
  // its owner thread enables a device of the program's own, registers remote
  // handles or starts a remote section, it is disabled first
  // (StepAsideForProgram), so the program's use of the API works as without
  // the tool. Set once, on the owner thread, before KCOV_ENABLE.
  bool steps_aside = false;
  uint64_t* area = nullptr;  // the runtime's own mapping of the memfd
  size_t map_bytes = 0;
  ThreadState* owner = nullptr;  // the owner thread, when it is in this process
  bool remote = false;           // the local owner enabled it remotely
  uint32_t remote_size = 0;      // private area words for task sections
  uint32_t counter_bits = 0;     // counters modes: log2 of the map's size
  // Domains (domain.h): this process's own descriptor of the file while it
  // has registrations published in the domain (close-on-exec; other members
  // open /proc/PID/fd/N of it), or, for a view of another member's device,
  // the descriptor this process opened it by (its reference). -1: none.
  int domain_fd = -1;
  bool domain_view = false;  // a view of another member's device

  // The shared part: this slot's control page, the page that follows the
  // view in its DeviceSlotMem (a constant offset: no pointer to load on the
  // remote sections' path). Mapped from the device's file while the view is
  // in use; a freed view's page is a private zero page, so a late reader never
  // touches anything shared.
  DeviceShared* sh() const;

  // ---- move side ----
  // This process's half of the move lock; its holder then takes the control
  // page's `move_holder` (remote.cc, "the move lock").
  MoveLock move_lock;
  // Whether this process's move-lock holder also holds the control page's
  // half (remote.cc, LockMoveShared): guarded by move_lock.
  bool shared_held = false;
  std::atomic<uint32_t> sequence{1};  // only increases, across slot reuse
  std::atomic<RemoteArea*> pending{nullptr};  // moves deferred by handlers
  // Private area size for task sections, readable without mu by
  // remcov_remote_start (a stale read only sizes a section that the sequence
  // check then drops).
  std::atomic<uint32_t> section_words{0};
};

// The table (never freed). Index = slot. Each slot is a view followed by the
// page its device's control page is mapped at (MAP_FIXED over the slot's own
// zeroed page): 4 KiB pages, as on x86-64, which the runtime requires.
inline constexpr size_t kControlPageBytes = 4096;
static_assert(sizeof(Device) <= kControlPageBytes);
struct alignas(kControlPageBytes) DeviceSlotMem {
  Device dev;
  unsigned char pad[kControlPageBytes - sizeof(Device)] = {};
  unsigned char control[kControlPageBytes] = {};
};
static_assert(sizeof(DeviceSlotMem) == 2 * kControlPageBytes);
extern DeviceSlotMem g_device_slots[kMaxDevices];
inline Device* DeviceAt(uint32_t slot) { return &g_device_slots[slot].dev; }
inline uint32_t DeviceSlot(const Device* d) {
  return static_cast<uint32_t>(reinterpret_cast<const DeviceSlotMem*>(d) -
                               g_device_slots);
}
inline DeviceShared* Device::sh() const {
  // The slot's control page is not part of the view's own state: reaching
  // it from a const view is not a const violation.
  return reinterpret_cast<DeviceShared*>(reinterpret_cast<uintptr_t>(this) +
                                         kControlPageBytes);
}

// Process-wide remote counters (remcov_runtime_stats).
struct RuntimeCounters {
#define REMCOV_RUNTIME_STAT(name, what) std::atomic<uint64_t> name{0};
#include "remcov/stats.inc"
#undef REMCOV_RUNTIME_STAT
};
extern constinit RuntimeCounters g_counters;

// This process's pid and its start time (field 22 of /proc/PID/stat; 0 when
// /proc is unreadable), computed once and cleared in a fork child: the
// identity an owner record or a domain entry holds (proc_stat.h,
// ProcessAlive). Any thread.
pid_t SelfPid();
uint64_t SelfStart();

// Remote machinery used by the ioctl side (remote.cc).
// Registers handles for d (EINVAL/EEXIST/ENOMEM); on failure nothing stays
// registered for d. REQUIRES: d->mu held.
int RegisterRemote(Device* d, const uint64_t* handles, uint32_t n,
                   uint64_t common);
// Removes every handle of d. REQUIRES: d->mu held.
void UnregisterRemote(Device* d);
// Lets or stops moves into d, in every process: bumps the device's epoch
// when stopping. REQUIRES: d->mu.
void SetAccepting(Device* d, bool on);
// Preallocates the signal-handler area pool (first REMOTE_ENABLE); 0 or errno.
int EnsureIrqPool();
// Ends a signal-handler section left open when its handler returns.
void EndSignalSection(ThreadState& t);
// Handler levels left without returning (longjmp/siglongjmp out of a handler,
// pthread_exit or cancellation in one; docs/kcov.md, "Deliberate differences",
// 6). Both end such a level's open section (its coverage is moved, its pool
// area given back), drop the level and restore the mode it interrupted; both
// block signals while they change the levels, and only when there is one to
// leave. Async-signal-safe.
// Leaves every level above `keep` (they are known to be gone: an enclosing
// handler returns, or the thread exits).
void LeaveSignalLevelsAbove(ThreadState& t, uint32_t keep);
// Leaves the levels whose frames no longer enclose sp, the caller's stack
// position (a frame address): the check of remcov_remote_start/stop and of the
// device calls. Levels beyond kMaxIrqLevels are never judged.
void LeaveAbandonedSignalLevels(ThreadState& t, uintptr_t sp);
// EnsureThreadExitHook from a signal handler: only when the runtime is
// initialized and the key's slot needs no allocation (the thread-exit hook
// then clears a handler that never returns). Async-signal-safe.
void EnsureThreadExitHookInHandler(ThreadState& t);
// Returns the thread's cached private area to the pool (thread exit).
void ReleaseThreadAreas(ThreadState& t);
// Locks (true) or unlocks (false) remote.cc's mutexes around fork, after the
// device mutexes in the lock order.
void RemoteLocksForFork(bool lock);
// Makes remote.cc's mutexes anew and forgets the thread's move identity (the
// child side of fork, after RemoteLocksForFork(true) in the parent). The
// handle map is kept: the child reaches its parent's devices with it.
void ResetRemoteAfterFork();
// Sets the fork child's environment so that a program it execs keeps the
// calling thread's common handle (domain.h, kInheritedHandleEnv), or has
// none when the thread has none. Called by ResetRemoteAfterFork.
void ExportCommonHandle(ThreadState& t);
// The kInheritedHandleEnv value (domain.h) that gives a new program image t's
// common handle: the registration's record, formatted into buf (n bytes; the
// length, or 0 when there is nothing to carry: no handle, a registration that
// no longer stands, a buffer too small, or this process's own registration
// when !new_process, an exec without a fork, which ends it as the kernel's
// exec ends the owner task's other threads). Allocates nothing and takes no
// lock: called in vfork children too (interpose_exec.cc).
size_t CommonHandleEntryValue(const ThreadState& t, bool new_process, char* buf,
                              size_t n);

// An exec without a new process (interpose_exec.cc), before the system call:
// prepares this process's devices for the image that follows, as the
// kernel's exec keeps the calling task (and its t->kcov) and ends the
// process's other threads (kcov_task_exit). A device the calling thread owns
// is recorded as the leader's (after exec the calling thread is the leader,
// with the process's pid); a device another thread owns is recorded as ended
// (the new image returns it to INIT, counted in owner_exits). Either gets a
// descriptor that survives exec when the ones this process used for it are
// close-on-exec (the new image finds the device through it, AdoptIfOwned,
// and makes it close-on-exec). ExecFailed(t) undoes what t's PrepareExec
// did. Nothing in a vfork child (its views are its parent's). No allocation;
// PrepareExec only tries the table, view and control-page mutexes (an exec
// from a signal handler that interrupted their holder leaves that device as
// it is), and ExecFailed takes only those of the devices it prepared.
void PrepareExec(ThreadState& t);
void ExecFailed(ThreadState& t);

// A view of another domain member's device for its registration r (domain.h):
// the one this process has, or one attached through the registrant's
// descriptor (/proc/PID/fd/N), checked (the file is r's, a device of this
// layout, of a size INIT_TRACE could set) and with its area mapped. Sets the
// view's slot and sequence; false when the device cannot be reached or does
// not check out. Task context (opens and maps files, takes mutexes).
struct DomainRecord;
// A close-on-exec duplicate of fd at a high number (near the descriptor
// limit, at most 1024 - 64), for the runtime's own references to device
// files: the kernel makes no descriptors of its own, so the program's next
// open() must get the number it would get without remcov. -1 with errno.
int PrivateDescriptor(int fd);
bool AttachDomainDevice(const DomainRecord& r, uint32_t* slot,
                        uint32_t* sequence);

// remcov_rt_adopt_area for an area that starts `offset` bytes into the file
// (a multiple of the page size): KCOV_INIT_TRACE and remcov_mmap map the
// file from there. The `remcov trace --in-process` hook (trace_env.cc) gives
// each traced process its own slot of one hand-off file this way. The
// device's semantics are otherwise those of remcov_rt_adopt_area. -1 with
// errno (EINVAL for an unaligned offset).
int AdoptAreaAt(int fd, uint64_t offset);

// Marks the device of fd (an adopted hand-off area) as one that steps aside
// for the program's own use of the API (Device::steps_aside). -1 with errno
// (EBADF: not a device).
int MarkStepsAside(int fd);

// When the calling thread traces into a device that steps aside, disables it
// (as KCOV_DISABLE would, keeping the thread's common handle): the program's
// own enable, remote registration or section then proceeds. Task context
// only (takes the device's mutex); not from a signal handler.
void StepAsideForProgram(ThreadState& t);

// Capacities are the kernel's: size-1 PCs; (size-1)/4 comparison records.
inline uint64_t CapacityFor(uint32_t mode, uint64_t size) {
  if (size < 2) return 0;
  return mode == kModeTraceCmp ? (size - 1) / 4 : size - 1;
}

// Tracing field helpers shared by devices and remote sections: fields first,
// then the mode (kernel: kcov_start); mode first, then fields (kcov_stop).
inline void StartTracing(ThreadState& t, uint32_t mode, uint64_t* area,
                         uint64_t capacity, std::atomic<uint64_t>* overflow) {
  t.area = area;
  t.capacity = capacity;
  t.overflow = overflow;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  StoreModeRelaxed(t, mode);
}
// The main program's load bias (computed once, at start-up): the origin of
// counters-mode slots (ThreadState::map_origin). Async-signal-safe.
uintptr_t CounterOrigin();
// StartTracing for the counters modes: the map of 2^bits counters, then the
// comparison trace (area, capacity; unused without comparisons).
inline void StartCounting(ThreadState& t, uint32_t mode, uint8_t* map,
                          uint32_t bits, uint64_t* area, uint64_t capacity,
                          std::atomic<uint64_t>* overflow) {
  t.map = map;
  t.map_mask = (uint64_t{1} << bits) - 1;
  t.map_shift = 64 - bits;
  t.map_origin = CounterOrigin();
  StartTracing(t, mode == kModeCountersCmp ? kModeTraceCmp : mode, area,
               capacity, overflow);
}
inline bool IsCountersMode(uint32_t mode) {
  return (mode | 1) == kModeCountersCmp;
}
inline void StopTracing(ThreadState& t, uint32_t new_mode = kModeDisabled) {
  StoreModeRelaxed(t, new_mode);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t.area = nullptr;
  t.capacity = 0;
  t.overflow = nullptr;
}

// The handle registration mutex, exposed so a test can hold it while other
// threads run remote sections (they must not need it).
std::mutex& RegistrationMutexForTesting();
// How many slots of the handle map a lookup of `handle` examines (what a
// remote section's start costs beyond its constant part).
uint32_t HandleProbesForTesting(uint64_t handle);
// The value of one of the runtime's environment variables (base/env_flags.inc):
// its default when unset or, with a message on stderr, when it is not a
// number in the flag's range. Not async-signal-safe (getenv).
uint64_t RuntimeEnvNumber(const EnvNumberFlag& flag);

// The view of the device `fd` names (nullptr if none), and both halves of its
// move lock taken and never released: a test's child process holds them when
// it is killed.
Device* DeviceForTesting(int fd);
void HoldMoveLockForTesting(Device* d);

// Forces the interposers (signal handlers, thread creation) to be linked in.
void LinkInterposers();

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_DEVICE_H_
