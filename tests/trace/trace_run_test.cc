// SPDX-License-Identifier: Apache-2.0
// The trace flow as a library (src/trace/trace_run.h), without the CLI: an
// in-process trace of a real instrumented program (trace_fixture.c) gives
// exactly the PCs of the functions it ran; a command that cannot be executed
// gives the spawn error as data; the kernel and remote flows over FakeSys
// collect what the "kernel" published; the remote settle loop waits for a
// quiet period, no longer.
#include "trace/trace_run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/kcov_abi.h"

#include "fake_sys.h"

namespace remcov::trace {
namespace {

// A temporary file name, removed at the end of the test.
class TempPath {
 public:
  TempPath() {
    char tmpl[] = "/tmp/remcov-trace-run-XXXXXX";
    const int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
    path_ = tmpl;
  }
  ~TempPath() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The fixture's function addresses, as it wrote them: called, also_called,
// never_called, end (in memory order).
std::vector<uint64_t> ReadAddresses(const std::string& path) {
  std::ifstream in(path);
  std::vector<uint64_t> a;
  std::string word;
  while (in >> word) a.push_back(strtoull(word.c_str(), nullptr, 16));
  return a;
}

size_t CountIn(const std::vector<uint64_t>& pcs, uint64_t lo, uint64_t hi) {
  size_t n = 0;
  for (uint64_t pc : pcs) n += pc >= lo && pc < hi;
  return n;
}

TraceOptions InProcess(std::vector<std::string> command) {
  TraceOptions o;
  o.source = TraceSource::kInProcess;
  o.words = 4096;
  o.max_processes = 4;
  o.command = std::move(command);
  return o;
}

TEST(TraceRunTest, InProcessTraceGivesTheFunctionsTheProgramRan) {
  for (const char* mode : {"one", "both"}) {
    SCOPED_TRACE(mode);
    TempPath addresses;
    StatusOr<TraceRun> run = TraceRun::Prepare(
        InProcess({REMCOV_TRACE_FIXTURE, mode, addresses.path()}));
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    StatusOr<TraceResult> r = run->Run();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exec_error, 0);
    EXPECT_EQ(r->exit_code, static_cast<int>(strlen(mode)));
    ASSERT_TRUE(r->read_status.ok()) << r->read_status.ToString();
    const std::vector<uint64_t> a = ReadAddresses(addresses.path());
    ASSERT_EQ(a.size(), 4u);
    ASSERT_TRUE(a[0] < a[1] && a[1] < a[2] && a[2] < a[3])
        << "the fixture's functions are not in source order";
    const CoverageData& d = r->data;
    EXPECT_EQ(d.mode, TraceMode::kPc);
    EXPECT_NE(d.flags & kCoverageInProcess, 0u);
    ASSERT_EQ(d.processes.size(), 1u);
    EXPECT_EQ(d.processes[0].entries, d.pcs.size());
    EXPECT_FALSE(d.modules.empty());  // the program's load map
    EXPECT_GT(CountIn(d.pcs, a[0], a[1]), 0u);
    EXPECT_EQ(CountIn(d.pcs, a[1], a[2]) > 0, strcmp(mode, "both") == 0);
    EXPECT_EQ(CountIn(d.pcs, a[2], a[3]), 0u);
    ASSERT_EQ(r->notes.processes.size(), 1u);
    EXPECT_FALSE(r->notes.processes[0].incomplete);
    EXPECT_EQ(r->notes.refused, 0u);
  }
}

TEST(TraceRunTest, InProcessThreadsAreCollectedIntoTheirProcessWithThreads) {
  for (bool threads : {false, true}) {
    SCOPED_TRACE(threads);
    TempPath addresses;
    TraceOptions o =
        InProcess({REMCOV_TRACE_FIXTURE, "thread", addresses.path()});
    o.threads = threads;
    StatusOr<TraceRun> run = TraceRun::Prepare(o);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    StatusOr<TraceResult> r = run->Run();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_code, 6);
    ASSERT_TRUE(r->read_status.ok()) << r->read_status.ToString();
    const std::vector<uint64_t> a = ReadAddresses(addresses.path());
    ASSERT_EQ(a.size(), 4u);
    const CoverageData& d = r->data;
    ASSERT_EQ(d.processes.size(), 1u);  // the thread is its process's
    EXPECT_EQ(d.processes[0].entries, d.pcs.size());
    EXPECT_GT(CountIn(d.pcs, a[0], a[1]), 0u);           // main
    EXPECT_EQ(CountIn(d.pcs, a[1], a[2]) > 0, threads);  // the thread
    EXPECT_EQ(CountIn(d.pcs, a[2], a[3]), 0u);
    EXPECT_EQ(r->notes.threads, threads ? 1u : 0u);
    EXPECT_FALSE(r->notes.processes[0].incomplete);
  }
}

TEST(TraceRunTest, InProcessComparisonsOfAPcOnlyProgramAreNone) {
  TempPath addresses;
  TraceOptions o = InProcess({REMCOV_TRACE_FIXTURE, "both", addresses.path()});
  o.mode = TraceMode::kCmp;
  StatusOr<TraceRun> run = TraceRun::Prepare(o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->read_status.ok()) << r->read_status.ToString();
  EXPECT_EQ(r->data.mode, TraceMode::kCmp);
  EXPECT_TRUE(r->data.cmps.empty());
  EXPECT_TRUE(r->data.pcs.empty());
}

TEST(TraceRunTest, AnUninstrumentedCommandAttachesNothing) {
  StatusOr<TraceRun> run = TraceRun::Prepare(InProcess({"sh", "-c", "exit 7"}));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->read_status.code(), StatusCode::kUnavailable)
      << r->read_status.ToString();
  EXPECT_TRUE(r->data.pcs.empty());
}

