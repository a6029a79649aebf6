// SPDX-License-Identifier: Apache-2.0
// KernelBackend over the real system calls (label kcov): where this host has a
// usable kcov device, traces a system call and reads the kernel's PCs through
// the Collector; where it has none (as on CI machines: the QEMU lane runs the
// real device), asserts the status and message the client gives instead.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/kcov.h"

namespace remcov {
namespace {

TEST(KernelDeviceTest, RealSysDetectsThisKernelsWordSize) {
  // x86-64/arm64 CI machines run 64-bit kernels; kallsyms may be hidden.
  EXPECT_EQ(DetectKernelWordBytes(RealSys(), 8), 8u);
  unsigned w = DetectKernelWordBytes(RealSys(), 4);
  EXPECT_TRUE(w == 4 || w == 8);
}

TEST(KernelDeviceTest, TracesASystemCallOrSaysWhyNot) {
  // What this host offers, found without the client.
  const int probe = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
  const int probe_errno = errno;
  if (probe >= 0) close(probe);
  KernelBackend kernel(RealSys());
  auto c = Collector::Open(kernel, 1 << 16);
  if (probe < 0) {
    ASSERT_FALSE(c.ok()) << "the client opened a device this test could not";
    const std::string msg = c.status().ToString();
    EXPECT_NE(msg.find("/sys/kernel/debug/kcov"), std::string::npos) << msg;
    if (probe_errno == ENOENT) {
      EXPECT_EQ(c.status().code(), StatusCode::kNotFound) << msg;
    } else if (probe_errno == EACCES || probe_errno == EPERM) {
      EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << msg;
    }
    return;
  }
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->Enable(TraceMode::kPc).ok());
  (void)getppid();
  size_t n = c->Pcs().size();
  ASSERT_TRUE(c->Disable().ok());
  EXPECT_GT(n, 0u);
  EXPECT_TRUE(c->Validate(TraceMode::kPc).ok());
  (void)HasResetTrace(kernel, c->fd());
}

}  // namespace
}  // namespace remcov
