// SPDX-License-Identifier: Apache-2.0
// KernelBackend over FakeSys: every injected error, its Status and its
// explanation; 32/64-bit INIT_TRACE encodings; the KCOV_RESET_TRACE probe;
// reading a buffer the fake kernel wrote.
#include <errno.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/kcov.h"

#include "fake_sys.h"

namespace remcov::testing {
namespace {

using Call = FakeSys::Call;

bool Contains(const std::string& s, const char* sub) {
  return s.find(sub) != std::string::npos;
}

bool Sent(FakeSys& sys, unsigned long cmd) {
  auto c = sys.commands();
  return std::find(c.begin(), c.end(), cmd) != c.end();
}

TEST(KernelBackendTest, OpenWithoutDebugfsSaysToMountIt) {
  FakeSys sys;
  sys.debugfs_mounted = false;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.status().error_number(), ENOENT);
  EXPECT_TRUE(Contains(c.status().message(), "debugfs is not mounted"))
      << c.status().ToString();
  EXPECT_TRUE(Contains(c.status().message(), "mount -t debugfs"));
}

TEST(KernelBackendTest, OpenWithDebugfsButNoDeviceNamesConfigKcov) {
  FakeSys sys;
  sys.Inject(Call::kOpen, ENOENT);
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(c.status().message(), "CONFIG_KCOV"))
      << c.status().ToString();
}

TEST(KernelBackendTest, OpenOfAChosenPathOutsideDebugfsSaysItDoesNotExist) {
  // --device /tmp/x/nonexistent: the directory exists but is not debugfs;
  // the kernel's configuration is not to blame.
  FakeSys sys;
  sys.debugfs_mounted = false;
  KernelBackend k(sys, {.device_path = "/tmp/x/nonexistent"});
  auto c = Collector::Open(k, 1024);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(
      Contains(c.status().message(), "/tmp/x/nonexistent does not exist"))
      << c.status().ToString();
  EXPECT_FALSE(Contains(c.status().message(), "CONFIG_KCOV"))
      << c.status().ToString();
}

TEST(KernelBackendTest, OpenWithoutDebugDirectorySaysSo) {
  FakeSys sys;
  sys.debug_dir_exists = false;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Contains(c.status().message(), "does not exist"))
      << c.status().ToString();
}

TEST(KernelBackendTest, PermissionErrorsAskForRoot) {
  for (int err : {EACCES, EPERM}) {
    FakeSys sys;
    sys.Inject(Call::kOpen, err);
    KernelBackend k(sys);
    auto c = Collector::Open(k, 1024);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(c.status().error_number(), err);
    EXPECT_TRUE(Contains(c.status().message(), "root"))
        << c.status().ToString();
  }
}

TEST(KernelBackendTest, InitTraceErrorsCloseTheDevice) {
  struct Case {
    int err;
    StatusCode code;
  } cases[] = {{EBUSY, StatusCode::kFailedPrecondition},
               {EINVAL, StatusCode::kInvalidArgument},
               {ENOMEM, StatusCode::kResourceExhausted},
               {ENOTTY, StatusCode::kUnimplemented}};
  for (const Case& tc : cases) {
    FakeSys sys;
    sys.Inject(Call::kInit, tc.err);
    KernelBackend k(sys);
    auto c = Collector::Open(k, 1024);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), tc.code) << c.status().ToString();
    EXPECT_EQ(c.status().error_number(), tc.err);
    EXPECT_TRUE(Contains(c.status().message(), "KCOV_INIT_TRACE"));
    EXPECT_EQ(sys.open_fds(), 0);
  }
}

TEST(KernelBackendTest, MmapFailureIsReportedAndClosesTheDevice) {
  FakeSys sys;
  sys.Inject(Call::kMmap, ENOMEM);
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(c.status().message(), "mmap"));
  EXPECT_EQ(sys.open_fds(), 0);
}

TEST(KernelBackendTest, EnableErrorsMapToStatus) {
  struct Case {
    int err;
    StatusCode code;
    const char* says;
  } cases[] = {{EBUSY, StatusCode::kFailedPrecondition, "already has another"},
               {EINVAL, StatusCode::kInvalidArgument, "KCOV_ENABLE"},
               {ENOTTY, StatusCode::kUnimplemented, "does not know"},
               {REMCOV_ENOTSUPP, StatusCode::kUnimplemented,
                "CONFIG_KCOV_ENABLE_COMPARISONS"}};
  for (const Case& tc : cases) {
    FakeSys sys;
    KernelBackend k(sys);
    auto c = Collector::Open(k, 1024);
    ASSERT_TRUE(c.ok());
    sys.Inject(Call::kEnable, tc.err);
    Status s = c->Enable(TraceMode::kPc);
    EXPECT_EQ(s.code(), tc.code) << s.ToString();
    EXPECT_EQ(s.error_number(), tc.err);
    EXPECT_TRUE(Contains(s.message(), tc.says)) << s.ToString();
    EXPECT_FALSE(c->enabled());
  }
}

TEST(KernelBackendTest, ComparisonsCompiledOutGive524) {
  FakeSys sys;
  sys.comparisons = false;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_TRUE(c.ok());
  Status s = c->Enable(TraceMode::kCmp);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(s.error_number(), REMCOV_ENOTSUPP);
  EXPECT_TRUE(Contains(s.message(), "CONFIG_KCOV_ENABLE_COMPARISONS"));
  EXPECT_TRUE(c->Enable(TraceMode::kPc).ok());
}

