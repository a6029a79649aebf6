// SPDX-License-Identifier: Apache-2.0
// The union of coverage files (format/coverage_merge.h), without the CLI.
#include "format/coverage_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace remcov {
namespace {

CoverageModule Mod(const std::string& path, const std::string& id,
                   uint64_t start, uint64_t end, uint64_t bias) {
  CoverageModule m;
  m.path = path;
  m.build_id = id;
  m.start = start;
  m.end = end;
  m.bias = bias;
  return m;
}

CoverageData Pcs(std::vector<CoverageModule> mods, std::vector<uint64_t> pcs) {
  CoverageData d;
  d.modules = std::move(mods);
  d.pcs = std::move(pcs);
  d.raw_count = d.pcs.size();
  return d;
}

TEST(CoverageMergeTest, UnionSumsCountsAcrossLoadBiases) {
  // One PIE program, two runs at different load addresses (matched by
  // build-id, although the path differs), and a repeat.
  CoverageData a = Pcs({Mod("/bin/p", "abcd", 0x1000, 0x2000, 0x1000)},
                       {0x1010, 0x1010, 0x1020});
  CoverageData b =
      Pcs({Mod("/other/p", "abcd", 0x5000, 0x6000, 0x5000)}, {0x5020, 0x5030});
  a.dropped = 3;
  a.flags = kCoverageOverflow;
  b.dropped = 4;
  CoverageMerger m;
  ASSERT_TRUE(m.Add(a).ok());
  ASSERT_TRUE(m.Add(b).ok());
  EXPECT_EQ(m.distinct(), 3u);
  EXPECT_EQ(m.stats().files, 2u);
  EXPECT_EQ(m.stats().entries_in, 5u);
  EXPECT_EQ(m.stats().dropped, 7u);
  EXPECT_EQ(m.stats().overflowed_files, 1u);
  auto r = m.Result(false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->modules.size(), 1u);
  EXPECT_EQ(r->modules[0].path, "/bin/p");  // the first input's
  EXPECT_EQ(r->modules[0].bias, 0x1000u);
  // Module addresses 0x10 x2, 0x20 x2, 0x30 x1, at the first run's bias.
  EXPECT_EQ(r->pcs,
            (std::vector<uint64_t>{0x1010, 0x1010, 0x1020, 0x1020, 0x1030}));
  EXPECT_EQ(r->dropped, 7u);
  EXPECT_TRUE(r->flags & kCoverageOverflow);
  EXPECT_FALSE(r->flags & kCoverageUnique);
  auto u = m.Result(true);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->pcs, (std::vector<uint64_t>{0x1010, 0x1020, 0x1030}));
  EXPECT_TRUE(u->flags & kCoverageUnique);
  EXPECT_EQ(u->raw_count, 3u + 7u);
}

TEST(CoverageMergeTest, DifferentProgramsSideBySide) {
  // Two programs loaded at the same address: the second is moved above the
  // first, its module addresses unchanged.
  CoverageData a = Pcs({Mod("/bin/a", "aa", 0x1000, 0x2000, 0x1000)}, {0x1010});
  CoverageData b = Pcs({Mod("/bin/b", "bb", 0x1000, 0x3000, 0x1000)}, {0x2010});
  CoverageMerger m;
  ASSERT_TRUE(m.Add(a).ok());
  ASSERT_TRUE(m.Add(b).ok());
  auto r = m.Result(false);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->modules.size(), 2u);
  const CoverageModule& mb = r->modules[1];
  EXPECT_EQ(mb.path, "/bin/b");
  EXPECT_GE(mb.start, r->modules[0].end);
  EXPECT_EQ(mb.end - mb.start, 0x2000u);
  ASSERT_EQ(r->pcs.size(), 2u);
  EXPECT_EQ(r->pcs[0], 0x1010u);
  EXPECT_EQ(r->pcs[1] - mb.bias, 0x1010u);  // b's module address
  EXPECT_EQ(FindModule(r->modules, r->pcs[1]), &r->modules[1]);
}

