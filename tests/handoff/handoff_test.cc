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
    mem.assign(layout.slot_bytes / 8, 0);
  }
  uint64_t* area() { return mem.data(); }
  uint64_t* trailer() { return mem.data() + layout.area_bytes / 8; }
  unsigned char* region() {
    return reinterpret_cast<unsigned char*>(trailer()) + kPage;
  }
  uint64_t region_bytes() {
    return remcov_handoff_map_region_bytes(
        layout.slot_bytes - layout.area_bytes, kPage);
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
  EXPECT_EQ(l.slot_bytes, 8192u + kPage + REMCOV_HANDOFF_LOAD_MAP_BYTES);
  const FileLayout f = FileLayoutFor(1000, 3, kPage);
  EXPECT_EQ(f.file_bytes, kPage + 3 * l.slot_bytes);
}

TEST(HandOffTest, PcsAndLoadMapRoundTrip) {
  File f(1000);
  const std::vector<CoverageModule> mods = {
      Module("/bin/traced", std::string("\x01\x02\x03\x04", 4), 0x400000),
      Module("/lib/libc.so.6", "", 0x7f0000000000)};
  WriteTrailerHeader(f.trailer(), 42, 0, REMCOV_HANDOFF_STARTED,
                     REMCOV_KCOV_TRACE_PC, f.layout.words, f.region_bytes());
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
  WriteTrailerHeader(f.trailer(), 1, 0, REMCOV_HANDOFF_STARTED,
                     REMCOV_KCOV_TRACE_PC, f.layout.words, f.region_bytes());
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
  WriteTrailerHeader(f.trailer(), 1, 0, REMCOV_HANDOFF_STARTED,
                     REMCOV_KCOV_TRACE_CMP, f.layout.words, f.region_bytes());
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
  WriteTrailerHeader(f.trailer(), 1, 0, REMCOV_HANDOFF_STARTED,
                     REMCOV_KCOV_TRACE_PC, f.layout.words, f.region_bytes());
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
  WriteTrailerHeader(f.trailer(), 1, 0, REMCOV_HANDOFF_STARTED,
                     REMCOV_KCOV_TRACE_PC, f.layout.words, region);
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
  WriteTrailerHeader(f.trailer(), 1, 0, REMCOV_HANDOFF_STARTED,
                     REMCOV_KCOV_TRACE_PC, f.layout.words + 1,
                     f.region_bytes());
  EXPECT_EQ(Read(f.layout, f.mem.data(), &d, &notes).code(),
            StatusCode::kDataLoss);
}

// A whole hand-off file: the table, then process slots, as `remcov trace`
// sizes and writes it; processes attach as the runtime's hook does.
struct Table {
  Table(uint64_t words, uint64_t procs)
      : layout(FileLayoutFor(words, procs, kPage)) {
    mem.assign(layout.file_bytes / 8, 0);
    WriteTable(mem.data(), procs, layout.slot.slot_bytes, layout.slot.words,
               REMCOV_KCOV_TRACE_PC, true);
  }
  uint64_t* slot(uint64_t i) {
    return mem.data() +
           remcov_handoff_proc_offset(layout.slot.slot_bytes, i, kPage) / 8;
  }
  uint64_t* trailer(uint64_t i) { return slot(i) + layout.slot.area_bytes / 8; }
  unsigned char* region(uint64_t i) {
    return reinterpret_cast<unsigned char*>(trailer(i)) + kPage;
  }
  uint64_t region_bytes() {
    return remcov_handoff_map_region_bytes(
        layout.slot.slot_bytes - layout.slot.area_bytes, kPage);
  }
  // Claims a slot and attaches a process with one module and these PCs.
  uint64_t Attach(uint64_t pid, uint64_t ppid, uint64_t origin,
                  const CoverageModule& m, std::vector<uint64_t> pcs) {
    const uint64_t i = ClaimProcessSlot(mem.data());
    if (i >= layout.procs) return i;
    WriteTrailerHeader(trailer(i), pid, ppid, origin, REMCOV_KCOV_TRACE_PC,
                       layout.slot.words, region_bytes());
    MapWriter w = BeginLoadMap(trailer(i), region(i), region_bytes());
    Add(&w, m, "");
    PublishLoadMap(trailer(i), w);
    PublishState(trailer(i), REMCOV_HANDOFF_ATTACHED);
    const uint64_t cap = remcov_area_capacity(layout.slot.words, 1);
    for (uint64_t pc : pcs)
      EXPECT_TRUE(Area::AppendOne(slot(i)[0], slot(i), cap, &pc, 1));
    return i;
  }
  FileLayout layout;
  std::vector<uint64_t> mem;
};

