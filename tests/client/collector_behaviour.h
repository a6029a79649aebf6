// SPDX-License-Identifier: Apache-2.0
// The Collector behaviour checks shared by every backend: a typed GoogleTest
// suite instantiated once over KernelBackend+FakeSys (label unit) and once
// over RuntimeBackend() (label runtime).
#ifndef REMCOV_TESTS_CLIENT_COLLECTOR_BEHAVIOUR_H_
#define REMCOV_TESTS_CLIENT_COLLECTOR_BEHAVIOUR_H_

#include <errno.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/kcov_abi.h"

namespace remcov::testing {

// The area a test may write (the mapping is MAP_SHARED and user-writable).
inline uint64_t* WritableArea(const Collector& c) {
  return const_cast<uint64_t*>(c.Pcs().data()) - 1;
}

template <typename Env>
class CollectorBehaviourTest : public ::testing::Test {
 protected:
  Env env_;
  Backend& b() { return env_.backend(); }
  Collector MustOpen(size_t words = 1024) {
    auto c = Collector::Open(b(), words);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
};

TYPED_TEST_SUITE_P(CollectorBehaviourTest);

TYPED_TEST_P(CollectorBehaviourTest, OpenRoundsSizeUpToWholePages) {
  Collector c = this->MustOpen(3);
  const size_t page_words = static_cast<size_t>(sysconf(_SC_PAGESIZE)) / 8;
  EXPECT_EQ(c.words(), page_words);
  EXPECT_EQ(c.Capacity(TraceMode::kPc), page_words - 1);
  EXPECT_EQ(c.Capacity(TraceMode::kCmp), (page_words - 1) / 4);
  EXPECT_TRUE(c.Pcs().empty());
}

TYPED_TEST_P(CollectorBehaviourTest, EnableThenDisableOnTheSameThread) {
  Collector c = this->MustOpen();
  ASSERT_TRUE(c.Enable(TraceMode::kPc).ok());
  EXPECT_TRUE(c.enabled());
  EXPECT_TRUE(c.Disable().ok());
  EXPECT_FALSE(c.enabled());
}

TYPED_TEST_P(CollectorBehaviourTest, EnableResetsTheCount) {
  Collector c = this->MustOpen();
  WritableArea(c)[0] = 5;
  ASSERT_TRUE(c.Enable(TraceMode::kPc).ok());
  ASSERT_TRUE(c.Disable().ok());
  // Only the runtime may have traced something after the reset; never 5.
  EXPECT_NE(c.RawCount(), 5u);
}

TYPED_TEST_P(CollectorBehaviourTest, ComparisonModeEnables) {
  Collector c = this->MustOpen();
  ASSERT_TRUE(c.Enable(TraceMode::kCmp).ok());
  EXPECT_TRUE(c.Disable().ok());
}

TYPED_TEST_P(CollectorBehaviourTest, SecondDeviceOnTheSameThreadIsBusy) {
  Collector a = this->MustOpen();
  Collector b = this->MustOpen();
  ASSERT_TRUE(a.Enable(TraceMode::kPc).ok());
  Status s = b.Enable(TraceMode::kPc);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(s.error_number(), EBUSY);
  EXPECT_TRUE(a.Disable().ok());
}

TYPED_TEST_P(CollectorBehaviourTest, EnablingAnEnabledDeviceIsInvalid) {
  Collector c = this->MustOpen();
  ASSERT_TRUE(c.Enable(TraceMode::kPc).ok());
  Status s = c.Enable(TraceMode::kPc);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.error_number(), EINVAL);
  EXPECT_TRUE(c.Disable().ok());
}

TYPED_TEST_P(CollectorBehaviourTest, UnknownTraceModeIsInvalid) {
  Collector c = this->MustOpen();
  Status s = c.Enable(static_cast<TraceMode>(7));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.error_number(), EINVAL);
}

