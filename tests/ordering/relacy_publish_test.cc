// SPDX-License-Identifier: Apache-2.0
// Exhaustive model checking of the shared-area protocol with Relacy.
//
// The production template SharedArea<P> (src/area/shared_area.h) is
// instantiated with a policy whose count word is rl::atomic<uint64_t> and
// whose entry slots are rl::var<uint64_t>: Relacy then explores every
// interleaving (and every value a relaxed load may return) of a mover and a
// reader over a tiny area, and reports a DATA RACE when an entry is read
// without a happens-before edge to the store that wrote it (a stale entry) or
// overwritten while a reader may still read it. Lost and duplicated entries
// are USER ASSERT FAILED from the scenario's own bookkeeping. The production
// orders must come out clean; every weakening must fail with the specific
// result kind pinned below.
//
// Relacy runs its threads as fibers on the calling thread, so the
// bookkeeping members (plain arrays) need no synchronization of their own.
#include <stddef.h>
#include <stdint.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "area/shared_area.h"
#include "weakened_policy.h"

// Relacy #defines memory_order_*, new, delete, malloc, free, assert, errno.
// Everything above is included first; the macros are removed right after so
// that GoogleTest's own `new` stays the real one. Our code writes
// std::memory_order::x and rl::mo_x, which the macros do not touch.
// clang-format off
#include <relacy/relacy.hpp>
// clang-format on
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef assert
#undef errno