TEST(HandOffTableTest, EveryProcessKeepsItsOwnMapAndEntries) {
  Table t(64, 4);
  // Two programs at the same addresses; the first exec()s the second
  // (same pid), which forks a child (a copy of its map).
  const CoverageModule a = Module("/bin/a", "", 0x401000);
  const CoverageModule b = Module("/bin/b", "", 0x401000);
  ASSERT_EQ(t.Attach(7, 1, REMCOV_HANDOFF_STARTED, a, {0x401010}), 0u);
  EXPECT_TRUE(MarkExeced(t.trailer(0)));
  EXPECT_FALSE(MarkExeced(t.trailer(0)));  // only an attached slot
  ASSERT_EQ(t.Attach(7, 1, REMCOV_HANDOFF_STARTED, b, {0x401020, 0x401030}),
            1u);
  const uint64_t c = ClaimProcessSlot(t.mem.data());
  ASSERT_EQ(c, 2u);
  WriteTrailerHeader(t.trailer(c), 8, 7, REMCOV_HANDOFF_FORKED,
                     REMCOV_KCOV_TRACE_PC, t.layout.slot.words,
                     t.region_bytes());
  PublishLoadMap(t.trailer(c),
                 CopyLoadMap(t.trailer(1), t.region(1), t.trailer(c),
                             t.region(c), t.region_bytes()));
  PublishState(t.trailer(c), REMCOV_HANDOFF_ATTACHED);
  PublishComplete(t.trailer(c), 2);
  PublishComplete(t.trailer(1), 0);

  CoverageData d;
  FileNotes notes;
  ASSERT_TRUE(ReadAll(t.layout, t.mem.data(), &d, &notes).ok());
  ASSERT_EQ(d.processes.size(), 3u);
  EXPECT_EQ(d.processes[0], (CoverageProcess{.pid = 7,
                                             .ppid = 1,
                                             .flags = kProcessExeced,
                                             .modules = 1,
                                             .entries = 1,
                                             .dropped = 0}));
  EXPECT_EQ(d.processes[1], (CoverageProcess{.pid = 7,
                                             .ppid = 1,
                                             .flags = 0,
                                             .modules = 1,
                                             .entries = 2,
                                             .dropped = 0}));
  EXPECT_EQ(d.processes[2], (CoverageProcess{.pid = 8,
                                             .ppid = 7,
                                             .flags = kProcessForked,
                                             .modules = 1,
                                             .entries = 0,
                                             .dropped = 2}));
  EXPECT_EQ(d.modules, (std::vector<CoverageModule>{a, b, b}));
  EXPECT_EQ(d.pcs, (std::vector<uint64_t>{0x401010, 0x401020, 0x401030}));
  EXPECT_EQ(d.dropped, 2u);
  EXPECT_TRUE(CheckProcesses(d).ok());
  const std::vector<const CoverageModule*> mods = EntryModules(d);
  EXPECT_EQ(mods[0]->path, "/bin/a");
  EXPECT_EQ(mods[1]->path, "/bin/b");
  ASSERT_EQ(notes.processes.size(), 3u);
  EXPECT_TRUE(notes.processes[0].execed);
  EXPECT_FALSE(notes.processes[0].incomplete);
  EXPECT_EQ(notes.refused, 0u);
  EXPECT_EQ(notes.unattached, 0u);
}

