// SPDX-License-Identifier: Apache-2.0
// The shared-area publication protocol, written once over a policy of memory
// orders, atomic types and entry storage (the seed patch's subject).
//
// A shared area is word 0 = count, then entry slots. Entries are
// `entry_words` words each (1 for PCs, 4 for comparison records); entry i
// occupies words 1 + i*entry_words ... The protocol:
//   * Local append (one writer, the traced thread): store the entry's words,
//     then publish count+1 with a release store. A reader on another thread
//     that loads the count with acquire sees a consistent prefix.
//   * Move (the end of a remote section; one writer at a time, serialized by
//     the device's move lock): load the count with acquire, copy the private
//     area after it, publish with a compare-and-swap (release on success); if
//     the CAS fails because the reader reset the count, redo the copy at the
//     new offset. This is the seed's smp_wmb() + WRITE_ONCE, plus the lossless
//     reset the kernel lacks.
//   * Drain (the reader): load the count with acquire, consume the entries,
//     compare-and-swap the count to 0 (release: the writer may reuse the slots
//     only after our reads); on failure consume the new tail and retry.
// docs/memory-ordering.md gives the argument; the verification harnesses in
// tests/ordering/ instantiate this same code with Relacy types and with
// deliberately weakened policies, which must fail.
//
// Thread safety: one writer at a time (Append/Move), any number of
// AppendOne calls only from the single owning thread, one drainer, and any
// number of Published readers.
// Signal safety: everything here is async-signal-safe (no libc, no locks).
#ifndef REMCOV_AREA_SHARED_AREA_H_
#define REMCOV_AREA_SHARED_AREA_H_

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "area/area_layout.h"

namespace remcov::internal {

// The production policy: word 0 is plain memory in the shared mapping accessed
// through std::atomic_ref (no standalone fences: ThreadSanitizer does not model
// them, see docs/memory-ordering.md).
struct StdPublishPolicy {
  using Word = uint64_t;
  using Count = uint64_t;   // word 0 of the area
  using Slots = uint64_t*;  // the area itself; slot i is word i

  // Local append: release so a concurrent acquire reader sees the entry.
  static constexpr std::memory_order kAppendPublish = std::memory_order_release;
  // Move: acquire pairs with the drainer's release reset (so we overwrite slots
  // only after the drainer's reads of them).
  static constexpr std::memory_order kMoveLoad = std::memory_order_acquire;
  // Move publish: release pairs with the drainer's acquire load (the seed).
  static constexpr std::memory_order kMovePublish = std::memory_order_acq_rel;
  static constexpr std::memory_order kMoveRetryLoad = std::memory_order_acquire;
  static constexpr bool kMoveUsesCas = true;
  // Reader: acquire pairs with kAppendPublish / kMovePublish.
  static constexpr std::memory_order kReaderLoad = std::memory_order_acquire;
  // Reset: release pairs with kMoveLoad / kMoveRetryLoad.
  static constexpr std::memory_order kReaderReset = std::memory_order_acq_rel;
  static constexpr std::memory_order kReaderResetFail =
      std::memory_order_acquire;
  static constexpr bool kReaderUsesCas = true;
  // The owner's reset of its own local trace (Collector::Reset; the kernel's
  // documented `__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED)`): relaxed,
  // the owning thread is the count's only writer (docs/client.md).
  static constexpr std::memory_order kOwnerReset = std::memory_order_relaxed;