TEST(KernelBackendTest, RemoteEnableEexistExplainsTheLeakedHandle) {
  FakeSys sys;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_TRUE(c.ok());
  sys.Inject(Call::kRemoteEnable, EEXIST);
  RemoteOptions o;
  o.common_handle = remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 1);
  Status s = c->EnableRemote(o);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(s.message(), "syzkaller #4626")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "--common-id"));
}

TEST(KernelBackendTest, DisableErrorIsReported) {
  FakeSys sys;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Enable(TraceMode::kPc).ok());
  sys.Inject(Call::kDisable, EINVAL);
  EXPECT_EQ(c->Disable().error_number(), EINVAL);
  sys.Inject(Call::kDisable, 0);
  EXPECT_TRUE(c->Disable().ok());
}

TEST(KernelBackendTest, SixtyFourBitProgramSendsTheSixtyFourBitInitTrace) {
  FakeSys sys;
  KernelBackend k(sys, {.device_path = kDefaultKcovPath, .user_word_bytes = 8});
  EXPECT_EQ(k.WordBytes(), 8u);
  EXPECT_EQ(k.InitTraceCmd(), 0x80086301ul);
  ASSERT_TRUE(Collector::Open(k, 1024).ok());
  EXPECT_TRUE(Sent(sys, 0x80086301ul));
}

TEST(KernelBackendTest,
     ThirtyTwoBitProgramOnSixtyFourBitKernelSendsSixtyFourBitForm) {
  FakeSys sys;
  sys.kernel64 = true;
  KernelBackend k(sys, {.device_path = kDefaultKcovPath, .user_word_bytes = 4});
  EXPECT_EQ(k.WordBytes(), 8u);
  EXPECT_EQ(k.InitTraceCmd(), 0x80086301ul);
  ASSERT_TRUE(Collector::Open(k, 1024).ok());
  EXPECT_TRUE(Sent(sys, 0x80086301ul));
  EXPECT_FALSE(Sent(sys, 0x80046301ul));
}

TEST(KernelBackendTest, ThirtyTwoBitKernelUsesTheThirtyTwoBitForm) {
  FakeSys sys;
  sys.kernel64 = false;
  KernelBackend k(sys, {.device_path = kDefaultKcovPath, .user_word_bytes = 4});
  EXPECT_EQ(k.WordBytes(), 4u);
  EXPECT_EQ(k.InitTraceCmd(), 0x80046301ul);
  // Collector views are 64-bit only: refused before any call.
  auto c = Collector::Open(k, 1024);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented);
  // The fake kernel rejects the 64-bit form with ENOTTY, as a real one would.
  int fd = k.Open();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(k.Ioctl(fd, REMCOV_KCOV_INIT_TRACE64, 1024), -1);
  EXPECT_EQ(errno, ENOTTY);
  EXPECT_EQ(k.Ioctl(fd, REMCOV_KCOV_INIT_TRACE32, 1024), 0);
  k.Close(fd);
}

TEST(KernelBackendTest, UnreadableKallsymsFallsBackToTheProgramsWordSize) {
  FakeSys sys;
  sys.kallsyms_readable = false;
  EXPECT_EQ(DetectKernelWordBytes(sys, 4), 4u);
  EXPECT_EQ(DetectKernelWordBytes(sys, 8), 8u);
  sys.kallsyms_readable = true;
  EXPECT_EQ(DetectKernelWordBytes(sys, 4), 8u);
}

TEST(KernelBackendTest, ResetTraceProbe) {
  FakeSys sys;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(HasResetTrace(k, c->fd()));
  sys.reset_trace = true;
  EXPECT_TRUE(HasResetTrace(k, c->fd()));
}

TEST(KernelBackendTest, CollectorReadsWhatTheKernelWrote) {
  FakeSys sys;
  KernelBackend k(sys);
  auto c = Collector::Open(k, 1024);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Enable(TraceMode::kPc).ok());
  uint64_t* area = sys.Area(c->fd());
  ASSERT_NE(area, nullptr);
  area[1] = 0xffffffff81000010;
  area[2] = 0xffffffff81000020;
  area[0] = 2;
  ASSERT_EQ(c->Pcs().size(), 2u);
  EXPECT_EQ(c->Pcs()[1], 0xffffffff81000020u);
  area[0] = ~0ull;  // corrupted count
  EXPECT_EQ(c->Pcs().size(), c->Capacity(TraceMode::kPc));
  EXPECT_EQ(c->Validate(TraceMode::kPc).code(), StatusCode::kDataLoss);
  area[0] = 0;
}

TEST(KernelBackendTest, CustomDevicePathIsUsedAndNamed) {
  FakeSys sys;
  sys.device_path = "/tmp/kcov";
  KernelBackend k(sys, {.device_path = "/tmp/kcov", .user_word_bytes = 0});
  EXPECT_EQ(k.Name(), "kcov /tmp/kcov");
  EXPECT_TRUE(Collector::Open(k, 1024).ok());
}

}  // namespace
}  // namespace remcov::testing
