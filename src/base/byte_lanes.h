// SPDX-License-Identifier: Apache-2.0
// Eight one-byte counters in a 64-bit word (counters mode: the runtime's move
// adds a section's map into a collector's, and the fuzzer adaptors read it,
// eight counters at a time). Header-only; no libc; async-signal-safe.
#ifndef REMCOV_BASE_BYTE_LANES_H_
#define REMCOV_BASE_BYTE_LANES_H_

#include <stddef.h>
#include <stdint.h>

namespace remcov::internal {

// How many of the eight bytes of w are nonzero.
inline unsigned NonzeroBytes(uint64_t w) {
  w |= w >> 4;
  w |= w >> 2;
  w |= w >> 1;
  return static_cast<unsigned>(__builtin_popcountll(w & 0x0101010101010101ull));
}

// Adds eight counters to eight others, each saturating at 255: the low seven
// bits of each byte are added without crossing into the next byte, and the
// carry out of bit 7 is recomputed per byte and turned into 0xff.
inline uint64_t SaturatingAdd8(uint64_t x, uint64_t y) {
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t low = (x & ~kHigh) + (y & ~kHigh);
  const uint64_t carry = ((x & y) | (low & (x | y))) & kHigh;
  return (low ^ ((x ^ y) & kHigh)) | ((carry >> 7) * 0xff);
}

// Maps are scanned in blocks of this many words (one 64-byte cache line): a
// block of zero words, which most of a map is, costs eight loads and ors.
inline constexpr size_t kLaneBlockWords = 8;
inline bool BlockIsZero(const uint64_t* p) {
  uint64_t any = 0;
  for (size_t k = 0; k < kLaneBlockWords; k++) any |= p[k];
  return any == 0;
}

}  // namespace remcov::internal

#endif  // REMCOV_BASE_BYTE_LANES_H_
