// SPDX-License-Identifier: Apache-2.0
// How the AFL++ adaptor folds a collector's PCs into AFL++'s map (internal;
// tests/afl checks it). Each recorded PC adds one, saturating at 255, to the
// slot FibonacciSlot(StablePc(pc), kMapBits) (src/fuzz_common/pc_key.h):
// block coverage with hit counts, which AFL++ buckets (1, 2, 3, 4-7, ...).
// Not edges: PCs of an input's remote sections reach the collector in an
// order that depends on which section ends first, so pairs of consecutive
// PCs would make unstable edges.
#ifndef REMCOV_AFL_AFL_MAP_H_
#define REMCOV_AFL_AFL_MAP_H_

#include <stddef.h>
#include <stdint.h>

#include <span>

namespace remcov::afl {

size_t SlotOf(uint64_t pc);

// Adds pcs to map (kMapSize bytes). Async-signal-safe once
// fuzz::Segments() has been built (the crash handler folds too).
void FoldPcs(std::span<const uint64_t> pcs, uint8_t* map);

}  // namespace remcov::afl

#endif  // REMCOV_AFL_AFL_MAP_H_
