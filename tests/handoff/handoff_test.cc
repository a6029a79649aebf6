// SPDX-License-Identifier: Apache-2.0
// The `remcov trace --in-process` hand-off round trip: a file written with the
// runtime's writer (handoff_writer.h, as src/runtime/trace_env.cc does; the
// area filled through SharedArea as the runtime's device does) and read back
// with the tool's reader (handoff::Read).
#include "handoff/handoff.h"

#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/coverage_file.h"
#include "remcov/kcov_abi.h"

#include "area/shared_area.h"
#include "handoff/handoff_reader.h"
#include "handoff/handoff_writer.h"

namespace remcov::handoff {
namespace {

using Area = internal::SharedArea<internal::StdPublishPolicy>;
constexpr uint64_t kPage = 4096;

// A hand-off file in memory, laid out as `remcov trace` sizes it.
struct File {
  explicit File(uint64_t words) : layout(LayoutFor(words, kPage)) {
    mem.assign(layout.file_bytes / 8, 0);
  }
  uint64_t* area() { return mem.data(); }
  uint64_t* trailer() { return mem.data() + layout.area_bytes / 8; }
  unsigned char* region() {
    return reinterpret_cast<unsigned char*>(trailer()) + kPage;
  }
  uint64_t region_bytes() {
    return remcov_handoff_map_region_bytes(
        layout.file_bytes - layout.area_bytes, kPage);
  }
  Layout layout;
  std::vector<uint64_t> mem;
};

CoverageModule Module(const std::string& path, const std::string& raw_id,
                      uint64_t start) {
  CoverageModule m;
  m.kind = ModuleKind::kUser;
  m.path = path;
  m.build_id = HexEncode(raw_id);
  m.start = start;
  m.end = start + 0x1000;
  m.bias = start - 0x1000;
  return m;
}

void Add(MapWriter* w, const CoverageModule& m, const std::string& raw_id) {
  AddModule(w, static_cast<uint32_t>(m.kind), m.flags, m.path.data(),
            static_cast<uint32_t>(m.path.size()),
            reinterpret_cast<const unsigned char*>(raw_id.data()),
            static_cast<uint32_t>(raw_id.size()), m.start, m.end, m.bias);
}

TEST(HandOffTest, LayoutRoundsTheAreaToPages) {
  const Layout l = LayoutFor(1000, kPage);
  EXPECT_EQ(l.area_bytes, 8192u);
  EXPECT_EQ(l.words, 1024u);
  EXPECT_EQ(l.file_bytes, 8192u + kPage + REMCOV_HANDOFF_LOAD_MAP_BYTES);
}

TEST(HandOffTest, PcsAndLoadMapRoundTrip) {
  File f(1000);
  const std::vector<CoverageModule> mods = {
      Module("/bin/traced", std::string("\x01\x02\x03\x04", 4), 0x400000),
      Module("/lib/libc.so.6", "", 0x7f0000000000)};
  WriteTrailerHeader(f.trailer(), 42, REMCOV_KCOV_TRACE_PC, f.layout.words,
                     f.region_bytes());
  MapWriter w = BeginLoadMap(f.trailer(), f.region(), f.region_bytes());
  Add(&w, mods[0], "\x01\x02\x03\x04");
  Add(&w, mods[1], "");
  PublishLoadMap(f.trailer(), w);
  PublishState(f.trailer(), REMCOV_HANDOFF_ATTACHED);
  const uint64_t cap = remcov_area_capacity(f.layout.words, 1);
  for (uint64_t pc : {0x401000ull, 0x401010ull, 0x7f0000000123ull})
    ASSERT_TRUE(Area::AppendOne(f.area()[0], f.area(), cap, &pc, 1));

  // Attached, not complete: the coverage so far, and a note.
  CoverageData d;
  ReadNotes notes;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &d, &notes).ok());
  EXPECT_TRUE(notes.incomplete);
  EXPECT_EQ(notes.load_map_problem, nullptr);
  EXPECT_EQ(d.mode, TraceMode::kPc);
  EXPECT_EQ(d.raw_count, 3u);
  EXPECT_EQ(d.pcs, (std::vector<uint64_t>{0x401000, 0x401010, 0x7f0000000123}));
  EXPECT_EQ(d.modules, mods);
  EXPECT_NE(d.flags & kCoverageInProcess, 0u);
  EXPECT_EQ(d.flags & kCoverageOverflow, 0u);

  // The writer's records are the coverage file's encoding, byte for byte.
  const std::string written(reinterpret_cast<const char*>(f.region()),
                            f.trailer()[REMCOV_HANDOFF_W_SLOT1_BYTES]);
  EXPECT_EQ(written, SerializeModules(mods));

  // The exit() handler: complete, with the entries that did not fit.
  PublishComplete(f.trailer(), 5);
  CoverageData e;
  ReadNotes notes2;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &e, &notes2).ok());
  EXPECT_FALSE(notes2.incomplete);
  EXPECT_EQ(e.dropped, 5u);
  EXPECT_NE(e.flags & kCoverageOverflow, 0u);
}

