// SPDX-License-Identifier: Apache-2.0
#include "base/env_flags.h"

#include <stdint.h>

#include <string>

#include <gtest/gtest.h>

namespace remcov::internal {
namespace {

TEST(EnvFlagsTest, UnsetMeansTheDefaultAndSetMeansTheFlagsRange) {
  uint64_t v = 0;
  ASSERT_TRUE(EnvNumber(kAflPcWords, nullptr, &v));
  EXPECT_EQ(v, uint64_t{1} << 18);
  ASSERT_TRUE(EnvNumber(kAflIterations, nullptr, &v));
  EXPECT_EQ(v, 10000u);
  ASSERT_TRUE(EnvNumber(kAflPcWords, "2", &v));
  EXPECT_EQ(v, 2u);
  v = 5;
  EXPECT_FALSE(EnvNumber(kAflPcWords, "1", &v));
  EXPECT_FALSE(EnvNumber(kAflPcWords, "0x10000001", &v));  // 2^28 + 1
  EXPECT_FALSE(EnvNumber(kAflIterations, "0", &v));
  EXPECT_FALSE(EnvNumber(kAflIterations, "1000000001", &v));
  EXPECT_EQ(v, 5u);
}

TEST(EnvFlagsTest, ErrorNamesTheVariableTheTextAndTheRange) {
  testing::internal::CaptureStderr();
  PrintEnvNumberError("remcov-afl", kAflPcWords, "lots");
  PrintEnvNumberError("remcov-afl", kAflIterations, "-3");
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err,
            "remcov-afl: REMCOV_AFL_PC_WORDS=lots is not a number of words in "
            "[2, 2^28]\n"
            "remcov-afl: REMCOV_AFL_ITERATIONS=-3 is not a count in "
            "[1, 10^9]\n");
}

}  // namespace
}  // namespace remcov::internal
