// SPDX-License-Identifier: Apache-2.0
// base/byte_lanes.h against byte-by-byte arithmetic: every pair of counter
// values in every lane, with the other lanes holding values that would carry
// into or borrow from their neighbours if the lanes were not kept apart.
#include "base/byte_lanes.h"

#include <stdint.h>

#include <algorithm>

#include <gtest/gtest.h>

namespace remcov::internal {
namespace {

uint8_t Lane(uint64_t w, unsigned i) {
  return static_cast<uint8_t>(w >> (8 * i));
}

TEST(ByteLanesTest, SaturatingAddMatchesBytewiseAddInEveryLane) {
  const uint64_t kOthers = 0xff80017f00fe02ffull;
  for (unsigned lane = 0; lane < 8; lane++) {
    for (unsigned x = 0; x < 256; x++) {
      for (unsigned y = 0; y < 256; y++) {
        const uint64_t mask = uint64_t{0xff} << (8 * lane);
        const uint64_t a = (kOthers & ~mask) | (uint64_t{x} << (8 * lane));
        const uint64_t b = (~kOthers & ~mask) | (uint64_t{y} << (8 * lane));
        const uint64_t sum = SaturatingAdd8(a, b);
        for (unsigned i = 0; i < 8; i++) {
          const unsigned want =
              std::min(255u, unsigned{Lane(a, i)} + Lane(b, i));
          ASSERT_EQ(Lane(sum, i), want)
              << "lane " << i << " of " << std::hex << a << " + " << b;
        }
      }
    }
  }
}

TEST(ByteLanesTest, NonzeroBytesCountsEachNonzeroByte) {
  EXPECT_EQ(NonzeroBytes(0), 0u);
  EXPECT_EQ(NonzeroBytes(~uint64_t{0}), 8u);
  for (unsigned i = 0; i < 8; i++) {
    for (unsigned v = 1; v < 256; v++)
      ASSERT_EQ(NonzeroBytes(uint64_t{v} << (8 * i)), 1u) << i << " " << v;
  }
  EXPECT_EQ(NonzeroBytes(0x0100800001000010ull), 4u);
}

}  // namespace
}  // namespace remcov::internal