TEST(CoverageMergeTest, TwoProcessesOfOneFileResolveThroughTheirOwnMaps) {
  // One version 3 input whose two processes ran different programs at the
  // same addresses: the first resolves /bin/a, the second /bin/b, as two
  // inputs would; the result is one address space (no process table).
  CoverageData d = Pcs({Mod("/bin/a", "aa", 0x1000, 0x2000, 0x1000),
                        Mod("/bin/b", "bb", 0x1000, 0x3000, 0x1000)},
                       {0x1010, 0x1010});
  d.processes = {{.pid = 1, .modules = 1, .entries = 1},
                 {.pid = 2, .modules = 1, .entries = 1}};
  CoverageMerger m;
  ASSERT_TRUE(m.Add(d).ok());
  EXPECT_EQ(m.stats().unattributed, 0u);
  auto r = m.Result(false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->processes.empty());
  ASSERT_EQ(r->modules.size(), 2u);
  ASSERT_EQ(r->pcs.size(), 2u);
  EXPECT_EQ(FindModule(r->modules, r->pcs[0])->path, "/bin/a");
  EXPECT_EQ(FindModule(r->modules, r->pcs[1])->path, "/bin/b");
  EXPECT_EQ(r->pcs[1] - r->modules[1].bias, 0x10u);  // b's module address
  // A process table that does not add up is refused.
  d.processes[1].entries = 5;
  CoverageMerger bad;
  EXPECT_FALSE(bad.Add(d).ok());
}

TEST(CoverageMergeTest, NoBuildIdMatchesByPath) {
  CoverageData a = Pcs({Mod("/bin/x", "", 0x1000, 0x2000, 0)}, {0x1000});
  CoverageData b = Pcs({Mod("/bin/x", "", 0x1000, 0x2000, 0)}, {0x1000});
  CoverageMerger m;
  ASSERT_TRUE(m.Add(a).ok());
  ASSERT_TRUE(m.Add(b).ok());
  EXPECT_EQ(m.modules(), 1u);
  EXPECT_EQ(m.distinct(), 1u);
  EXPECT_EQ(m.output_entries(false), 2u);
}

TEST(CoverageMergeTest, MixedModesRefused) {
  CoverageData a = Pcs({}, {1, 2});
  CoverageData b;
  b.mode = TraceMode::kCmp;
  b.cmps = {CmpRecord{1, 2, 3, 4}};
  CoverageMerger m;
  ASSERT_TRUE(m.Add(a).ok());
  Status s = m.Add(b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cannot be merged"), std::string::npos);
  EXPECT_EQ(m.stats().files, 1u);  // nothing of b kept
  EXPECT_EQ(m.distinct(), 2u);
}

TEST(CoverageMergeTest, ComparisonRecords) {
  CoverageData a;
  a.mode = TraceMode::kCmp;
  a.modules = {Mod("/bin/p", "ab", 0x1000, 0x2000, 0x1000)};
  a.cmps = {CmpRecord{1, 5, 6, 0x1100}, CmpRecord{1, 5, 6, 0x1100}};
  CoverageData b = a;
  b.modules[0].start = 0x7000;
  b.modules[0].end = 0x8000;
  b.modules[0].bias = 0x7000;
  b.cmps = {CmpRecord{1, 5, 6, 0x7100}, CmpRecord{3, 0, 1, 0x9999}};
  CoverageMerger m;
  ASSERT_TRUE(m.Add(a).ok());
  ASSERT_TRUE(m.Add(b).ok());
  auto r = m.Result(true);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->cmps.size(), 2u);
  EXPECT_EQ(r->cmps[0], (CmpRecord{1, 5, 6, 0x1100}));
  EXPECT_EQ(r->cmps[1], (CmpRecord{3, 0, 1, 0x9999}));  // outside: unchanged
  EXPECT_EQ(m.stats().unattributed, 1u);
  EXPECT_EQ(m.output_entries(false), 4u);
}

TEST(CoverageMergeTest, WriteEqualsSerializedResult) {
  CoverageData a = Pcs({Mod("/bin/a", "aa", 0x1000, 0x2000, 0x1000),
                        Mod("/lib/l.so", "cc", 0x9000, 0xa000, 0x9000)},
                       {0x1010, 0x9010, 0x9010, 0x42});
  CoverageData b = Pcs({Mod("/bin/b", "bb", 0x1000, 0x3000, 0x1000)}, {0x2010});
  CoverageMerger m;
  ASSERT_TRUE(m.Add(a).ok());
  ASSERT_TRUE(m.Add(b).ok());
  for (bool unique : {false, true}) {
    char path[] = "/tmp/remcov_merge_testXXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    // Longer junk first: Write truncates to what it wrote.
    ASSERT_EQ(write(fd, std::string(4096, 'x').data(), 4096), 4096);
    Status s = m.Write(fd, path, unique);
    close(fd);
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto read = ReadCoverageFile(path);
    unlink(path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    auto want = m.Result(unique);
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(SerializeCoverage(*read), SerializeCoverage(*want));
    EXPECT_EQ(read->pcs.size(), unique ? 4u : 5u);
  }
}

}  // namespace
}  // namespace remcov
