// SPDX-License-Identifier: Apache-2.0
// KernelBackend over the real system calls (label kcov): skipped when the
// kcov device is absent or access is denied (as on CI machines); otherwise
// traces a system call and reads the kernel's PCs through the Collector.
#include <errno.h>
#include <unistd.h>

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

TEST(KernelDeviceTest, TracesASystemCall) {
  KernelBackend kernel(RealSys());
  auto c = Collector::Open(kernel, 1 << 16);
  if (!c.ok() && (c.status().code() == StatusCode::kNotFound ||
                  c.status().code() == StatusCode::kPermissionDenied)) {
    GTEST_SKIP() << c.status().ToString();
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
