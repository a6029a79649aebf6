// SPDX-License-Identifier: Apache-2.0
// Per-thread coverage state: the user-space counterpart of the kernel's
// task_struct kcov fields (kcov_mode, kcov_area, kcov_size, kcov, kcov_handle,
// kcov_sequence, kcov_softirq and the kcov_saved_* copies).
//
// The hot path reads `mode` once and compares it with the one mode it serves;
// everything that must not trace (signal handler outside a remote section, the
// runtime itself, a thread being torn down) is folded into that word as a flag
// bit, as the kernel folds KCOV_IN_CTXSW into kcov_mode.
//
// Thread safety: a ThreadState is written only by its own thread, in task
// context or in a signal handler on that thread. Signal handlers save and
// restore every field they change, so the interrupted code sees no change;
// std::atomic_signal_fence orders the field stores against the mode store for
// such same-thread interruption (the kernel's barrier()). Other threads read
// only `common_handle` (never) and the device pointer (under the device mutex).
// Signal safety: all fields are plain or lock-free atomics.
#ifndef REMCOV_RUNTIME_THREAD_STATE_H_
#define REMCOV_RUNTIME_THREAD_STATE_H_

#include <stdint.h>

#include <atomic>

namespace remcov::internal {

// Task-side mode values: the kernel's (include/linux/kcov.h).
inline constexpr uint32_t kModeDisabled = 0;
inline constexpr uint32_t kModeTracePc = 2;
inline constexpr uint32_t kModeTraceCmp = 3;
inline constexpr uint32_t kModeRemote =
    4;  // owns a remote device; never traces
// KCOV_MODE_UNIQUE_PC of the unmerged KCOV_UNIQUE_ENABLE series: each
// trace-pc-guard site's PC is recorded once (docs/kcov.md).
inline constexpr uint32_t kModeUniquePc = 5;
// remcov's counters mode (REMCOV_KCOV_TRACE_COUNTERS, docs/kcov.md): coverage
// counted into ThreadState::map. With comparisons (kModeCountersCmp, a device
// and registration mode) the thread's mode is kModeTraceCmp with a map, so
// the comparison callbacks are those of CMP mode, unchanged; the counting
// callbacks count when the mode is kModeCounters, or kModeTraceCmp with a
// map. INVARIANT: map is null whenever the thread does not count.
inline constexpr uint32_t kModeCounters = 6;
inline constexpr uint32_t kModeCountersCmp = 7;
// Set while a signal handler runs outside a remote section (the kernel's
// "not in task context"): the mode then never equals a trace mode.
inline constexpr uint32_t kModeInIrq = 1u << 30;
// Set while the thread is inside the runtime's task-side section code (area
// swap, the move under the move lock): a section started meanwhile by a
// handler the runtime did not wrap (raw rt_sigaction) is refused, counted,
// instead of reusing the area being moved or spinning on the move lock.
inline constexpr uint32_t kModeBusy = 1u << 29;

struct Device;
struct RemoteArea;

// The part of the state a signal-handler section saves and restores
// (kernel: kcov_saved_*).
struct TraceContext {
  uint32_t mode = kModeDisabled;  // copy of ThreadState::mode (raw, with flags)
  uint64_t* area = nullptr;       // word 0 = count
  uint64_t capacity = 0;          // in entries
  std::atomic<uint64_t>* overflow =
      nullptr;                   // where dropped entries are counted
  RemoteArea* remote = nullptr;  // the active section's private area, if any
  uint8_t* map = nullptr;        // counters modes: the counter map
  uint64_t map_mask = 0;         // its size - 1
  uint32_t map_shift = 64;       // 64 - log2(its size)
};

// One signal handler level: a trampoline on this thread's stack (its frame),
// the alternate signal stack configured when it was delivered ([alt_lo,
// alt_hi), 0 when none) and whether the trampoline runs on it, and the mode it
// interrupted (restored when the level ends, by return or found abandoned).
struct IrqLevel {
  uintptr_t frame = 0;
  uintptr_t alt_lo = 0;
  uintptr_t alt_hi = 0;
  bool on_alt = false;
  uint32_t mode = kModeDisabled;
};
// Levels recorded per thread; deeper nesting is not recorded, and such levels
// are only cleared at thread exit or by the return of an enclosing handler.
inline constexpr uint32_t kMaxIrqLevels = 8;

struct ThreadState {
  // Read by every callback, written only by this thread (in task context or
  // in a signal handler on it): accessed through LoadModeRelaxed /
  // StoreModeRelaxed, except that the callbacks read it with one plain load
  // so the compiler can fold it into a compare with a memory operand (one
  // instruction on the disabled path).
  uint32_t mode = kModeDisabled;
  uint64_t* area = nullptr;
  uint64_t capacity = 0;
  std::atomic<uint64_t>* overflow = nullptr;
  RemoteArea* remote = nullptr;
  // Counters modes: the map the callbacks count into (the device's, or the
  // section's private one), its size - 1, and 64 - log2(its size) (a trace_pc
  // slot is the top bits of a multiplicative hash). Set before the mode, like
  // area (StartCounting).
  uint8_t* map = nullptr;
  uint64_t map_mask = 0;
  uint32_t map_shift = 64;
  // The main program's load bias (CounterOrigin), subtracted from a PC or a
  // guard's address before it becomes a slot, so that a slot is the same in
  // every process of one program whatever ASLR did.
  uintptr_t map_origin = 0;

