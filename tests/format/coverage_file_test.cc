// SPDX-License-Identifier: Apache-2.0
// The coverage file: round trips, and rejection of truncated or corrupt files.
#include "remcov/coverage_file.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace remcov {
namespace {

CoverageData Pcs() {
  CoverageData d;
  d.flags = kCoverageUnique | kCoverageInProcess;
  d.raw_count = 3;
  d.pcs = {0x401000, 0x401010, 0x401020};
  return d;
}

bool Says(const Status& s, const char* what) {
  return s.message().find(what) != std::string::npos;
}

// Where the module table starts in a version 3 file without processes: the
// header, then the process count (0).
constexpr size_t kBody = 64 + 8;

// The bytes of an older version of a file SerializeCoverage wrote for data
// without processes: version 2 has no process table (the 8 bytes of its
// count go), and the checksum is recomputed over what remains.
std::string AsVersion(std::string b, char version) {
  b.erase(64, 8);
  b[8] = version;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 64; i < b.size(); i++) {
    h ^= static_cast<unsigned char>(b[i]);
    h *= 0x100000001b3ull;
  }
  for (int i = 0; i < 8; i++) b[56 + i] = static_cast<char>(h >> (8 * i));
  return b;
}

TEST(CoverageFileTest, PcsRoundTrip) {
  std::string b = SerializeCoverage(Pcs());
  EXPECT_EQ(b.size(), kBody + 3 * 8);
  EXPECT_EQ(b.substr(0, 8), "RMCOVCOV");
  auto d = ParseCoverage(b);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pcs, Pcs().pcs);
  EXPECT_EQ(d->flags, kCoverageUnique | kCoverageInProcess);
  EXPECT_EQ(d->raw_count, 3u);
}

TEST(CoverageFileTest, ComparisonsRoundTrip) {
  CoverageData in;
  in.mode = TraceMode::kCmp;
  in.cmps = {{7, 1, 2, 0x400}, {0, 3, 4, 0x500}};
  auto d = ParseCoverage(SerializeCoverage(in));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->cmps, in.cmps);
}

TEST(CoverageFileTest, EmptyIsValid) {
  auto d = ParseCoverage(SerializeCoverage(CoverageData{}));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->pcs.empty());
}

TEST(CoverageFileTest, TruncatedFilesAreRejected) {
  std::string b = SerializeCoverage(Pcs());
  for (size_t n : {size_t{0}, size_t{10}, size_t{63}}) {
    auto d = ParseCoverage(b.substr(0, n));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
    EXPECT_TRUE(Says(d.status(), "truncated header")) << d.status().ToString();
  }
  auto d = ParseCoverage(b.substr(0, b.size() - 1));
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "truncated?")) << d.status().ToString();
}

TEST(CoverageFileTest, CorruptFilesAreRejected) {
  const std::string good = SerializeCoverage(Pcs());
  struct Case {
    size_t offset;
    char value;
    const char* says;
  } cases[] = {{0, 'X', "bad magic"},
               {12, 1, "header size"},
               {16, 5, "unknown mode"},
               {20, 3, "word size"},
               {28, 1, "modules but only"},
               {32, 9, "entries"},
               {kBody, 0x55, "checksum mismatch"},
               {64, 1, "processes but only"}};
  for (const Case& c : cases) {
    std::string b = good;
    b[c.offset] = c.value;
    auto d = ParseCoverage(b);
    ASSERT_FALSE(d.ok()) << c.says;
    EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
    EXPECT_TRUE(Says(d.status(), c.says)) << d.status().ToString();
  }
}

TEST(CoverageFileTest, NewerVersionIsUnimplemented) {
  std::string b = SerializeCoverage(Pcs());
  b[8] = 4;
  auto d = ParseCoverage(b);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kUnimplemented);
}

TEST(CoverageFileTest, ComparisonTypeAboveSevenIsRejected) {
  CoverageData in;
  in.mode = TraceMode::kCmp;
  in.cmps = {{9, 1, 2, 3}};
  auto d = ParseCoverage(SerializeCoverage(in));
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "type 9"));
}

CoverageData WithModules() {
  CoverageData d = Pcs();
  d.modules = {
      {ModuleKind::kUser, 0, "/usr/bin/prog",
       "0123456789abcdef0123456789abcdef01234567", 0x401000, 0x402000, 0},
      {ModuleKind::kUser, 0, "/lib/libx.so.1", "", 0x7f0000001000,
       0x7f0000003000, 0x7f0000000000},
      {ModuleKind::kKernel, 0, "vmlinux", "", 0, 0, 0},
      {ModuleKind::kKernelModule, kModuleAddressUnknown, "kvm", "", 0, 0, 0},
  };
  return d;
}