namespace remcov::ordering {
namespace {

using internal::SharedArea;
using internal::StdPublishPolicy;

constexpr rl::memory_order ToRl(std::memory_order mo) {
  switch (mo) {
    case std::memory_order::relaxed:
      return rl::mo_relaxed;
    case std::memory_order::consume:
      return rl::mo_consume;
    case std::memory_order::acquire:
      return rl::mo_acquire;
    case std::memory_order::release:
      return rl::mo_release;
    case std::memory_order::acq_rel:
      return rl::mo_acq_rel;
    case std::memory_order::seq_cst:
      return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

// The Relacy policy. It derives from the production policy so that every
// memory order and switch is the production one; only the types and access
// functions are Relacy's. Cell is the entry-slot type: rl::var (plain memory,
// races are reported) or rl::atomic accessed relaxed (stale values are
// actually returned, so the scenario's freshness assertion fires instead).
template <class Cell>
struct RelacyPolicyT : StdPublishPolicy {
  using Word = uint64_t;
  using Count = rl::atomic<uint64_t>;
  using Slots = Cell*;

  static Word Load(Count& c, std::memory_order mo) {
    return c.load(ToRl(mo), $);
  }
  static Word LoadRelaxed(Count& c) { return c.load(rl::mo_relaxed, $); }
  static void Store(Count& c, Word v, std::memory_order mo) {
    c.store(v, ToRl(mo), $);
  }
  static bool Cas(Count& c, Word& expected, Word desired, std::memory_order ok,
                  std::memory_order fail) {
    return c.compare_exchange_strong(expected, desired, ToRl(ok), $, ToRl(fail),
                                     $);
  }
  static void StoreSlot(Slots s, size_t i, Word v) { Put(s[i], v); }
  static Word LoadSlot(Slots s, size_t i) { return Get(s[i]); }
  static void CopyIn(Slots s, size_t first, const Word* src, size_t n) {
    for (size_t i = 0; i < n; i++) Put(s[first + i], src[i]);
  }
  // off is the record's byte offset from the first entry (pos * 32).
  static void StoreRecord4(Slots s, Word off, Word w0, Word w1, Word w2,
                           Word w3) {
    const size_t first = 1 + (off >> 5) * 4;
    Put(s[first], w0);
    Put(s[first + 1], w1);
    Put(s[first + 2], w2);
    Put(s[first + 3], w3);
  }

 private:
  static void Put(rl::var<uint64_t>& v, Word x) { v($).store(x); }
  static Word Get(rl::var<uint64_t>& v) { return v($).load(); }
  static void Put(rl::atomic<uint64_t>& v, Word x) {
    v.store(x, rl::mo_relaxed, $);
  }
  static Word Get(rl::atomic<uint64_t>& v) { return v.load(rl::mo_relaxed, $); }
};

using RelacyPolicy = RelacyPolicyT<rl::var<uint64_t>>;
using RelacyAtomicSlotsPolicy = RelacyPolicyT<rl::atomic<uint64_t>>;

// The entry-slot cell type of a (possibly weakened) Relacy policy.
template <class P>
struct SlotArray;
template <class Cell>
struct SlotArray<RelacyPolicyT<Cell>> {
  using type = Cell;
};
template <class Base, Mutation M>
struct SlotArray<Weakened<Base, M>> : SlotArray<Base> {};

template <class P>
using CellOf = typename SlotArray<P>::type;

// ---------------------------------------------------------------------------
// Scenario A1 (message passing, the seed patch): the owning thread appends
// entries 1 and 2 with AppendOne; a reader thread reads like kcov.rst's user
// (acquire load of the count, then the entries) and asserts that every entry
// below the count it saw is the fresh value, never the poison (0).
template <class P>
struct AppendSuite : rl::test_suite<AppendSuite<P>, 2> {
  static constexpr uint64_t kCapacity = 2;
  rl::atomic<uint64_t> count;
  CellOf<P> slots[1 + kCapacity];  // slot 0 mirrors the count word; unused

  void before() {
    count.store(0, rl::mo_relaxed, $);
    for (auto& s : slots) P::StoreSlot(&s, 0, 0);  // poison
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (uint64_t id = 1; id <= kCapacity; id++) {
        const uint64_t entry[1] = {id};
        SharedArea<P>::AppendOne(count, slots, kCapacity, entry, 1);
      }
    } else {
      // The Collector's read (Pcs/Cmps): SharedArea::Published.
      const uint64_t n = SharedArea<P>::Published(count, kCapacity);
      for (uint64_t i = 0; i < n; i++) {
        const uint64_t v = P::LoadSlot(slots, 1 + i);
        RL_ASSERT(v == i + 1);  // stale entry: a fresh count with an old slot
      }
    }
  }
};

// ---------------------------------------------------------------------------
// Scenario A3 (comparison records, the trace_cmp callbacks): the owning thread
// appends records 1 and 2 with AppendRecord4; the reader reads like
// Collector::Cmps and checks all four words of every record below the count.
template <class P>
struct Record4Suite : rl::test_suite<Record4Suite<P>, 2> {
  static constexpr uint64_t kCapacity = 2;
  rl::atomic<uint64_t> count;
  CellOf<P> slots[1 + 4 * kCapacity];

  void before() {
    count.store(0, rl::mo_relaxed, $);
    for (auto& s : slots) P::StoreSlot(&s, 0, 0);  // poison
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (uint64_t id = 1; id <= kCapacity; id++)
        SharedArea<P>::AppendRecord4(count, slots, kCapacity, id, 10 * id,
                                     100 * id, 1000 * id);
    } else {
      const uint64_t n = SharedArea<P>::Published(count, kCapacity);
      for (uint64_t r = 0; r < n; r++) {
        const uint64_t id = r + 1;
        RL_ASSERT(P::LoadSlot(slots, 1 + 4 * r) == id);
        RL_ASSERT(P::LoadSlot(slots, 2 + 4 * r) == 10 * id);
        RL_ASSERT(P::LoadSlot(slots, 3 + 4 * r) == 100 * id);
        RL_ASSERT(P::LoadSlot(slots, 4 + 4 * r) == 1000 * id);
      }
    }
  }
};

// ---------------------------------------------------------------------------
// Scenario A4 (the switch callback): the owning thread appends a batch of two
// records and then one more with AppendLocal (one publication per batch); the
// reader reads like Collector::Cmps. The fill stores through the policy, as
// the callback stores into its slots.
template <class P>
struct SwitchSuite : rl::test_suite<SwitchSuite<P>, 2> {
  static constexpr uint64_t kCapacity = 3;
  rl::atomic<uint64_t> count;
  CellOf<P> slots[1 + 4 * kCapacity];

