// SPDX-License-Identifier: Apache-2.0
// The instrumentation callbacks that code built with
// -fsanitize-coverage=trace-pc,trace-cmp calls on every basic block and every
// comparison: the user-space counterparts of the kernel's
// __sanitizer_cov_trace_* in kernel/kcov.c.
//
// Hot-path rules (docs/design.md): no allocation, no locks, no libc, never
// instrumented themselves, async-signal-safe, errno untouched. A thread with no
// enabled device pays one thread-local load and a compare. Entries are stored
// before the count that covers them, and the count is published with release
// (SharedArea::AppendOne): a reader on another thread that loads the count with
// acquire sees a consistent prefix. The kernel stores the count first to
// protect against interrupts that bypass its mode check; here signal handlers
// never write the interrupted area (kModeInIrq, remote sections use their own
// area), so the order can be the one readers need.
//
// Signal safety: yes. Thread safety: each callback touches only the calling
// thread's state and the area it owns.
#include "runtime/callbacks.h"

#include <stdint.h>

#include "remcov/kcov_abi.h"

#include "area/shared_area.h"
#include "runtime/thread_state.h"

#if defined(__clang__)
#define REMCOV_INTERNAL_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define REMCOV_INTERNAL_NO_COVERAGE __attribute__((no_sanitize_coverage))
#endif
#define REMCOV_INTERNAL_CALLBACK                          \
  extern "C" __attribute__((visibility("default"), used)) \
  REMCOV_INTERNAL_NO_COVERAGE
#define REMCOV_INTERNAL_ALWAYS_INLINE inline __attribute__((always_inline))
#define REMCOV_INTERNAL_RET_IP \
  reinterpret_cast<uint64_t>(__builtin_return_address(0))

namespace remcov::internal {
namespace {

using Area = SharedArea<StdPublishPolicy>;

// Cold path: entries that did not fit are counted, never dropped silently.
__attribute__((noinline, cold)) REMCOV_INTERNAL_NO_COVERAGE void CountOverflow(
    ThreadState& t, uint64_t n) {
  std::atomic<uint64_t>* counter = t.overflow;
  if (counter != nullptr) counter->fetch_add(n, std::memory_order_relaxed);
}

REMCOV_INTERNAL_ALWAYS_INLINE void WriteCmp(uint64_t type, uint64_t arg1,
                                            uint64_t arg2, uint64_t ip) {
  ThreadState& t = tls_state;
  if (t.mode != kModeTraceCmp) return;  // plain load: see ThreadState::mode
  uint64_t* area = t.area;
  // One shift addresses the record (AppendRecord4; docs/performance.md).
  if (!Area::AppendRecord4(area[0], area, t.capacity, type, arg1, arg2, ip))
    CountOverflow(t, 1);
}

// Counters modes: adds one to a slot of the thread's map, saturating at 255.
// Plain byte load and store: only this thread writes its map (a section's
// private map, or a local trace's); the move adds a private map into the
// collector's under the move lock (remote.cc, MergeCounters).
// REQUIRES: slot < the map's size.
REMCOV_INTERNAL_ALWAYS_INLINE void CountSlot(ThreadState& t, uint64_t slot) {
  uint8_t* c = t.map + slot;
#if defined(__x86_64__)
  // add, then subtract the carry: 255 + 1 wraps to 0 with CF set and comes
  // back to 255. Two instructions where the compilers emit five.
  asm("addb $1, %0\n\tsbbb $0, %0" : "+m"(*c) : : "cc");
#else
  *c = static_cast<uint8_t>(*c + (*c != 255));
#endif
}

}  // namespace
}  // namespace remcov::internal

using remcov::internal::tls_state;
using remcov::internal::WriteCmp;

REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_pc(void) {
  remcov::internal::ThreadState& t = tls_state;
  if (t.mode != remcov::internal::kModeTracePc)
    return;  // see ThreadState::mode
  const uint64_t pc = REMCOV_INTERNAL_RET_IP;
  uint64_t* area = t.area;
  if (!remcov::internal::Area::AppendOne(area[0], area, t.capacity, &pc, 1))
    remcov::internal::CountOverflow(t, 1);
}