TEST(CoverageFileTest, VersionThreeWritesTheModuleTable) {
  const CoverageData in = WithModules();
  std::string b = SerializeCoverage(in);
  EXPECT_EQ(b[8], 3);
  EXPECT_EQ(b[28], 4);  // module count
  EXPECT_EQ(b[64], 0);  // no process table: one address space
  auto d = ParseCoverage(b);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->version, 3u);
  EXPECT_EQ(d->modules, in.modules);
  EXPECT_EQ(d->pcs, in.pcs);
  EXPECT_TRUE(d->processes.empty());
}

// A version 2 file as remcov 0.1.x wrote it: the module table right after
// the header.
TEST(CoverageFileTest, VersionTwoIsStillRead) {
  const CoverageData in = WithModules();
  auto d = ParseCoverage(AsVersion(SerializeCoverage(in), 2));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->version, 2u);
  EXPECT_EQ(d->modules, in.modules);
  EXPECT_EQ(d->pcs, in.pcs);
  EXPECT_TRUE(d->processes.empty());
  // Each PC resolves through the one map.
  const std::vector<const CoverageModule*> mods = EntryModules(*d);
  ASSERT_EQ(mods.size(), in.pcs.size());
  EXPECT_EQ(mods[0], &d->modules[0]);
}

CoverageData TwoProcesses() {
  // Two programs loaded at the same address: only the process table says
  // which PC is whose.
  CoverageData d;
  d.flags = kCoverageInProcess;
  d.modules = {
      {ModuleKind::kUser, 0, "/bin/a", "", 0x401000, 0x402000, 0},
      {ModuleKind::kUser, 0, "/bin/b", "", 0x401000, 0x403000, 0},
      {ModuleKind::kUser, 0, "/lib/libc.so.6", "", 0x7f0000001000,
       0x7f0000002000, 0x7f0000000000},
  };
  d.pcs = {0x401010, 0x401020, 0x402010, 0x7f0000001100};
  d.processes = {{.pid = 10,
                  .ppid = 1,
                  .flags = kProcessExeced,
                  .modules = 1,
                  .entries = 2,
                  .dropped = 0},
                 {.pid = 10,
                  .ppid = 1,
                  .flags = 0,
                  .modules = 2,
                  .entries = 2,
                  .dropped = 3}};
  return d;
}

TEST(CoverageFileTest, ProcessesRoundTripAndResolveThroughTheirOwnMaps) {
  const CoverageData in = TwoProcesses();
  ASSERT_TRUE(CheckProcesses(in).ok());
  auto d = ParseCoverage(SerializeCoverage(in));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->processes, in.processes);
  EXPECT_EQ(d->modules, in.modules);
  EXPECT_EQ(d->pcs, in.pcs);
  const std::vector<const CoverageModule*> mods = EntryModules(*d);
  ASSERT_EQ(mods.size(), 4u);
  EXPECT_EQ(mods[0]->path, "/bin/a");
  EXPECT_EQ(mods[1]->path, "/bin/a");
  EXPECT_EQ(mods[2]->path, "/bin/b");  // 0x402010 is outside /bin/a
  EXPECT_EQ(mods[3]->path, "/lib/libc.so.6");
  // The flat map would have put 0x401010 of the second process in /bin/a.
  CoverageData flat = *d;
  flat.processes.clear();
  EXPECT_EQ(FindModule(flat.modules, 0x401010)->path, "/bin/a");
}

TEST(CoverageFileTest, AProcessTableThatDisagreesIsRejected) {
  CoverageData in = TwoProcesses();
  in.processes[1].entries = 1;  // one entry belongs to no process
  EXPECT_EQ(CheckProcesses(in).code(), StatusCode::kInvalidArgument);
  auto d = ParseCoverage(SerializeCoverage(in));
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(),
                   "the process table accounts for 3 modules and "
                   "3 entries, the header for 3 and 4"))
      << d.status().ToString();
  std::string b = SerializeCoverage(TwoProcesses());
  b[64 + 8 + 20] = 1;  // the first process's reserved field
  d = ParseCoverage(b);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "process 0: reserved field is not zero"));
  b = SerializeCoverage(TwoProcesses());
  b[64 + 8 + 24 + 6] = 1;  // the first process claims 2^48 modules
  d = ParseCoverage(b);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "process 0 claims")) << d.status().ToString();
  b = SerializeCoverage(TwoProcesses());
  b[64 + 3] = 1;  // 2^24 + 2 processes
  d = ParseCoverage(b);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "processes (at most 65536)"))
      << d.status().ToString();
}

TEST(CoverageFileTest, ModuleRecordsArePaddedToEightBytes) {
  // 40 fixed bytes + "/usr/bin/prog" (13) + 20 bytes of build-id = 73 -> 80.
  std::string b = SerializeModules({WithModules().modules[0]});
  EXPECT_EQ(b.size(), 80u);
  auto m = ParseModules(b, 1);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)[0], WithModules().modules[0]);
}