TEST(TraceRunTest, ACommandThatCannotBeExecutedGivesTheSpawnError) {
  StatusOr<TraceRun> run =
      TraceRun::Prepare(InProcess({"/nonexistent/remcov-trace-run-test"}));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exec_error, ENOENT);

  // A file that exists but is not executable: EACCES.
  TempPath not_executable;
  ASSERT_EQ(chmod(not_executable.path().c_str(), 0644), 0);
  run = TraceRun::Prepare(InProcess({not_executable.path()}));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exec_error, EACCES);
}

TEST(TraceRunTest, ARunRunsOnce) {
  StatusOr<TraceRun> run = TraceRun::Prepare(InProcess({"true"}));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  StatusOr<TraceResult> again = run->Run();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

TEST(TraceRunTest, OptionsOutOfRangeAreRefusedBeforeAnythingRuns) {
  TraceOptions o = InProcess({"true"});
  o.words = 1;
  EXPECT_EQ(TraceRun::Prepare(o).status().code(), StatusCode::kInvalidArgument);
  o = InProcess({"true"});
  o.words = MaxWords() + 1;
  EXPECT_EQ(TraceRun::Prepare(o).status().code(), StatusCode::kInvalidArgument);
  o = InProcess({"true"});
  o.max_processes = 0;
  EXPECT_EQ(TraceRun::Prepare(o).status().code(), StatusCode::kInvalidArgument);
  o = InProcess({});
  EXPECT_EQ(TraceRun::Prepare(o).status().code(), StatusCode::kInvalidArgument);
}

// The fd FakeSys will give the next device: its fds are memfds, so the
// lowest free descriptor.
int NextFd() {
  const int fd = dup(0);
  EXPECT_GE(fd, 0);
  close(fd);
  return fd;
}

// A shell command that plays the kernel: after the child enabled the device
// (which resets the count), it writes `words` at the start of the fake
// device's area (the test process's memfd `fd`), as little-endian bytes.
std::vector<std::string> PublishCommand(int fd,
                                        const std::vector<uint64_t>& words,
                                        int exit_code = 0) {
  std::string bytes;
  for (uint64_t w : words) {
    for (int i = 0; i < 8; i++) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%03o",
               static_cast<unsigned>((w >> (8 * i)) & 0xff));
      bytes += esc;
    }
  }
  // 1<> opens without truncating: the area keeps its size.
  return {"sh", "-c",
          "printf '" + bytes + "' 1<>/proc/$PPID/fd/" + std::to_string(fd) +
              " && exit " + std::to_string(exit_code)};
}

TraceOptions Kernel(testing::FakeSys* sys, std::vector<std::string> command) {
  TraceOptions o;
  o.source = TraceSource::kKernel;
  o.sys = sys;
  o.words = 2;  // a page: 512 words
  o.command = std::move(command);
  return o;
}

TEST(TraceRunTest, KernelTraceCollectsWhatTheKernelPublished) {
  testing::FakeSys sys;
  const int fd = NextFd();
  StatusOr<TraceRun> run = TraceRun::Prepare(Kernel(
      &sys,
      PublishCommand(fd, {2, 0xffffffff81000010, 0xffffffff81000020}, 3)));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_NE(sys.Area(fd), nullptr);
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->data.pcs,
            (std::vector<uint64_t>{0xffffffff81000010, 0xffffffff81000020}));
  EXPECT_EQ(r->data.flags & (kCoverageOverflow | kCoverageRemote), 0u);
  EXPECT_EQ(r->data.dropped, 0u);
  EXPECT_EQ(r->data.word_bytes, 8u);
}

TEST(TraceRunTest, KernelOverflowIsFlaggedAndCounted) {
  testing::FakeSys sys;
  const int fd = NextFd();
  const uint64_t cap = PageWords(2) - 1;  // word 0 is the count
  StatusOr<TraceRun> run =
      TraceRun::Prepare(Kernel(&sys, PublishCommand(fd, {cap + 5})));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_NE(sys.Area(fd), nullptr);
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data.pcs.size(), cap);
  EXPECT_NE(r->data.flags & kCoverageOverflow, 0u);
  EXPECT_EQ(r->data.dropped, 5u);
  EXPECT_EQ(r->data.raw_count, cap + 5);
}

