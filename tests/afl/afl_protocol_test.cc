// SPDX-License-Identifier: Apache-2.0
// The AFL++ adaptor's pieces that need neither afl-fuzz nor the example
// service: the pinned protocol words and the fold of PCs into the map
// (labels afl and unit: registered with or without the examples).
#include "afl/afl_protocol.h"

#include <dlfcn.h>
#include <stdint.h>

#include <vector>

#include <gtest/gtest.h>

#include "remcov/afl.h"

#include "afl/afl_map.h"
#include "fuzz_common/pc_key.h"

namespace remcov::afl {
namespace {

TEST(AflProtocolTest, HelloWordIsPinned) {
  // What remcov announces: enabled, map size 65536 (AFL++ 4.04c types.h
  // FS_OPT_ENABLED | FS_OPT_MAPSIZE | FS_OPT_SET_MAPSIZE(65536)).
  const uint32_t hello = kOptEnabled | kOptMapSize |
                         MapSizeOption(static_cast<uint32_t>(kMapSize));
  EXPECT_EQ(hello, 0xc001fffeu | 1u);
  EXPECT_EQ(MapSizeFromOption(hello), kMapSize);
  EXPECT_EQ(MapSizeFromOption(MapSizeOption(kOptMaxMapSize)), kOptMaxMapSize);
  EXPECT_EQ(MapSizeOption(kOptMaxMapSize + 1), 0u);  // not announceable
  EXPECT_EQ(ErrorWord(kErrorShmat), 0xf800088fu);
  EXPECT_EQ(kStatusFd, 199);
}

TEST(AflProtocolTest, SignaturesAreAflsStrings) {
  EXPECT_STREQ(REMCOV_AFL_PERSISTENT_SIG, "##SIG_AFL_PERSISTENT##");
  EXPECT_STREQ(REMCOV_AFL_DEFER_SIG, "##SIG_AFL_DEFER_FORKSRV##");
}

void Anchor() {}

TEST(AflMapTest, SlotIsModuleOffsetHashedAndCountsSaturate) {
  const auto pc = reinterpret_cast<uint64_t>(&Anchor);
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(pc), &info), 0);
  // This executable is module 0: the key is the offset, not the address.
  const uint64_t offset = pc - reinterpret_cast<uint64_t>(info.dli_fbase);
  EXPECT_EQ(fuzz::StablePc(pc), offset);
  EXPECT_EQ(SlotOf(pc), fuzz::FibonacciSlot(offset, kMapBits));

  std::vector<uint8_t> map(kMapSize, 0);
  std::vector<uint64_t> pcs(2, pc);
  FoldPcs(pcs, map.data());
  EXPECT_EQ(map[SlotOf(pc)], 2);
  pcs.assign(300, pc);
  FoldPcs(pcs, map.data());
  EXPECT_EQ(map[SlotOf(pc)], 255);
  size_t nonzero = 0;
  for (uint8_t c : map) nonzero += c != 0;
  EXPECT_EQ(nonzero, 1u);
}

}  // namespace
}  // namespace remcov::afl