  static Word Load(Count& c, std::memory_order mo) {
    return std::atomic_ref<Count>(c).load(mo);
  }
  // Relaxed load for the single writer re-reading its own last store.
  static Word LoadRelaxed(Count& c) {
    return std::atomic_ref<Count>(c).load(std::memory_order_relaxed);
  }
  static void Store(Count& c, Word v, std::memory_order mo) {
    std::atomic_ref<Count>(c).store(v, mo);
  }
  static bool Cas(Count& c, Word& expected, Word desired, std::memory_order ok,
                  std::memory_order fail) {
    return std::atomic_ref<Count>(c).compare_exchange_strong(expected, desired,
                                                             ok, fail);
  }
  static void StoreSlot(Slots s, size_t i, Word v) { s[i] = v; }
  static Word LoadSlot(Slots s, size_t i) { return s[i]; }
  // Stores one comparison record at the entry whose byte offset from the
  // first entry is `off` (entry pos: off = pos * 32, word 1 + 4 * pos), each
  // word through its own base+index+displacement operand (AppendRecord4 says
  // why the spelling matters).
  static void StoreRecord4(Slots slots, Word off, Word w0, Word w1, Word w2,
                           Word w3) {
    char* const s = reinterpret_cast<char*>(slots);
    *reinterpret_cast<Word*>(s + off + 8) = w0;
    *reinterpret_cast<Word*>(s + off + 16) = w1;
    *reinterpret_cast<Word*>(s + off + 24) = w2;
    *reinterpret_cast<Word*>(s + off + 32) = w3;
  }
  // Plain word copy; memcpy is avoided so this header stays libc-free and
  // usable in signal handlers (compilers turn the loop into a vector copy).
  static void CopyIn(Slots s, size_t first, const Word* src, size_t n) {
    Word* dst = s + first;
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
  }
};

struct MoveResult {
  uint64_t moved = 0;    // entries now published in the destination
  uint64_t dropped = 0;  // entries that did not fit, or refused (garbage)
  bool garbage = false;  // the destination count exceeded its capacity
  uint32_t retries = 0;  // CAS failures (concurrent resets) during the move
};

template <class P>
class SharedArea {
 public:
  using Word = typename P::Word;
  using Count = typename P::Count;
  using Slots = typename P::Slots;

  // Local append of one entry of `entry_words` words by the area's only writer.
  // Returns false (nothing stored) when the area is full or the count word is
  // beyond capacity.
  static inline bool AppendOne(Count& count, Slots slots, uint64_t capacity,
                               const Word* entry, size_t entry_words) {
    Word n = P::LoadRelaxed(count);  // relaxed: we are the only writer
    if (n >= capacity) return false;
    for (size_t i = 0; i < entry_words; i++)
      P::StoreSlot(slots, 1 + n * entry_words + i, entry[i]);
    P::Store(count, n + 1,
             P::kAppendPublish);  // pairs with the reader's acquire
    return true;
  }

  // Local append of one 4-word entry (a comparison record) by the area's only
  // writer, with AppendOne's protocol. Returns false (nothing stored) when the
  // area is full or the count is beyond capacity.
  //
  // Written for x86-64 code generation (docs/performance.md): each word is
  // stored through its own base+index+displacement operand, the index being
  // the byte offset pos * 32, so the address costs one shift and the new count
  // one `lea`. g++ 12 needs the exact spelling below: with a shared entry
  // pointer it adds base and offset in an extra instruction, and without the
  // empty asm it copies pos and adds 1 (`mov` + `add`); a loop or an array
  // argument makes it go through the stack. The asm emits nothing and does
  // not order memory accesses. The stores are the policy's (StoreRecord4), so
  // the model checker runs this same code over its own slot type.
  static inline bool AppendRecord4(Count& count, Slots slots, uint64_t capacity,
                                   Word w0, Word w1, Word w2, Word w3) {
    static_assert(sizeof(Word) == 8);
    Word pos = P::LoadRelaxed(count);  // relaxed: we are the only writer
    if (pos >= capacity) return false;
    Word next = pos + 1;
    const Word off = pos << 5;  // entry pos is at word 1 + 4*pos
    asm("" : "+r"(next));
    P::StoreRecord4(slots, off, w0, w1, w2, w3);
    P::Store(count, next,
             P::kAppendPublish);  // pairs with the reader's acquire
    return true;
  }

  // Local append of up to n entries by the area's only writer, with one
  // capacity check and one publication for the whole batch (the switch
  // callback). fill(entry, i) stores entry i at `entry` (its first word; an
  // offset of `slots`, so it is computed once). Returns the number
  // of entries stored; the rest did not fit.
  template <class Fill>
  static inline uint64_t AppendLocal(Count& count, Slots slots,
                                     uint64_t capacity, size_t entry_words,
                                     uint64_t n, Fill&& fill) {
    Word pos = P::LoadRelaxed(count);  // relaxed: we are the only writer
    if (pos >= capacity) return 0;
    uint64_t room = capacity - pos;
    uint64_t stored = n < room ? n : room;
    Slots entry = slots + 1 + pos * entry_words;
    for (uint64_t i = 0; i < stored; i++, entry += entry_words) fill(entry, i);
    if (stored) P::Store(count, pos + stored, P::kAppendPublish);
    return stored;
  }

