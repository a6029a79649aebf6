// SPDX-License-Identifier: Apache-2.0
#include "base/number.h"

#include <stdint.h>

#include <gtest/gtest.h>

namespace remcov::internal {
namespace {

constexpr uint64_t kUntouched = 0xdeadbeef;

uint64_t Parse(const char* text, uint64_t min, uint64_t max, bool* ok) {
  uint64_t v = kUntouched;
  *ok = ParseNumber(text, min, max, &v);
  return v;
}

TEST(NumberTest, AcceptsDecimalHexadecimalAndOctalInRange) {
  bool ok = false;
  EXPECT_EQ(Parse("512", 2, 1000, &ok), 512u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("0x200", 2, 1000, &ok), 512u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("0XfF", 0, 1000, &ok), 255u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("0", 0, 0, &ok), 0u);
  EXPECT_TRUE(ok);
  // C notation, as strtoull with base 0: a leading zero is octal.
  EXPECT_EQ(Parse("010", 0, 100, &ok), 8u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("0777", 0, 1000, &ok), 511u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("18446744073709551615", 0, UINT64_MAX, &ok), UINT64_MAX);
  EXPECT_TRUE(ok);
}

TEST(NumberTest, RangeEndsAreIncludedAndNothingBeyond) {
  bool ok = false;
  EXPECT_EQ(Parse("2", 2, 8, &ok), 2u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("8", 2, 8, &ok), 8u);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("1", 2, 8, &ok), kUntouched);
  EXPECT_FALSE(ok);
  EXPECT_EQ(Parse("9", 2, 8, &ok), kUntouched);
  EXPECT_FALSE(ok);
}

TEST(NumberTest, RejectsAnythingButDigitsAndLeavesTheOutputAlone) {
  for (const char* bad :
       {"", "lots", "-1", "+1", " 1", "1 ", "1k", "0x", "0x1g", "08", "019",
        "1.5", "12a", "0x-1", "18446744073709551616", "0x10000000000000000",
        "02000000000000000000000"}) {
    bool ok = true;
    EXPECT_EQ(Parse(bad, 0, UINT64_MAX, &ok), kUntouched) << bad;
    EXPECT_FALSE(ok) << '"' << bad << '"';
  }
  bool ok = true;
  EXPECT_EQ(Parse(nullptr, 0, UINT64_MAX, &ok), kUntouched);
  EXPECT_FALSE(ok);
}

TEST(NumberTest, ParsesAtCompileTime) {
  constexpr auto parse = [](const char* text) {
    uint64_t v = 0;
    return ParseNumber(text, 0, 1000, &v) ? v : UINT64_MAX;
  };
  static_assert(parse("0x3e8") == 1000);
  static_assert(parse("1001") == UINT64_MAX);
  EXPECT_EQ(parse("7"), 7u);
}

}  // namespace
}  // namespace remcov::internal