  void before() {
    count.store(0, rl::mo_relaxed, $);
    for (auto& s : slots) P::StoreSlot(&s, 0, 0);  // poison
  }
  void Batch(uint64_t first_id, uint64_t n) {
    SharedArea<P>::AppendLocal(count, slots, kCapacity, 4, n,
                               [first_id](typename P::Slots entry, uint64_t i) {
                                 for (size_t w = 0; w < 4; w++)
                                   P::StoreSlot(entry, w,
                                                (first_id + i) * (w + 1));
                               });
  }
  void thread(unsigned index) {
    if (index == 0) {
      Batch(1, 2);
      Batch(3, 1);
    } else {
      const uint64_t n = SharedArea<P>::Published(count, kCapacity);
      for (uint64_t r = 0; r < n; r++)
        for (uint64_t w = 0; w < 4; w++)
          RL_ASSERT(P::LoadSlot(slots, 1 + 4 * r + w) == (r + 1) * (w + 1));
    }
  }
};

// ---------------------------------------------------------------------------
// Scenarios A2 + B (move/drain): the mover moves batches {1, 2}, {3}, {4}
// into an area of capacity 3 (so a move may find it full and drop) while the
// reader drains three times; after both
// threads finish, a final drain collects the rest. Every entry the reader
// consumes must be fresh: a published id (not the poison 0) that was not
// consumed before (a stale, resurrected entry is a duplicate). After the end,
// every id that Move reported as published must have been consumed exactly
// once (a lost entry), and no id it reported as dropped may appear.
template <class P>
struct MoveDrainSuite : rl::test_suite<MoveDrainSuite<P>, 2> {
  static constexpr uint64_t kCapacity = 3;
  static constexpr uint64_t kIds = 4;
  rl::atomic<uint64_t> count;
  CellOf<P> slots[1 + kCapacity];
  // Bookkeeping, outside the model (fibers: no concurrency of its own).
  int consumed[kIds + 1] = {};
  bool published[kIds + 1] = {};

  void before() {
    count.store(0, rl::mo_relaxed, $);
    for (auto& s : slots) P::StoreSlot(&s, 0, 0);  // poison
  }

  void Consume(typename P::Slots s, uint64_t first, uint64_t end) {
    for (uint64_t i = first; i < end; i++) {
      const uint64_t v = P::LoadSlot(s, 1 + i);
      RL_ASSERT(v >= 1 && v <= kIds);  // poison: a stale, never-written slot
      RL_ASSERT(consumed[v] == 0);     // stale: an entry consumed before
      consumed[v]++;
    }
  }
  void DrainOnce() {
    SharedArea<P>::Drain(count, slots, kCapacity,
                         [this](typename P::Slots s, uint64_t first,
                                uint64_t end) { Consume(s, first, end); });
  }
  void MoveBatch(uint64_t first_id, uint64_t n) {
    uint64_t batch[kIds];
    for (uint64_t i = 0; i < n; i++) batch[i] = first_id + i;
    internal::MoveResult r =
        SharedArea<P>::Move(count, slots, kCapacity, 1, batch, n);
    RL_ASSERT(!r.garbage);
    for (uint64_t i = 0; i < r.moved; i++) published[first_id + i] = true;
  }

