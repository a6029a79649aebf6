// SPDX-License-Identifier: Apache-2.0
// Pins every constant and layout of remcov/kcov_abi.h to literal numbers
// (those of Linux 6.1's include/uapi/linux/kcov.h, and for UNIQUE_ENABLE and
// RESET_TRACE those of the unmerged proposals, docs/kcov.md) and to the
// kernel's own <linux/kcov.h>.
#include "remcov/kcov_abi.h"

#include <sys/ioctl.h>
// <linux/kcov.h> uses _IO* without including them.
#include <linux/kcov.h>
#include <stddef.h>

#include <gtest/gtest.h>

namespace {

TEST(KcovAbiTest, IoctlNumbersMatchTheReference) {
  EXPECT_EQ(REMCOV_KCOV_INIT_TRACE64, 0x80086301ul);
  EXPECT_EQ(REMCOV_KCOV_INIT_TRACE32, 0x80046301ul);
  EXPECT_EQ(REMCOV_KCOV_ENABLE, 0x6364ul);
  EXPECT_EQ(REMCOV_KCOV_DISABLE, 0x6365ul);
  EXPECT_EQ(REMCOV_KCOV_REMOTE_ENABLE, 0x40186366ul);
  EXPECT_EQ(REMCOV_KCOV_UNIQUE_ENABLE, 0x40086367ul);
  EXPECT_EQ(REMCOV_KCOV_RESET_TRACE, 0x6368ul);
}

TEST(KcovAbiTest, IoctlNumbersMatchLinuxHeader) {
  EXPECT_EQ(REMCOV_KCOV_INIT_TRACE,
            static_cast<unsigned long>(KCOV_INIT_TRACE));
  EXPECT_EQ(REMCOV_KCOV_ENABLE, static_cast<unsigned long>(KCOV_ENABLE));
  EXPECT_EQ(REMCOV_KCOV_DISABLE, static_cast<unsigned long>(KCOV_DISABLE));
  EXPECT_EQ(REMCOV_KCOV_REMOTE_ENABLE,
            static_cast<unsigned long>(KCOV_REMOTE_ENABLE));
}

TEST(KcovAbiTest, ModesAndComparisonTypes) {
  EXPECT_EQ(REMCOV_KCOV_TRACE_PC, 0u);
  EXPECT_EQ(REMCOV_KCOV_TRACE_CMP, 1u);
  EXPECT_EQ(REMCOV_KCOV_TRACE_PC, static_cast<unsigned>(KCOV_TRACE_PC));
  EXPECT_EQ(REMCOV_KCOV_TRACE_CMP, static_cast<unsigned>(KCOV_TRACE_CMP));
  EXPECT_EQ(REMCOV_KCOV_CMP_CONST, 1u);
  EXPECT_EQ(REMCOV_KCOV_CMP_SIZE(0), 0u);
  EXPECT_EQ(REMCOV_KCOV_CMP_SIZE(3), 6u);
  EXPECT_EQ(REMCOV_KCOV_CMP_MASK, 6u);
  EXPECT_EQ(REMCOV_KCOV_CMP_CONST, static_cast<unsigned>(KCOV_CMP_CONST));
  for (unsigned n = 0; n < 4; n++)
    EXPECT_EQ(REMCOV_KCOV_CMP_SIZE(n), static_cast<unsigned>(KCOV_CMP_SIZE(n)));
  EXPECT_EQ(REMCOV_KCOV_CMP_MASK, static_cast<unsigned>(KCOV_CMP_MASK));
  EXPECT_EQ(REMCOV_ENOTSUPP, 524);
}

TEST(KcovAbiTest, HandleMasksAndHelper) {
  EXPECT_EQ(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x0ull);
  EXPECT_EQ(REMCOV_KCOV_SUBSYSTEM_USB, 0x0100000000000000ull);
  EXPECT_EQ(REMCOV_KCOV_SUBSYSTEM_MASK, 0xff00000000000000ull);
  EXPECT_EQ(REMCOV_KCOV_INSTANCE_MASK, 0xffffffffull);
  EXPECT_EQ(REMCOV_KCOV_REMOTE_MAX_HANDLES, 0x100u);
  EXPECT_EQ(REMCOV_KCOV_SUBSYSTEM_USB, KCOV_SUBSYSTEM_USB);
  EXPECT_EQ(REMCOV_KCOV_SUBSYSTEM_MASK, KCOV_SUBSYSTEM_MASK);
  EXPECT_EQ(REMCOV_KCOV_INSTANCE_MASK, KCOV_INSTANCE_MASK);
  EXPECT_EQ(REMCOV_KCOV_REMOTE_MAX_HANDLES,
            static_cast<unsigned>(KCOV_REMOTE_MAX_HANDLES));
  const uint64_t cases[][2] = {{REMCOV_KCOV_SUBSYSTEM_USB, 3},
                               {REMCOV_KCOV_SUBSYSTEM_COMMON, 0xffffffff},
                               {REMCOV_KCOV_SUBSYSTEM_USB, 0x100000000ull},
                               {0x1ull, 1},
                               {0x0200000000000000ull, 7}};
  for (auto& c : cases)
    EXPECT_EQ(remcov_kcov_remote_handle(c[0], c[1]),
              kcov_remote_handle(c[0], c[1]));
  EXPECT_EQ(remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 3),
            0x0100000000000003ull);
  EXPECT_EQ(
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 0x100000000ull), 0u);
}

TEST(KcovAbiTest, RemoteArgLayoutIncludingPadding) {
  EXPECT_EQ(sizeof(remcov_kcov_remote_arg), 24u);
  EXPECT_EQ(sizeof(remcov_kcov_remote_arg), sizeof(struct kcov_remote_arg));
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, trace_mode), 0u);
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, area_size), 4u);
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, num_handles), 8u);
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, pad), 12u);
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, common_handle), 16u);
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, handles), 24u);
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, common_handle),
            offsetof(struct kcov_remote_arg, common_handle));
  EXPECT_EQ(offsetof(remcov_kcov_remote_arg, handles),
            offsetof(struct kcov_remote_arg, handles));
  EXPECT_EQ(alignof(remcov_kcov_remote_arg), 8u);
}

}  // namespace