// A thread's slot (--threads), as trace_env.cc's ThreadAttach writes it: no
// load map, the owner word naming its process's slot.
uint64_t AttachThread(Table& t, uint64_t pid, uint64_t owner,
                      std::vector<uint64_t> pcs) {
  const uint64_t i = ClaimProcessSlot(t.mem.data());
  if (i >= t.layout.procs) return i;
  WriteTrailerHeader(t.trailer(i), pid, 1, REMCOV_HANDOFF_THREAD,
                     REMCOV_KCOV_TRACE_PC, t.layout.slot.words, 0);
  WriteThreadOwner(t.trailer(i), owner);
  PublishState(t.trailer(i), REMCOV_HANDOFF_ATTACHED);
  const uint64_t cap = remcov_area_capacity(t.layout.slot.words, 1);
  for (uint64_t pc : pcs)
    EXPECT_TRUE(Area::AppendOne(t.slot(i)[0], t.slot(i), cap, &pc, 1));
  return i;
}

TEST(HandOffTableTest, AThreadsEntriesAndCountersAreItsProcesss) {
  Table t(64, 6);
  const CoverageModule a = Module("/bin/a", "", 0x401000);
  const CoverageModule b = Module("/bin/b", "", 0x601000);
  ASSERT_EQ(t.Attach(7, 1, REMCOV_HANDOFF_STARTED, a, {0x401010}), 0u);
  ASSERT_EQ(AttachThread(t, 7, 0, {0x401020, 0x401030}), 1u);
  ASSERT_EQ(t.Attach(9, 1, REMCOV_HANDOFF_STARTED, b, {0x601010}), 2u);
  ASSERT_EQ(AttachThread(t, 7, 0, {0x401040}), 3u);
  ASSERT_EQ(AttachThread(t, 9, 2, {0x601020}), 4u);
  PublishComplete(t.trailer(0), 0);
  PublishComplete(t.trailer(1), 3);  // a thread's own dropped count
  PublishComplete(t.trailer(2), 0);
  PublishComplete(t.trailer(3), 0);
  // Slot 4 never completes: its process died, say: the process is
  // incomplete too.

  CoverageData d;
  FileNotes notes;
  Status s = ReadAll(t.layout, t.mem.data(), &d, &notes);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(d.processes.size(), 2u);
  EXPECT_EQ(d.processes[0], (CoverageProcess{.pid = 7,
                                             .ppid = 1,
                                             .flags = 0,
                                             .modules = 1,
                                             .entries = 4,
                                             .dropped = 3}));
  EXPECT_EQ(d.processes[1], (CoverageProcess{.pid = 9,
                                             .ppid = 1,
                                             .flags = kProcessNoExit,
                                             .modules = 1,
                                             .entries = 2,
                                             .dropped = 0}));
  // The process's own entries, then its threads' in slot order.
  EXPECT_EQ(d.pcs, (std::vector<uint64_t>{0x401010, 0x401020, 0x401030,
                                          0x401040, 0x601010, 0x601020}));
  EXPECT_EQ(d.modules, (std::vector<CoverageModule>{a, b}));
  EXPECT_EQ(d.dropped, 3u);
  EXPECT_NE(d.flags & kCoverageOverflow, 0u);
  EXPECT_TRUE(CheckProcesses(d).ok());
  EXPECT_EQ(notes.threads, 3u);
  ASSERT_EQ(notes.processes.size(), 2u);
  EXPECT_FALSE(notes.processes[0].incomplete);
  EXPECT_TRUE(notes.processes[1].incomplete);
  EXPECT_EQ(notes.processes[1].load_map_problem, nullptr);
}