  // Unique-PC mode (kModeUniquePc): the bitmap (the first words of the
  // device's area; `area` then starts after it) and its size in bits, and a
  // guard index this thread drew but lost to another thread (reused for the
  // next guard, so no index is wasted). Written only by ioctl paths and the
  // guard callback of this thread; never in a signal handler (a handler never
  // runs in unique mode).
  uint64_t* bitmap = nullptr;
  uint64_t bitmap_bits = 0;
  uint32_t spare_guard_index = 0;

  // The device this thread enabled locally, or owns remotely (kernel: t->kcov).
  Device* device = nullptr;
  // The common handle (kernel: t->kcov_handle); inherited by created threads.
  uint64_t common_handle = 0;

  // Signal handler nesting depth (trampolines on this thread's stack).
  uint32_t irq_depth = 0;
  // A remote section started in a signal handler is active (kernel:
  // kcov_softirq), and the handler depth that started it.
  uint32_t softirq_active = 0;
  uint32_t softirq_depth = 0;
  TraceContext saved;  // the interrupted context (kernel: kcov_saved_*)
  // irq_levels[d] describes handler level d + 1 (d < irq_depth, kMaxIrqLevels).
  // A handler left by longjmp/siglongjmp or by thread exit never pops its
  // level; LeaveSignalLevels (remote.cc) does (docs/kcov.md).
  IrqLevel irq_levels[kMaxIrqLevels];

  // The thread's task-context private area. It stays attached to the thread
  // across sections (it is this thread's for life; returned to the pool at
  // thread exit or when a section needs another size), bound to the
  // registration of `cached_handle`: remcov_remote_start with that handle
  // takes it without a lookup while the device's sequence is unchanged
  // (docs/design.md, "Remote sections: the fast path"). Signal handlers never
  // touch either field. INVARIANT: cached_area == nullptr, or its (device,
  // sequence, mode) are those registered for cached_handle (0 until the first
  // task section that found its handle).
  RemoteArea* cached_area = nullptr;
  uint64_t cached_handle = 0;
  // The thread's private area for counters-mode task sections: kept like
  // cached_area but never bound to a handle (such sections always take the
  // slow path, which sets the map fields).
  RemoteArea* counters_area = nullptr;
  // pthread key registered (thread-exit hook installed).
  bool exit_hook = false;
  // (pid << 32 | tid) once computed: this thread as the holder of a device's
  // cross-process move lock (remote.cc). 0 = not yet; cleared in a fork child.
  uint64_t move_identity = 0;
  // The device slots this thread's exec in progress looked at (PrepareExec),
  // for ExecFailed, which then needs no table lock. 0 = none.
  uint32_t exec_slots = 0;
};

// Initial-exec TLS (set for the whole runtime target): one %fs-relative load
// in an executable, two in a shared library, and no TLS guard (constinit).
extern constinit thread_local ThreadState tls_state;

// Relaxed atomic accesses of ThreadState::mode (same-thread signal handlers
// are the only concurrency; atomic_signal_fence orders them).
inline uint32_t LoadModeRelaxed(const ThreadState& t) {
  return __atomic_load_n(&t.mode, __ATOMIC_RELAXED);
}
inline void StoreModeRelaxed(ThreadState& t, uint32_t mode) {
  __atomic_store_n(&t.mode, mode, __ATOMIC_RELAXED);
}

inline ThreadState& CurrentThread() { return tls_state; }

// Counters-mode slots, before the map's mask (the callbacks and
// remcov_counter_slot): a trace_pc return address hashes to the top bits of
// a multiplicative (Fibonacci) hash of its offset from the main program's
// load bias, so distinct PCs may share a slot; a trace-pc-guard site's slot is
// its guard's index from that bias, so the sites of one module never share a
// slot while they fit the map.
inline uint64_t CounterPcSlot(uint64_t pc, uintptr_t origin, uint32_t shift) {
  return ((pc - origin) * 0x9e3779b97f4a7c15ull) >> shift;
}
inline uint64_t CounterGuardSlot(uintptr_t guard, uintptr_t origin) {
  return (guard - origin) >> 2;
}

// Installs the thread-exit hook that disables the device on exit (kernel:
// kcov_task_exit). Not signal-safe; called from ioctl paths only.
void EnsureThreadExitHook(ThreadState& t);

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_THREAD_STATE_H_