  // Moves n entries from src into the shared area. REQUIRES: the caller is the
  // only mover of this area (the device's move lock). A concurrent Drain is
  // fine.
  static MoveResult Move(Count& count, Slots slots, uint64_t capacity,
                         size_t entry_words, const Word* src, uint64_t n) {
    MoveResult r;
    Word pos =
        P::Load(count, P::kMoveLoad);  // pairs with Drain's release reset
    for (;;) {
      if (pos > capacity) {
        // A garbage count (the user wrote word 0): never write outside the
        // area. The kernel drops the whole section here; so do we, counted.
        r.garbage = true;
        r.moved = 0;
        r.dropped = n;
        return r;
      }
      uint64_t room = capacity - pos;
      uint64_t moved = n < room ? n : room;
      P::CopyIn(slots, 1 + pos * entry_words, src, moved * entry_words);
      if constexpr (!P::kMoveUsesCas) {
        P::Store(count, pos + moved,
                 P::kMovePublish);  // pairs with reader acquire
        r.moved = moved;
        r.dropped = n - moved;
        return r;
      } else {
        Word expected = pos;
        // Success pairs with the reader's acquire load; failure re-reads a
        // reset and pairs with Drain's release CAS.
        if (P::Cas(count, expected, pos + moved, P::kMovePublish,
                   P::kMoveRetryLoad)) {
          r.moved = moved;
          r.dropped = n - moved;
          return r;
        }
        r.retries++;
        pos = expected;
      }
    }
  }

  // The owning thread's reset of a local trace (only it writes the count; a
  // reset from another thread is refused by the Collector, docs/client.md).
  static void ResetOwner(Count& count) { P::Store(count, 0, P::kOwnerReset); }

  // Reader that does not reset: the count as published, with acquire (pairs
  // with the writers' release publication). Not clamped: see Published.
  static Word LoadCount(Count& count) { return P::Load(count, P::kReaderLoad); }

  // Reader that does not reset: how many entries may be read, i.e. the count
  // (LoadCount, stored in *raw when given) clamped to capacity: a count beyond
  // it is never trusted, the mapping is writable by the traced code. Those
  // entries are published; a concurrent writer may add more.
  static Word Published(Count& count, uint64_t capacity, Word* raw = nullptr) {
    const Word n = LoadCount(count);
    if (raw != nullptr) *raw = n;
    return n > capacity ? static_cast<Word>(capacity) : n;
  }

  // Reader: consumes every published entry and resets the count to 0 without
  // losing entries that a concurrent Move publishes. consume(slots, first, end)
  // receives entry indexes [first, end). Returns the number of entries
  // consumed. `garbage` is set when the count exceeded capacity (clamped, never
  // trusted).
  template <class Consume>
  static uint64_t Drain(Count& count, Slots slots, uint64_t capacity,
                        Consume&& consume, bool* garbage = nullptr) {
    uint64_t total = 0;
    Word seen = 0;
    Word n = P::Load(count, P::kReaderLoad);  // pairs with the writers' release
    for (;;) {
      Word end = n;
      if (end > capacity) {
        if (garbage) *garbage = true;
        end = capacity;
      }
      if (end < seen) seen = 0;  // reset by someone else in between
      if (end > seen) {
        consume(slots, seen, end);
        total += end - seen;
      }
      seen = end;
      if constexpr (!P::kReaderUsesCas) {
        P::Store(count, 0, P::kReaderReset);
        return total;
      } else {
        Word expected = n;
        if (P::Cas(count, expected, 0, P::kReaderReset, P::kReaderResetFail))
          return total;
        n = expected;  // a move published more: consume the tail, retry
      }
    }
  }
};

}  // namespace remcov::internal

#endif  // REMCOV_AREA_SHARED_AREA_H_