TEST(HandOffTableTest, AThreadSlotNamingNoProcessIsDataLoss) {
  // The owner word names a later slot, a thread slot, or nothing.
  for (uint64_t owner : {uint64_t{5}, uint64_t{1}, uint64_t{4095}}) {
    SCOPED_TRACE(owner);
    Table t(16, 6);
    ASSERT_EQ(
        t.Attach(7, 1, REMCOV_HANDOFF_STARTED, Module("/a", "", 0x1000), {}),
        0u);
    ASSERT_EQ(AttachThread(t, 7, 0, {}), 1u);
    ASSERT_EQ(AttachThread(t, 7, owner, {}), 2u);
    CoverageData d;
    FileNotes notes;
    EXPECT_EQ(ReadAll(t.layout, t.mem.data(), &d, &notes).code(),
              StatusCode::kDataLoss);
  }
  // An owner word of 0 (no process) or an origin past the known ones.
  Table t(16, 2);
  ASSERT_EQ(
      t.Attach(7, 1, REMCOV_HANDOFF_STARTED, Module("/a", "", 0x1000), {}), 0u);
  ASSERT_EQ(AttachThread(t, 7, 0, {}), 1u);
  t.trailer(1)[REMCOV_HANDOFF_W_OWNER] = 0;
  CoverageData d;
  FileNotes notes;
  EXPECT_EQ(ReadAll(t.layout, t.mem.data(), &d, &notes).code(),
            StatusCode::kDataLoss);
  t.trailer(1)[REMCOV_HANDOFF_W_OWNER] = 1;
  t.trailer(1)[REMCOV_HANDOFF_W_ORIGIN] = 3;
  EXPECT_EQ(ReadAll(t.layout, t.mem.data(), &d, &notes).code(),
            StatusCode::kDataLoss);
}

TEST(HandOffTableTest, AFullTableCountsTheProcessesItRefused) {
  Table t(16, 1);
  ASSERT_EQ(t.Attach(5, 1, REMCOV_HANDOFF_STARTED, Module("/a", "", 0x1000),
                     {0x1100}),
            0u);
  EXPECT_EQ(ClaimProcessSlot(t.mem.data()), 1u);  // refused
  EXPECT_EQ(ClaimProcessSlot(t.mem.data()), 2u);  // refused
  CoverageData d;
  FileNotes notes;
  ASSERT_TRUE(ReadAll(t.layout, t.mem.data(), &d, &notes).ok());
  EXPECT_EQ(d.processes.size(), 1u);
  EXPECT_EQ(notes.refused, 2u);
  // Nothing attached in a slot that was claimed: counted as unattached.
  Table u(16, 2);
  ASSERT_EQ(
      u.Attach(5, 1, REMCOV_HANDOFF_STARTED, Module("/a", "", 0x1000), {}), 0u);
  EXPECT_EQ(ClaimProcessSlot(u.mem.data()), 1u);
  CoverageData e;
  FileNotes n2;
  ASSERT_TRUE(ReadAll(u.layout, u.mem.data(), &e, &n2).ok());
  EXPECT_EQ(n2.unattached, 1u);
  EXPECT_TRUE(n2.processes[0].incomplete);
  EXPECT_EQ(e.processes[0].flags, uint32_t{kProcessNoExit});
}

TEST(HandOffTableTest, ACorruptTableOrSlotIsDataLoss) {
  Table t(16, 2);
  ASSERT_EQ(t.Attach(5, 1, REMCOV_HANDOFF_STARTED, Module("/a", "", 0x1000),
                     {0x1100}),
            0u);
  struct Case {
    unsigned word;
    uint64_t value;
    const char* says;
  } cases[] = {
      {REMCOV_HANDOFF_T_MAGIC, 0, "bad magic"},
      {REMCOV_HANDOFF_T_PROCS, 0xdeadbeef, "process slot count 3735928559"},
      {REMCOV_HANDOFF_T_PROC_BYTES, 1, "slot size"},
      {REMCOV_HANDOFF_T_WORDS, 3, "slot size"},
      {REMCOV_HANDOFF_T_MODE, 2, "mode"},
  };
  for (const Case& c : cases) {
    Table bad = t;
    bad.mem[c.word] = c.value;
    CoverageData d;
    FileNotes notes;
    const Status s = ReadAll(bad.layout, bad.mem.data(), &d, &notes);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << c.says;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("corrupt process table"), std::string::npos);
  }
  // A slot's state word beyond the known states.
  Table bad = t;
  bad.trailer(0)[REMCOV_HANDOFF_W_STATE] = 9;
  CoverageData d;
  FileNotes notes;
  const Status s = ReadAll(bad.layout, bad.mem.data(), &d, &notes);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("process slot 0"), std::string::npos);
  // No process at all: unavailable, as for a command that never attached.
  Table none(16, 2);
  EXPECT_EQ(ReadAll(none.layout, none.mem.data(), &d, &notes).code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace remcov::handoff
