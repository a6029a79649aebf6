// SPDX-License-Identifier: Apache-2.0
// The coverage file: round trips, and rejection of truncated or corrupt files.
#include "remcov/coverage_file.h"

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

TEST(CoverageFileTest, PcsRoundTrip) {
  std::string b = SerializeCoverage(Pcs());
  EXPECT_EQ(b.size(), 64u + 3 * 8);
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
               {28, 1, "reserved"},
               {32, 9, "entries"},
               {64, 0x55, "checksum mismatch"}};
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
  b[8] = 2;
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

TEST(CoverageFileTest, MissingFileIsNotFound) {
  auto d = ReadCoverageFile("/nonexistent/remcov.cov");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace remcov