TEST(HandOffTest, ARewriteGoesToTheOtherSlotAndReplacesTheMap) {
  File f(512);
  WriteTrailerHeader(f.trailer(), 1, REMCOV_KCOV_TRACE_PC, f.layout.words,
                     f.region_bytes());
  MapWriter w1 = BeginLoadMap(f.trailer(), f.region(), f.region_bytes());
  Add(&w1, Module("/old", "", 0x1000), "");
  PublishLoadMap(f.trailer(), w1);
  MapWriter w2 = BeginLoadMap(f.trailer(), f.region(), f.region_bytes());
  EXPECT_EQ(w1.slot, 1u);
  EXPECT_EQ(w2.slot, 2u);
  Add(&w2, Module("/new", "", 0x2000), "");
  Add(&w2, Module("/dlopened.so", "", 0x9000), "");
  // Until it is published, the reader sees the first map.
  CoverageData before;
  ReadNotes n0;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &before, &n0).ok());
  ASSERT_EQ(before.modules.size(), 1u);
  EXPECT_EQ(before.modules[0].path, "/old");
  PublishLoadMap(f.trailer(), w2);
  CoverageData after;
  ReadNotes n1;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &after, &n1).ok());
  ASSERT_EQ(after.modules.size(), 2u);
  EXPECT_EQ(after.modules[1].path, "/dlopened.so");
}

TEST(HandOffTest, CmpRecordsRoundTripAndBadTypesAreDataLoss) {
  File f(64);
  WriteTrailerHeader(f.trailer(), 1, REMCOV_KCOV_TRACE_CMP, f.layout.words,
                     f.region_bytes());
  PublishState(f.trailer(), REMCOV_HANDOFF_ATTACHED);
  const uint64_t cap = remcov_area_capacity(f.layout.words, 4);
  ASSERT_TRUE(Area::AppendRecord4(f.area()[0], f.area(), cap, 7, 1, 2, 0x10));
  CoverageData d;
  ReadNotes notes;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &d, &notes).ok());
  ASSERT_EQ(d.cmps.size(), 1u);
  EXPECT_EQ(d.cmps[0].type, 7u);
  EXPECT_EQ(d.cmps[0].ip, 0x10u);
  EXPECT_STREQ(notes.load_map_problem, "the command recorded no load map");
  ASSERT_TRUE(Area::AppendRecord4(f.area()[0], f.area(), cap, 8, 1, 2, 0x20));
  CoverageData bad;
  EXPECT_EQ(Read(f.layout, f.mem.data(), &bad, &notes).code(),
            StatusCode::kDataLoss);
}

TEST(HandOffTest, ACountBeyondCapacityIsClampedAndFlagged) {
  File f(16);
  WriteTrailerHeader(f.trailer(), 1, REMCOV_KCOV_TRACE_PC, f.layout.words,
                     f.region_bytes());
  f.area()[0] = 1u << 30;  // the traced code wrote the count word
  CoverageData d;
  ReadNotes notes;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &d, &notes).ok());
  EXPECT_EQ(d.pcs.size(), f.layout.words - 1);
  EXPECT_EQ(d.raw_count, 1u << 30);
  EXPECT_NE(d.flags & kCoverageOverflow, 0u);
}

TEST(HandOffTest, AMapThatDoesNotFitIsPartial) {
  File f(16);
  // A region with room for one short record per slot.
  const uint64_t region = 2 * remcov_module_record_size(8, 0);
  WriteTrailerHeader(f.trailer(), 1, REMCOV_KCOV_TRACE_PC, f.layout.words,
                     region);
  MapWriter w = BeginLoadMap(f.trailer(), f.region(), region);
  Add(&w, Module("/a", "", 0x1000), "");
  Add(&w, Module("/b", "", 0x2000), "");
  EXPECT_TRUE(w.overflow);
  PublishLoadMap(f.trailer(), w);
  CoverageData d;
  ReadNotes notes;
  ASSERT_TRUE(Read(f.layout, f.mem.data(), &d, &notes).ok());
  ASSERT_EQ(d.modules.size(), 1u);
  EXPECT_STREQ(notes.load_map_problem,
               "the load map did not fit: it is partial");
}

TEST(HandOffTest, AFileNoCommandAttachedToIsUnavailable) {
  File f(16);
  CoverageData d;
  ReadNotes notes;
  EXPECT_EQ(Read(f.layout, f.mem.data(), &d, &notes).code(),
            StatusCode::kUnavailable);
  // A trailer for another area size is corrupt.
  WriteTrailerHeader(f.trailer(), 1, REMCOV_KCOV_TRACE_PC, f.layout.words + 1,
                     f.region_bytes());
  EXPECT_EQ(Read(f.layout, f.mem.data(), &d, &notes).code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace remcov::handoff