  void thread(unsigned index) {
    if (index == 0) {
      MoveBatch(1, 2);
      MoveBatch(3, 1);
      MoveBatch(4, 1);
    } else {
      DrainOnce();
      DrainOnce();
      DrainOnce();
    }
  }
  void after() {
    DrainOnce();
    for (uint64_t id = 1; id <= kIds; id++)
      RL_ASSERT(consumed[id] == (published[id] ? 1 : 0));  // lost or duplicated
  }
};

struct RunResult {
  rl::test_result_e result;
  uint64_t iterations;  // explored (success) or the failing one
  double seconds;
};

// Runs one exhaustive search. Relacy's reports (and on failure the full
// execution history) go to a log file next to the test binary: Relacy
// replaces operator new during the search, so it must not write into a
// growing std::string (an ofstream's buffer is allocated once, up front).
template <class Suite>
RunResult Check(const std::string& name) {
  std::ofstream log("relacy_" + name + ".log");
  rl::test_params p;
  p.search_type = rl::sched_full;
  p.output_stream = &log;
  p.progress_stream = &log;
  const auto start = std::chrono::steady_clock::now();
  rl::simulate<Suite>(p);
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  RunResult r{p.test_result, static_cast<uint64_t>(p.stop_iteration),
              took.count()};
  std::printf(
      "[relacy] %-40s %-18s iterations=%llu time=%.3fs (log: relacy_%s.log)\n",
      name.c_str(), rl::test_result_str(r.result),
      static_cast<unsigned long long>(r.iterations), r.seconds, name.c_str());
  return r;
}

template <Mutation M>
using W = Weakened<RelacyPolicy, M>;
template <Mutation M>
using WA = Weakened<RelacyAtomicSlotsPolicy, M>;

// --- correct policy: clean after an exhaustive search ---------------------
TEST(RelacyPublishTest, AppendWithProductionOrdersIsClean) {
  RunResult r = Check<AppendSuite<RelacyPolicy>>("append_correct");
  EXPECT_EQ(r.result, rl::test_result_success) << rl::test_result_str(r.result);
  EXPECT_GT(r.iterations, 0u);
}
TEST(RelacyPublishTest, ComparisonAppendWithProductionOrdersIsClean) {
  RunResult r = Check<Record4Suite<RelacyPolicy>>("record4_correct");
  EXPECT_EQ(r.result, rl::test_result_success) << rl::test_result_str(r.result);
  EXPECT_GT(r.iterations, 0u);
}
TEST(RelacyPublishTest, SwitchAppendWithProductionOrdersIsClean) {
  RunResult r = Check<SwitchSuite<RelacyPolicy>>("switch_correct");
  EXPECT_EQ(r.result, rl::test_result_success) << rl::test_result_str(r.result);
  EXPECT_GT(r.iterations, 0u);
}
TEST(RelacyPublishTest, MoveDrainWithProductionOrdersIsClean) {
  RunResult r = Check<MoveDrainSuite<RelacyPolicy>>("move_drain_correct");
  EXPECT_EQ(r.result, rl::test_result_success) << rl::test_result_str(r.result);
  EXPECT_GT(r.iterations, 0u);
}
TEST(RelacyPublishTest, MoveDrainWithRelaxedAtomicSlotsIsClean) {
  RunResult r = Check<MoveDrainSuite<RelacyAtomicSlotsPolicy>>(
      "move_drain_atomic_slots_correct");
  EXPECT_EQ(r.result, rl::test_result_success) << rl::test_result_str(r.result);
  EXPECT_GT(r.iterations, 0u);
}

// --- mutations: each must fail, with the specific kind --------------------
// Missing message-passing order: an entry is read without happens-before to
// its store (rl::var slots: DATA RACE) ...
TEST(RelacyPublishTest, AppendWithoutWriterReleaseRaces) {
  EXPECT_EQ(Check<AppendSuite<W<Mutation::kWriterReleaseRemoved>>>(
                "append_writer_release_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, AppendWithoutReaderAcquireRaces) {
  EXPECT_EQ(Check<AppendSuite<W<Mutation::kReaderAcquireRemoved>>>(
                "append_reader_acquire_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, AppendWithoutEitherRaces) {
  EXPECT_EQ(Check<AppendSuite<W<Mutation::kBothRemoved>>>("append_both_removed")
                .result,
            rl::test_result_data_race);
}
// ... and with relaxed-atomic slots Relacy hands back the stale value itself:
// the new count with an old entry, the seed patch's scenario, as a failed
// freshness assertion.
TEST(RelacyPublishTest, AppendWithoutWriterReleaseReadsStaleEntry) {
  EXPECT_EQ(Check<AppendSuite<WA<Mutation::kWriterReleaseRemoved>>>(
                "append_atomic_slots_writer_release_removed")
                .result,
            rl::test_result_user_assert_failed);
}
TEST(RelacyPublishTest, AppendWithoutReaderAcquireReadsStaleEntry) {
  EXPECT_EQ(Check<AppendSuite<WA<Mutation::kReaderAcquireRemoved>>>(
                "append_atomic_slots_reader_acquire_removed")
                .result,
            rl::test_result_user_assert_failed);
}

// The comparison-record and switch appends, and the Collector's read
// (Published), under the same two weakenings.
TEST(RelacyPublishTest, ComparisonAppendWithoutWriterReleaseRaces) {
  EXPECT_EQ(Check<Record4Suite<W<Mutation::kWriterReleaseRemoved>>>(
                "record4_writer_release_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, ComparisonReadWithoutReaderAcquireRaces) {
  EXPECT_EQ(Check<Record4Suite<W<Mutation::kReaderAcquireRemoved>>>(
                "record4_reader_acquire_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, ComparisonAppendWithoutWriterReleaseReadsStaleRecord) {
  EXPECT_EQ(Check<Record4Suite<WA<Mutation::kWriterReleaseRemoved>>>(
                "record4_atomic_slots_writer_release_removed")
                .result,
            rl::test_result_user_assert_failed);
}
TEST(RelacyPublishTest, SwitchAppendWithoutWriterReleaseRaces) {
  EXPECT_EQ(Check<SwitchSuite<W<Mutation::kWriterReleaseRemoved>>>(
                "switch_writer_release_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, SwitchReadWithoutReaderAcquireRaces) {
  EXPECT_EQ(Check<SwitchSuite<W<Mutation::kReaderAcquireRemoved>>>(
                "switch_reader_acquire_removed")
                .result,
            rl::test_result_data_race);
}

TEST(RelacyPublishTest, MoveWithoutWriterReleaseRaces) {
  EXPECT_EQ(Check<MoveDrainSuite<W<Mutation::kWriterReleaseRemoved>>>(
                "move_writer_release_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, DrainWithoutReaderAcquireRaces) {
  EXPECT_EQ(Check<MoveDrainSuite<W<Mutation::kReaderAcquireRemoved>>>(
                "move_reader_acquire_removed")
                .result,
            rl::test_result_data_race);
}
TEST(RelacyPublishTest, MoveDrainWithoutEitherRaces) {
  EXPECT_EQ(
      Check<MoveDrainSuite<W<Mutation::kBothRemoved>>>("move_both_removed")
          .result,
      rl::test_result_data_race);
}
// Reset without release / move load without acquire: the mover's next copy
// overwrites a slot the drainer read, with no happens-before between them.
TEST(RelacyPublishTest, RelaxedResetRaces) {
  EXPECT_EQ(
      Check<MoveDrainSuite<W<Mutation::kRelaxedReset>>>("move_relaxed_reset")
          .result,
      rl::test_result_data_race);
}
TEST(RelacyPublishTest, RelaxedMoveLoadRaces) {
  EXPECT_EQ(Check<MoveDrainSuite<W<Mutation::kRelaxedMoveLoad>>>(
                "move_relaxed_move_load")
                .result,
            rl::test_result_data_race);
}
// Lost updates are not races: a plain-store reset wipes a concurrently
// published entry (lost), a plain-store publish undoes a reset (consumed
// entries come back). Both are caught by the bookkeeping assertions.
TEST(RelacyPublishTest, PlainStoreResetLosesEntries) {
  EXPECT_EQ(Check<MoveDrainSuite<W<Mutation::kPlainStoreReset>>>(
                "move_plain_store_reset")
                .result,
            rl::test_result_user_assert_failed);
}
TEST(RelacyPublishTest, PlainStorePublishResurrectsEntries) {
  EXPECT_EQ(Check<MoveDrainSuite<W<Mutation::kPlainStorePublish>>>(
                "move_plain_store_publish")
                .result,
            rl::test_result_user_assert_failed);
}

}  // namespace
}  // namespace remcov::ordering