TEST(TraceRunTest, KernelWithoutADeviceFailsInPrepare) {
  testing::FakeSys sys;
  sys.Inject(testing::FakeSys::Call::kOpen, ENOENT);
  StatusOr<TraceRun> run = TraceRun::Prepare(Kernel(&sys, {"true"}));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().error_number(), ENOENT);
}

TEST(TraceRunTest, KernelEnableFailureInTheChildIsExplained) {
  testing::FakeSys sys;
  sys.Inject(testing::FakeSys::Call::kEnable, EBUSY);  // copied into the child
  StatusOr<TraceRun> run = TraceRun::Prepare(Kernel(&sys, {"true"}));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  StatusOr<TraceResult> r = run->Run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_number(), EBUSY);
  EXPECT_NE(r.status().message().find("KCOV_ENABLE"), std::string::npos)
      << r.status().ToString();
}

TEST(TraceRunTest, KernelCommandThatCannotBeExecutedGivesTheSpawnError) {
  testing::FakeSys sys;
  StatusOr<TraceRun> run =
      TraceRun::Prepare(Kernel(&sys, {"/nonexistent/remcov-trace-run-test"}));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exec_error, ENOENT);
}

TEST(TraceRunTest, RemoteTraceSettlesAndCollects) {
  testing::FakeSys sys;
  const int fd = NextFd();
  TraceOptions o = Kernel(&sys, PublishCommand(fd, {1, 0xffffffff81000040}));
  o.source = TraceSource::kRemote;
  o.common_id = 42;
  o.settle_ms = 30;
  StatusOr<TraceRun> run = TraceRun::Prepare(o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_NE(sys.Area(fd), nullptr);
  StatusOr<TraceResult> r = run->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data.pcs, (std::vector<uint64_t>{0xffffffff81000040}));
  EXPECT_NE(r->data.flags & kCoverageRemote, 0u);
  EXPECT_TRUE(r->disable_warning.ok()) << r->disable_warning.ToString();
}

TEST(TraceRunTest, SettleLoopWaitsForAQuietPeriodAfterTheLastChange) {
  // A fake clock: the count changes at 0, 25 and 40 ms, then stays.
  uint64_t now = 0;
  auto count = [&now]() -> uint64_t { return now < 25 ? 1 : now < 40 ? 2 : 3; };
  auto sleep = [&now](uint64_t ms) { now += ms; };
  const uint64_t slept = WaitUntilQuiet(count, 100, sleep, 10);
  // The last change is seen at 40 ms; then 100 quiet ms.
  EXPECT_EQ(slept, 140u);
  EXPECT_EQ(now, 140u);
}

TEST(TraceRunTest, SettleLoopWithAQuietCountSleepsTheTimeoutInSteps) {
  uint64_t now = 0;
  std::vector<uint64_t> steps;
  auto sleep = [&](uint64_t ms) {
    steps.push_back(ms);
    now += ms;
  };
  EXPECT_EQ(WaitUntilQuiet([] { return uint64_t{7}; }, 25, sleep, 10), 25u);
  EXPECT_EQ(steps, (std::vector<uint64_t>{10, 10, 5}));
  steps.clear();
  EXPECT_EQ(WaitUntilQuiet([] { return uint64_t{7}; }, 0, sleep, 10), 0u);
  EXPECT_TRUE(steps.empty());
}

TEST(TraceRunTest, KeepFirstOccurrencesWorksPerProcess) {
  CoverageData d;
  d.pcs = {1, 2, 1, 3, 2, 1, 1};
  KeepFirstOccurrences(&d);
  EXPECT_EQ(d.pcs, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_NE(d.flags & kCoverageUnique, 0u);

  CoverageData p;
  p.pcs = {5, 5, 6, 5, 6, 6};
  p.processes.resize(2);
  p.processes[0].entries = 3;  // 5 5 6
  p.processes[1].entries = 3;  // 5 6 6
  KeepFirstOccurrences(&p);
  EXPECT_EQ(p.pcs, (std::vector<uint64_t>{5, 6, 5, 6}));
  EXPECT_EQ(p.processes[0].entries, 2u);
  EXPECT_EQ(p.processes[1].entries, 2u);
}

TEST(TraceRunTest, CheckWritableLeavesNoFileBehind) {
  TempPath dir_file;
  const std::string fresh = dir_file.path() + ".new";
  EXPECT_TRUE(CheckWritable(fresh).ok());
  EXPECT_NE(access(fresh.c_str(), F_OK), 0);         // created, then removed
  EXPECT_TRUE(CheckWritable(dir_file.path()).ok());  // exists: kept
  EXPECT_EQ(access(dir_file.path().c_str(), F_OK), 0);
  Status s = CheckWritable("/nonexistent-dir/remcov/x.cov");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_number(), ENOENT);
}

}  // namespace
}  // namespace remcov::trace