TYPED_TEST_P(CollectorBehaviourTest, DisableWithoutEnableIsInvalid) {
  Collector c = this->MustOpen();
  Status s = c.Disable();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.error_number(), EINVAL);
}

TYPED_TEST_P(CollectorBehaviourTest, DisableFromAnotherThreadIsInvalid) {
  Collector c = this->MustOpen();
  ASSERT_TRUE(c.Enable(TraceMode::kPc).ok());
  int err = 0;
  std::thread([&] { err = c.Disable().error_number(); }).join();
  EXPECT_EQ(err, EINVAL);
  EXPECT_TRUE(c.Disable().ok());
}

TYPED_TEST_P(CollectorBehaviourTest, RemoteHandleHeldElsewhereIsAlreadyExists) {
  Collector a = this->MustOpen();
  RemoteOptions o;
  o.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x5eed);
  ASSERT_TRUE(a.EnableRemote(o).ok());
  Status s;
  std::thread([&] {
    auto b = Collector::Open(this->b(), 1024);
    ASSERT_TRUE(b.ok());
    s = b->EnableRemote(o);
  }).join();
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(s.error_number(), EEXIST);
  EXPECT_TRUE(a.Disable().ok());
}

TYPED_TEST_P(CollectorBehaviourTest, TooManyRemoteHandlesIsInvalid) {
  Collector c = this->MustOpen();
  RemoteOptions o;
  for (uint64_t i = 0; i < 257; i++)
    o.handles.push_back(
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, i + 1));
  Status s = c.EnableRemote(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.error_number(), EINVAL);
}

TYPED_TEST_P(CollectorBehaviourTest, CountBeyondCapacityIsClampedAndReported) {
  Collector c = this->MustOpen();
  WritableArea(c)[0] = 1u << 30;
  EXPECT_EQ(c.Pcs().size(), c.Capacity(TraceMode::kPc));
  EXPECT_EQ(c.Cmps().size(), c.Capacity(TraceMode::kCmp));
  Status s = c.Validate(TraceMode::kPc);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  WritableArea(c)[0] = 0;
}

TYPED_TEST_P(CollectorBehaviourTest, ComparisonTypeAboveSevenIsReported) {
  Collector c = this->MustOpen();
  uint64_t* a = WritableArea(c);
  a[1] = 9;
  a[2] = 1;
  a[3] = 2;
  a[4] = 0x1234;
  a[0] = 1;
  Status s = c.Validate(TraceMode::kCmp);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("type 9"), std::string::npos) << s.message();
  a[1] = REMCOV_KCOV_CMP_SIZE(3) | REMCOV_KCOV_CMP_CONST;
  EXPECT_TRUE(c.Validate(TraceMode::kCmp).ok());
  ASSERT_EQ(c.Cmps().size(), 1u);
  EXPECT_EQ(c.Cmps()[0].size(), 8u);
  EXPECT_TRUE(c.Cmps()[0].is_const());
  a[0] = 0;
}

TYPED_TEST_P(CollectorBehaviourTest, DrainTakesEveryPublishedPcAndResets) {
  Collector c = this->MustOpen();
  uint64_t* a = WritableArea(c);
  a[1] = 0x10;
  a[2] = 0x20;
  a[3] = 0x30;
  a[0] = 3;
  std::vector<uint64_t> out;
  auto n = c.DrainPcs(&out);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(out, (std::vector<uint64_t>{0x10, 0x20, 0x30}));
  EXPECT_EQ(c.RawCount(), 0u);
}