// A version 1 file as remcov 0.1 wrote it: offset 28 reserved, then PCs.
TEST(CoverageFileTest, VersionOneIsStillRead) {
  // No modules: a version 2 file but for the version.
  std::string b = AsVersion(SerializeCoverage(Pcs()), 1);
  auto d = ParseCoverage(b);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->version, 1u);
  EXPECT_TRUE(d->modules.empty());
  EXPECT_EQ(d->pcs, Pcs().pcs);
  b[28] = 1;  // reserved in version 1
  auto bad = ParseCoverage(b);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Says(bad.status(), "reserved")) << bad.status().ToString();
}

TEST(CoverageFileTest, CorruptModuleRecordsAreRejected) {
  const std::string good = SerializeCoverage(WithModules());
  struct Case {
    size_t offset;
    char value;
    const char* says;
  } cases[] = {{kBody, 7, "unknown kind 7"},
               {kBody + 8, 0, "bad path length 0"},
               {kBody + 10, 1, "bad path length"},
               {kBody + 12, 65, "bad build-id length 65"},
               {kBody + 16 + 7, 0x7f, "start above end"},
               {kBody + 40 + 13 + 20, 1, "padding is not zero"},
               {kBody + 40 + 1, 0, "NUL byte"},
               {28, 100, "modules but only"},
               {28, 5, "truncated record"},
               {28, 3, "payload has"}};
  for (const Case& c : cases) {
    std::string b = good;
    b[c.offset] = c.value;
    auto d = ParseCoverage(b);
    ASSERT_FALSE(d.ok()) << c.says;
    EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
    EXPECT_TRUE(Says(d.status(), c.says)) << d.status().ToString();
  }
}

// Huge counts in a tiny input are rejected by size, before any allocation
// (an attempt to reserve 2^64 entries would abort the test).
TEST(CoverageFileTest, HugeCountsAreRejectedBeforeAllocating) {
  std::string b = SerializeCoverage(Pcs());
  std::string huge_entries = b;
  for (int i = 32; i < 40; i++) huge_entries[i] = '\xff';
  auto d = ParseCoverage(huge_entries);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "truncated?")) << d.status().ToString();
  std::string huge_modules = b;
  for (int i = 28; i < 32; i++) huge_modules[i] = '\xff';
  d = ParseCoverage(huge_modules);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Says(d.status(), "modules but only")) << d.status().ToString();
  auto m = ParseModules(std::string(40, '\0'), ~uint64_t{0});
  ASSERT_FALSE(m.ok());
  // A path length near 2^32 with a short record.
  std::string one = SerializeModules({WithModules().modules[0]});
  one[8] = one[9] = one[10] = one[11] = '\xff';
  m = ParseModules(one, 1);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(Says(m.status(), "bad path length")) << m.status().ToString();
}

// Every prefix of a valid file is rejected cleanly, never accepted or crashed.
TEST(CoverageFileTest, EveryTruncationIsDataLoss) {
  const std::string b = SerializeCoverage(WithModules());
  for (size_t n = 0; n < b.size(); n++) {
    auto d = ParseCoverage(b.substr(0, n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_EQ(d.status().code(), StatusCode::kDataLoss) << n;
  }
}

TEST(CoverageFileTest, FindModuleSkipsUnknownAddresses) {
  const CoverageData d = WithModules();
  EXPECT_EQ(FindModule(d.modules, 0x401000), &d.modules[0]);
  EXPECT_EQ(FindModule(d.modules, 0x402000), nullptr);
  EXPECT_EQ(FindModule(d.modules, 0x7f0000002fff), &d.modules[1]);
  EXPECT_EQ(FindModule(d.modules, 0), nullptr);
}

TEST(CoverageFileTest, HexRoundTrip) {
  bool ok = false;
  EXPECT_EQ(HexDecode("00ff7a", &ok), std::string("\x00\xff\x7a", 3));
  EXPECT_TRUE(ok);
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x7a", 3)), "00ff7a");
  HexDecode("abc", &ok);
  EXPECT_FALSE(ok);
  HexDecode("zz", &ok);
  EXPECT_FALSE(ok);
}

int LoadMapMarker() { return 42; }

TEST(CoverageFileTest, CurrentLoadMapHoldsThisProgram) {
  std::vector<CoverageModule> map = CurrentLoadMap();
  ASSERT_FALSE(map.empty());
  const uint64_t pc = reinterpret_cast<uint64_t>(&LoadMapMarker);
  const CoverageModule* m = FindModule(map, pc);
  ASSERT_NE(m, nullptr) << "no module holds this test's own code";
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(m->path, std::string(exe, static_cast<size_t>(n)));
  EXPECT_EQ(m->kind, ModuleKind::kUser);
  EXPECT_LE(m->bias, m->start);
  EXPECT_FALSE(m->build_id.empty()) << "Debian's toolchains link --build-id";
  // The encoding the file uses round-trips the whole map.
  auto back = ParseModules(SerializeModules(map), map.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, map);
}

TEST(CoverageFileTest, MissingFileIsNotFound) {
  auto d = ReadCoverageFile("/nonexistent/remcov.cov");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace remcov