// trace_pc for counters mode (remcov's extension, docs/kcov.md): counts when
// the thread counts, else records as __sanitizer_cov_trace_pc. A separate
// entry so that trace_pc's own paths stay as short as they are: code reaches
// it when its trace_pc calls are renamed to it (the libFuzzer helper,
// cmake/RemcovLibFuzzer.cmake, does so); plain __sanitizer_cov_trace_pc calls
// count nothing in counters mode.
namespace remcov::internal {
namespace {
// __remcov_cov_trace_pc_counting's modes other than kModeCounters, out of
// line: `ip` is the instrumented caller's return address.
__attribute__((noinline)) REMCOV_INTERNAL_NO_COVERAGE void PcCountingOtherModes(
    ThreadState& t, uint32_t mode, uint64_t ip) {
  if (mode == kModeTraceCmp) {
    // Counters with comparisons (kModeTraceCmp with a map), else CMP mode,
    // where trace_pc records nothing.
    if (t.map != nullptr)
      CountSlot(t, CounterPcSlot(ip, t.map_origin, t.map_shift));
    return;
  }
  if (mode != kModeTracePc) return;
  uint64_t* area = t.area;
  if (!Area::AppendOne(area[0], area, t.capacity, &ip, 1)) CountOverflow(t, 1);
}
}  // namespace
}  // namespace remcov::internal

REMCOV_INTERNAL_CALLBACK void __remcov_cov_trace_pc_counting(void) {
  remcov::internal::ThreadState& t = tls_state;
  const uint32_t mode = t.mode;  // plain load: see ThreadState::mode
  if (__builtin_expect(mode == remcov::internal::kModeCounters, 1)) {
    remcov::internal::CountSlot(
        t, remcov::internal::CounterPcSlot(REMCOV_INTERNAL_RET_IP, t.map_origin,
                                           t.map_shift));
    return;
  }
  if (mode == remcov::internal::kModeDisabled) return;
  remcov::internal::PcCountingOtherModes(t, mode, REMCOV_INTERNAL_RET_IP);
}

REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_cmp1(uint8_t arg1,
                                                         uint8_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(0), arg1, arg2, REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_cmp2(uint16_t arg1,
                                                         uint16_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(1), arg1, arg2, REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_cmp4(uint32_t arg1,
                                                         uint32_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(2), arg1, arg2, REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_cmp8(uint64_t arg1,
                                                         uint64_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(3), arg1, arg2, REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_const_cmp1(uint8_t arg1,
                                                               uint8_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(0) | REMCOV_KCOV_CMP_CONST, arg1, arg2,
           REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_const_cmp2(uint16_t arg1,
                                                               uint16_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(1) | REMCOV_KCOV_CMP_CONST, arg1, arg2,
           REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_const_cmp4(uint32_t arg1,
                                                               uint32_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(2) | REMCOV_KCOV_CMP_CONST, arg1, arg2,
           REMCOV_INTERNAL_RET_IP);
}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_const_cmp8(uint64_t arg1,
                                                               uint64_t arg2) {
  WriteCmp(REMCOV_KCOV_CMP_SIZE(3) | REMCOV_KCOV_CMP_CONST, arg1, arg2,
           REMCOV_INTERNAL_RET_IP);
}

// cases[0] is the number of cases, cases[1] the operand width in bits, then the
// case constants. One record per case, constant first (arg1 = case, arg2 =
// val), as kernel/kcov.c does (counters mode with comparisons: at most two,
// below). Mode and capacity are checked once per switch,
// and the count is published once, after all records.
namespace remcov::internal {
namespace {
// Out of line so that the disabled path stays a compare and a return (clang
// otherwise hoists the width decoding above the mode check).
__attribute__((noinline)) REMCOV_INTERNAL_NO_COVERAGE void TraceSwitchEnabled(
    ThreadState& t, uint64_t val, const uint64_t* cases, uint64_t ip) {
  uint64_t type;
  switch (cases[1]) {
    case 8:
      type = REMCOV_KCOV_CMP_SIZE(0);
      break;
    case 16:
      type = REMCOV_KCOV_CMP_SIZE(1);
      break;
    case 32:
      type = REMCOV_KCOV_CMP_SIZE(2);
      break;
    case 64:
      type = REMCOV_KCOV_CMP_SIZE(3);
      break;
    default:
      return;  // the kernel ignores other widths
  }
  type |= REMCOV_KCOV_CMP_CONST;
  uint64_t n = cases[0];
  const uint64_t* consts = cases + 2;
  uint64_t nearest[2];
  if (t.map != nullptr) {
    // Counters with comparisons (remcov's extension for fuzzers,
    // docs/kcov.md): a fuzzer's switch records, not the kernel's one per
    // case. Nothing when every case or the value is below 256 (the records
    // would only offer small constants that mutations find anyway); else the
    // nearest case below the value and the nearest above, those that exist.
    // The compilers pass the cases in ascending order.
    if (n == 0 || consts[n - 1] < 256 || val < 256) return;
    uint64_t lo = 0, hi = n;  // the first case >= val
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (consts[mid] < val) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    const uint64_t above = lo < n && consts[lo] == val ? lo + 1 : lo;
    n = 0;
    if (lo > 0) nearest[n++] = consts[lo - 1];
    if (above < cases[0]) nearest[n++] = consts[above];
    consts = nearest;
  }
  uint64_t* area = t.area;
  uint64_t stored = Area::AppendLocal(area[0], area, t.capacity, 4, n,
                                      [&](uint64_t* rec, uint64_t i) {
                                        rec[0] = type;
                                        rec[1] = consts[i];
                                        rec[2] = val;
                                        rec[3] = ip;
                                      });
  if (stored < n) CountOverflow(t, n - stored);
}
}  // namespace
}  // namespace remcov::internal

// The second parameter is void* because g++ declares this callback as a
// builtin with that type when sanitizers are on.
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_switch(uint64_t val,
                                                           void* cases) {
  remcov::internal::ThreadState& t = tls_state;
  if (t.mode != remcov::internal::kModeTraceCmp) return;
  remcov::internal::TraceSwitchEnabled(
      t, val, static_cast<const uint64_t*>(cases), REMCOV_INTERNAL_RET_IP);
}

// g++ also instruments floating-point comparisons. The kernel has no encoding
// for them (it never compares floats), so they record nothing; defined so that
// g++-instrumented code links.
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_cmpf(float, float) {}
REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_cmpd(double, double) {}

// trace-pc-guard (clang only; g++ 12 has no such instrumentation): the
// callbacks of the unmerged KCOV_UNIQUE_ENABLE series. Each call site's u32
// guard is 0 until its first hit in unique mode, which draws the next index
// from a global counter (stored + 1, so 0 stays "unassigned"). In unique mode
// a site whose bitmap bit is already set records nothing; otherwise the bit is
// set and the PC appended to the trace part, published like trace_pc's. In
// PC mode the callback records like trace_pc. Sites beyond the bitmap record
// every hit, as in the proposal. In counters modes (remcov's extension) the
// guard's position is the slot; its value is not used.
namespace remcov::internal {
namespace {

constinit std::atomic<uint32_t> g_guard_count{0};

// Cold: once per call site. Relaxed: the guard value is an index, nothing is
// published through it; a lost race keeps our drawn index for the next site.
__attribute__((noinline, cold)) REMCOV_INTERNAL_NO_COVERAGE uint32_t
AssignGuard(ThreadState& t, uint32_t* guard) {
  uint32_t idx = t.spare_guard_index;
  if (idx == 0) idx = g_guard_count.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t expected = 0;
  if (std::atomic_ref<uint32_t>(*guard).compare_exchange_strong(
          expected, idx, std::memory_order_relaxed,
          std::memory_order_relaxed)) {
    t.spare_guard_index = 0;
    return idx;
  }
  t.spare_guard_index = idx;
  return expected;
}

}  // namespace
}  // namespace remcov::internal

REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_pc_guard_init(uint32_t*,
                                                                  uint32_t*) {
  // Guards start at 0 and are numbered lazily, on first hit (the proposal).
}

namespace remcov::internal {
namespace {
// The guard callback's modes other than kModeCounters, out of line (and
// reached by a tail call) so that counting takes no stack frame and no
// dispatch table: `ip` is the instrumented caller's return address.
__attribute__((noinline)) REMCOV_INTERNAL_NO_COVERAGE void GuardOtherModes(
    ThreadState& t, uint32_t mode, uint32_t* guard, uint64_t ip) {
  if (mode == kModeTraceCmp) {
    // Counters with comparisons (kModeTraceCmp with a map), else CMP mode,
    // where guard sites record nothing.
    if (t.map != nullptr)
      CountSlot(t, CounterGuardSlot(reinterpret_cast<uintptr_t>(guard),
                                    t.map_origin) &
                       t.map_mask);
    return;
  }
  if (mode == kModeUniquePc) {
    // Relaxed: other threads only ever store the same final value.
    uint32_t g =
        std::atomic_ref<uint32_t>(*guard).load(std::memory_order_relaxed);
    if (g == 0) g = AssignGuard(t, guard);
    const uint64_t bit = g - 1;
    if (bit < t.bitmap_bits) {
      // Only this thread writes the bitmap; a reader may read it
      // concurrently, hence atomic_ref (relaxed; the bit is set before the
      // release publish of the count below, so an acquire reader of the
      // count sees the bits of every PC it sees).
      std::atomic_ref<uint64_t> word(t.bitmap[bit >> 6]);
      const uint64_t mask = 1ull << (bit & 63);
      const uint64_t v = word.load(std::memory_order_relaxed);
      if (v & mask) return;
      word.store(v | mask, std::memory_order_relaxed);
    }
  } else if (mode != kModeTracePc) {
    return;
  }
  uint64_t* area = t.area;
  if (!Area::AppendOne(area[0], area, t.capacity, &ip, 1)) CountOverflow(t, 1);
}
}  // namespace
}  // namespace remcov::internal

REMCOV_INTERNAL_CALLBACK void __sanitizer_cov_trace_pc_guard(uint32_t* guard) {
  remcov::internal::ThreadState& t = tls_state;
  const uint32_t mode = t.mode;  // plain load: see ThreadState::mode
  if (__builtin_expect(mode == remcov::internal::kModeCounters, 1)) {
    // Counters (remcov's extension): the guard's position is the slot.
    remcov::internal::CountSlot(
        t, remcov::internal::CounterGuardSlot(
               reinterpret_cast<uintptr_t>(guard), t.map_origin) &
               t.map_mask);
    return;
  }
  if (mode == remcov::internal::kModeDisabled) return;
  remcov::internal::GuardOtherModes(t, mode, guard, REMCOV_INTERNAL_RET_IP);
}

// The same callbacks under a second name, __remcov_cov_* for
// __sanitizer_cov_*: aliases (the same code, so the same hot-path guarantees),
// not wrappers, so that __builtin_return_address(0) still yields the
// instrumented caller. They let coverage-instrumented objects whose callback
// references were renamed (objcopy --redefine-syms) link next to another
// runtime that owns the __sanitizer_cov_* names, such as libFuzzer's
// (docs/fuzzing.md, cmake/RemcovLibFuzzer.cmake).
// With sanitizers on, g++ declares the __sanitizer_cov_* callbacks as
// builtins that are `leaf` and `nothrow`; an alias must not be less
// restrictive than its target (-Wmissing-attributes), and both hold for
// these callbacks anyway (they call nothing and never throw).
#if defined(__GNUC__) && !defined(__clang__)
#define REMCOV_INTERNAL_ALIAS_ATTRS leaf, nothrow,
#else
#define REMCOV_INTERNAL_ALIAS_ATTRS
#endif
#define REMCOV_INTERNAL_ALIAS(name, params)              \
  extern "C" __attribute__((                             \
      REMCOV_INTERNAL_ALIAS_ATTRS visibility("default"), \
      alias("__sanitizer_cov_" #name))) void __remcov_cov_##name params
#define REMCOV_SANCOV_CALLBACK(name, params) \
  REMCOV_INTERNAL_ALIAS(name, params);
#include "runtime/sancov_callbacks.inc"
#undef REMCOV_SANCOV_CALLBACK
#undef REMCOV_INTERNAL_ALIAS
#undef REMCOV_INTERNAL_ALIAS_ATTRS