// The kernel's rule for a local trace: its thread alone writes the count, so
// no other thread may reset it while it is enabled (kernel/kcov.c,
// __sanitizer_cov_trace_pc stores the count without an atomic RMW).
TYPED_TEST_P(CollectorBehaviourTest, LocalTraceIsNotResetFromAnotherThread) {
  Collector c = this->MustOpen();
  ASSERT_TRUE(c.Enable(TraceMode::kPc).ok());
  ASSERT_TRUE(c.Disable().ok());
  uint64_t* a = WritableArea(c);
  ASSERT_TRUE(c.Enable(TraceMode::kPc).ok());
  Status reset, drain_pcs, drain_cmps;
  uint64_t count_seen = 0;
  std::vector<uint64_t> pcs;
  std::vector<CmpRecord> cmps;
  std::thread([&] {
    // Plant a count only now: the enabling thread's own appends (runtime)
    // are not racing with this thread's view of word 0 after it.
    a[1] = 0x10;
    a[0] = 1;
    reset = c.Reset();
    drain_pcs = c.DrainPcs(&pcs).status();
    drain_cmps = c.DrainCmps(&cmps).status();
    count_seen = c.RawCount();
  }).join();
  for (const Status* s : {&reset, &drain_pcs, &drain_cmps}) {
    EXPECT_EQ(s->code(), StatusCode::kFailedPrecondition) << s->ToString();
    EXPECT_NE(s->message().find("enabled on thread"), std::string::npos)
        << s->message();
  }
  EXPECT_EQ(count_seen, 1u) << "a refused reset must change nothing";
  EXPECT_TRUE(pcs.empty());
  EXPECT_TRUE(cmps.empty());
  // The owning thread may; after Disable, any thread may.
  EXPECT_TRUE(c.Reset().ok());
  ASSERT_TRUE(c.Disable().ok());
  a[1] = 0x20;
  a[0] = 1;
  std::thread([&] {
    auto n = c.DrainPcs(&pcs);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1u);
  }).join();
  EXPECT_EQ(pcs, (std::vector<uint64_t>{0x20}));
}

TYPED_TEST_P(CollectorBehaviourTest, RemoteTraceDrainsFromAnotherThread) {
  Collector c = this->MustOpen();
  RemoteOptions o;
  o.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x5eee);
  ASSERT_TRUE(c.EnableRemote(o).ok());
  uint64_t* a = WritableArea(c);
  a[1] = 0x30;
  a[0] = 1;
  std::vector<uint64_t> pcs;
  std::thread([&] {
    auto n = c.DrainPcs(&pcs);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1u);
    EXPECT_TRUE(c.Reset().ok());
  }).join();
  EXPECT_EQ(pcs, (std::vector<uint64_t>{0x30}));
  EXPECT_TRUE(c.Disable().ok());
}

// A thread that exits with its trace enabled has it disabled at exit
// (kernel/kcov.c, kcov_task_exit): the count is then anyone's to reset.
TYPED_TEST_P(CollectorBehaviourTest, LocalTraceOfAnExitedThreadMayBeReset) {
  Collector c = this->MustOpen();
  Status enabled;
  std::thread([&] { enabled = c.Enable(TraceMode::kPc); }).join();
  ASSERT_TRUE(enabled.ok()) << enabled.ToString();
  EXPECT_TRUE(c.Reset().ok());
}

REGISTER_TYPED_TEST_SUITE_P(
    CollectorBehaviourTest, OpenRoundsSizeUpToWholePages,
    EnableThenDisableOnTheSameThread, EnableResetsTheCount,
    ComparisonModeEnables, SecondDeviceOnTheSameThreadIsBusy,
    EnablingAnEnabledDeviceIsInvalid, UnknownTraceModeIsInvalid,
    DisableWithoutEnableIsInvalid, DisableFromAnotherThreadIsInvalid,
    RemoteHandleHeldElsewhereIsAlreadyExists, TooManyRemoteHandlesIsInvalid,
    CountBeyondCapacityIsClampedAndReported, ComparisonTypeAboveSevenIsReported,
    DrainTakesEveryPublishedPcAndResets, LocalTraceIsNotResetFromAnotherThread,
    RemoteTraceDrainsFromAnotherThread, LocalTraceOfAnExitedThreadMayBeReset);

}  // namespace remcov::testing

#endif  // REMCOV_TESTS_CLIENT_COLLECTOR_BEHAVIOUR_H_
