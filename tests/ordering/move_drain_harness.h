// SPDX-License-Identifier: Apache-2.0
// A mover thread and a draining reader over one shared area, with an
// exactly-once checker. Shared by the ThreadSanitizer harness
// (tsan_publish.cc) and the lost-update stress test (stress_reset_test.cc).
//
// The mover moves batches of 1..4 entries, each entry a unique sequence id
// (1, 2, 3, ...); it records which ids Move reported as published. The reader
// drains in a loop and counts how often it consumed each id. After both
// threads are joined, a final drain runs and Tally() classifies every id:
//   lost        : published, never consumed (a reset wiped it);
//   duplicated  : consumed more than once (a reset was undone: resurrected);
//   unpublished : consumed although Move never reported it published;
//   bad         : a slot value that is no id at all (poison/torn).
//
// Thread safety: `published` is written only by the mover, `consumed` only by
// the reader; both are read by Tally after the joins.
#ifndef REMCOV_TESTS_ORDERING_MOVE_DRAIN_HARNESS_H_
#define REMCOV_TESTS_ORDERING_MOVE_DRAIN_HARNESS_H_

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <thread>
#include <vector>

#include "area/shared_area.h"

namespace remcov::ordering {

struct MoveDrainStats {
  uint64_t published = 0;
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t unpublished = 0;
  uint64_t bad = 0;
  uint64_t first_lost = 0;        // an example id, 0 if none
  uint64_t first_duplicated = 0;  // an example id, 0 if none
  uint64_t anomalies() const { return lost + duplicated + unpublished + bad; }
};

// The exactly-once checker. published[id] != 0 when Move reported the id as
// published; consumed[id] counts how often a drain consumed it; id 0 unused.
inline MoveDrainStats Tally(const std::vector<uint8_t>& published,
                            const std::vector<uint32_t>& consumed,
                            uint64_t bad) {
  MoveDrainStats s;
  s.bad = bad;
  for (size_t id = 1; id < published.size(); id++) {
    if (published[id]) s.published++;
    if (published[id] && consumed[id] == 0) {
      if (s.lost++ == 0) s.first_lost = id;
    }
    if (consumed[id] > 1) {
      if (s.duplicated++ == 0) s.first_duplicated = id;
    }
    if (!published[id] && consumed[id] > 0) s.unpublished++;
  }
  return s;
}

// Runs `moves` moves against a concurrent drainer on an area of `capacity`
// one-word entries; returns the checker's verdict. When the area is full the
// mover waits (yield) for the drainer instead of dropping, and the drainer
// yields when it found nothing: this paces the two threads so they really
// interleave and slots are reused many times.
// With `threaded` false, moves and drains alternate on the calling thread
// (the same checker, single-threaded).
template <class P>
MoveDrainStats RunMoveDrain(uint64_t moves, uint64_t capacity,
                            bool threaded = true) {
  using Area = internal::SharedArea<P>;
  std::vector<uint64_t> area(1 + capacity, 0);  // word 0 = count
  const uint64_t max_id = moves * 4;
  std::vector<uint8_t> published(max_id + 1, 0);
  std::vector<uint32_t> consumed(max_id + 1, 0);
  uint64_t bad = 0;
  // Only tells the reader that the mover finished; the races under test
  // happen while both threads run, before this pair.
  std::atomic<bool> done{false};

  auto consume = [&](uint64_t* slots, uint64_t first, uint64_t end) {
    for (uint64_t i = first; i < end; i++) {
      const uint64_t id = slots[1 + i];
      if (id == 0 || id > max_id)
        bad++;
      else
        consumed[id]++;
    }
  };
  auto drain = [&] {
    return Area::Drain(area[0], area.data(), capacity, consume);
  };
  auto mover = [&] {
    uint64_t next_id = 1;
    uint64_t batch[4];
    for (uint64_t k = 0; k < moves; k++) {
      const uint64_t n = 1 + k % 4;
      for (uint64_t i = 0; i < n; i++) batch[i] = next_id + i;
      uint64_t off = 0;
      for (uint32_t spins = 0; off < n && spins < (1u << 20); spins++) {
        internal::MoveResult r =
            Area::Move(area[0], area.data(), capacity, 1, batch + off, n - off);
        for (uint64_t i = 0; i < r.moved; i++) published[next_id + off + i] = 1;
        off += r.moved;
        if (off < n) {
          if (threaded)
            std::this_thread::yield();
          else
            drain();
        }
      }
      next_id += n;
      if (!threaded && k % 3 == 2) drain();
    }
    done.store(true,
               std::memory_order_release);  // pairs with the reader's acquire
  };

  if (threaded) {
    std::thread m(mover);
    std::thread r([&] {
      // Yield when there was nothing to drain: on a loaded machine the two
      // threads may share a core, and a reader spinning through its time
      // slice would stall the mover (measured: 20000 moves took up to 14 s
      // instead of 0.05 s).
      while (!done.load(std::memory_order_acquire))
        if (drain() == 0) std::this_thread::yield();
    });
    m.join();
    r.join();
  } else {
    mover();
  }
  drain();
  return Tally(published, consumed, bad);
}

}  // namespace remcov::ordering

#endif  // REMCOV_TESTS_ORDERING_MOVE_DRAIN_HARNESS_H_
