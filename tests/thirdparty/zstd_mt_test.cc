// SPDX-License-Identifier: Apache-2.0
// The zstd multi-threaded target's harness (fuzz_targets/zstd) without a
// fuzzer: every input runs its compression jobs on zstd's worker threads,
// as many workers as the input asks for every time, the frame round-trips,
// the planted bug is reachable only on a worker, and a remote collector on
// the input's thread gets the workers' coverage besides its own and not the
// background thread's.
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/remcov.h"

#include "thirdparty_harness.h"
#include "zstd.h"
#include "zstd_job_checksum.h"
#include "zstd_job_hook.h"
#include "zstd_mt_harness.h"

namespace {

using namespace std::string_view_literals;
using remcov_thirdparty_fuzz::WorkerThreadsStarted;
using remcov_zstd_fuzz::kJobBytes;
using remcov_zstd_fuzz::PlanOf;
using remcov_zstd_fuzz::RunInput;

const uint8_t* Bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

void RunText(std::string_view input) { RunInput(Bytes(input), input.size()); }

// Names of the functions whose PCs `pcs` holds (dladdr: the test is linked
// with ENABLE_EXPORTS; zstd's static functions have no dynamic symbol).
std::set<std::string> FunctionsOf(std::span<const uint64_t> pcs) {
  std::set<std::string> names;
  for (uint64_t pc : pcs) {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 &&
        info.dli_sname != nullptr)
      names.insert(info.dli_sname);
  }
  return names;
}

// The largest input the harness reads, with parameter byte `b`.
std::string Largest(char b) {
  std::string s(1, b);
  for (size_t i = 0; i < remcov_zstd_fuzz::kMaxJobs; i++)
    s += std::string(remcov_zstd_fuzz::kMaxLineBytes, char('a' + i)) + "\n";
  return s;
}

class ZstdMtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static const bool initialized = [] {
      remcov_zstd_fuzz::Init();
      return true;
    }();
    (void)initialized;
  }
};

TEST(ZstdMtPlan, FirstByteChoosesWorkersAndLevelLinesChooseJobs) {
  EXPECT_EQ(PlanOf(nullptr, 0).workers, remcov_zstd_fuzz::kMinWorkers);
  EXPECT_EQ(PlanOf(nullptr, 0).level, 1);
  EXPECT_EQ(PlanOf(nullptr, 0).jobs, remcov_zstd_fuzz::kMinJobs);
  std::set<int> workers, levels;
  for (int b = 0; b < 256; b++) {
    const uint8_t in[1] = {static_cast<uint8_t>(b)};
    workers.insert(PlanOf(in, 1).workers);
    levels.insert(PlanOf(in, 1).level);
  }
  EXPECT_EQ(workers, (std::set<int>{2, 3, 4}));
  EXPECT_EQ(levels, (std::set<int>{1, 2, 3, 4}));
  EXPECT_EQ(PlanOf(Bytes("\x01"
                         "a\nb\nc"sv),
                   6)
                .jobs,
            3u);
  const std::string largest = Largest(0) + "more\nlines\n";
  EXPECT_EQ(PlanOf(Bytes(largest), largest.size()).jobs,
            remcov_zstd_fuzz::kMaxJobs);
}

TEST(ZstdMtPlan, JobSourcesExpandEachLineDeterministically) {
  const std::string_view in =
      "\x00"
      "abc\n\nZSTD7"sv;
  const auto plan = PlanOf(Bytes(in), in.size());
  const std::vector<uint8_t> src =
      remcov_zstd_fuzz::JobSources(Bytes(in), in.size(), plan);
  ASSERT_EQ(plan.jobs, 3u);
  ASSERT_EQ(src.size(), 3 * kJobBytes);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(src.data()), 7),
            "abcabca");
  EXPECT_EQ(src[kJobBytes - 1], "abc"[(kJobBytes - 1) % 3]);
  // The empty line: (31 * i + job) mod 256.
  EXPECT_EQ(src[kJobBytes + 2], uint8_t(31 * 2 + 1));
  EXPECT_EQ(std::string_view(
                reinterpret_cast<const char*>(src.data() + 2 * kJobBytes), 6),
            "ZSTD7Z");
}

TEST_F(ZstdMtTest, EveryJobRunsOnAWorker) {
  for (std::string_view input : {std::string_view(),
                                 "\x01"
                                 "a\nb\nc\nd"sv,
                                 "\x0b"
                                 "x"sv}) {
    const auto plan = PlanOf(Bytes(input), input.size());
    const uint64_t threads = WorkerThreadsStarted();
    const unsigned long jobs = zstd_mt_fuzz_jobs();
    const unsigned long on_workers = zstd_mt_fuzz_worker_jobs();
    RunText(input);
    EXPECT_EQ(WorkerThreadsStarted() - threads, uint64_t(plan.workers))
        << "input of " << input.size() << " bytes";
    EXPECT_EQ(zstd_mt_fuzz_jobs() - jobs, plan.jobs);
    EXPECT_EQ(zstd_mt_fuzz_worker_jobs() - on_workers, plan.jobs);
  }
}

// The same input starts the same number of workers and runs the same jobs
// every time, up to the largest input the harness reads, for each worker
// count.
TEST_F(ZstdMtTest, WorkersDoNotDependOnTiming) {
  for (char b : {char{0}, char{1}, char{2}}) {
    const std::string input = Largest(b);
    std::set<uint64_t> threads;
    std::set<unsigned long> jobs;
    for (int run = 0; run < 10; run++) {
      const uint64_t t = WorkerThreadsStarted();
      const unsigned long j = zstd_mt_fuzz_worker_jobs();
      RunText(input);
      threads.insert(WorkerThreadsStarted() - t);
      jobs.insert(zstd_mt_fuzz_worker_jobs() - j);
    }
    const auto plan = PlanOf(Bytes(input), input.size());
    EXPECT_EQ(threads, std::set<uint64_t>{uint64_t(plan.workers)})
        << "workers " << plan.workers;
    EXPECT_EQ(jobs, std::set<unsigned long>{plan.jobs});
  }
}

TEST_F(ZstdMtTest, FrameRoundTripsAndCarriesTheChecksum) {
  const std::string_view in =
      "\x05"
      "hello\nzstd\n\nworld"sv;
  const auto plan = PlanOf(Bytes(in), in.size());
  const std::vector<uint8_t> src =
      remcov_zstd_fuzz::JobSources(Bytes(in), in.size(), plan);
  std::vector<uint8_t> frame = remcov_zstd_fuzz::CompressFrame(src, plan);
  // Streamed: the frame does not know its size; it does have a checksum.
  EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()),
            ZSTD_CONTENTSIZE_UNKNOWN);
  std::vector<uint8_t> back(src.size() + 1);
  size_t n =
      ZSTD_decompress(back.data(), back.size(), frame.data(), frame.size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  ASSERT_EQ(n, src.size());
  EXPECT_EQ(memcmp(back.data(), src.data(), n), 0);
  // The hook forwarded the jobs to xxHash: a wrong checksum is refused.
  frame.back() ^= 1;
  n = ZSTD_decompress(back.data(), back.size(), frame.data(), frame.size());
  EXPECT_TRUE(ZSTD_isError(n));
}

TEST_F(ZstdMtTest, PlantedBugOnlyOnWorkerThreads) {
  const unsigned long before = zstd_mt_fuzz_bug_hits();
  RunText(
      "\x00"
      "zebra\nZSTD7\napple"sv);
  EXPECT_GT(zstd_mt_fuzz_bug_hits(), before);
  // Near misses do not hit it, nor a bug key that does not start a job.
  const unsigned long after_bug = zstd_mt_fuzz_bug_hits();
  RunText(
      "\x00"
      "ZSTDx\nZSTD\nZST7\nzstd7\nxZSTD7"sv);
  EXPECT_EQ(zstd_mt_fuzz_bug_hits(), after_bug);
  // The hook itself, called on the compressing thread, does not; from any
  // other thread it does. The hash is xxHash's either way.
  zstd_mt_fuzz_set_compress_thread();
  XXH64_state_t* state = XXH64_createState();
  ASSERT_NE(state, nullptr);
  XXH64_reset(state, 0);
  EXPECT_EQ(zstd_mt_fuzz_job_checksum(state, "ZSTD7", 5), XXH_OK);
  EXPECT_EQ(XXH64_digest(state), XXH64("ZSTD7", 5, 0));
  EXPECT_EQ(zstd_mt_fuzz_bug_hits(), after_bug);
  std::thread([state] { zstd_mt_fuzz_job_checksum(state, "ZSTD7", 5); }).join();
  EXPECT_EQ(zstd_mt_fuzz_bug_hits(), after_bug + 1);
  XXH64_freeState(state);
}

TEST_F(ZstdMtTest, RemoteCollectorGetsTheWorkersCoverage) {
  auto c = remcov::Collector::Open(remcov::RuntimeBackend(), 1u << 20);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  remcov::RemoteOptions ro;
  ro.mode = remcov::TraceMode::kPc;
  ro.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x2574);
  ASSERT_TRUE(c->EnableRemote(ro).ok());
  ASSERT_TRUE(c->Reset().ok());
  RunText(
      "\x02"
      "apple\nbanana\ncherry"sv);
  // No overflow: the whole input's trace fits.
  EXPECT_LT(c->Pcs().size(), c->words() - 1);
  const std::set<std::string> names = FunctionsOf(c->Pcs());
  // The input thread's part (ZSTD_compressStream2), the workers' (the
  // hook: it runs on workers only), and not the background thread's
  // (ZSTD_compress: the input's work never calls it).
  EXPECT_TRUE(names.count("ZSTD_compressStream2")) << names.size();
  EXPECT_TRUE(names.count("zstd_mt_fuzz_job_checksum")) << names.size();
  EXPECT_FALSE(names.count("ZSTD_compress")) << names.size();
  ASSERT_TRUE(c->Disable().ok());
}

// The schedule (zstd_mt_schedule.h): every run of an input runs the same
// blocks the same number of times, the workers' and the input thread's
// alike. Without it 13 of 552 PCs varied over 30 runs of this input.
TEST_F(ZstdMtTest, SameInputSameBlockCounts) {
  auto c = remcov::Collector::Open(remcov::RuntimeBackend(), 1u << 20);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  remcov::RemoteOptions ro;
  ro.mode = remcov::TraceMode::kPc;
  ro.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x2575);
  ASSERT_TRUE(c->EnableRemote(ro).ok());
  const std::vector<std::string> inputs = {
      std::string("\x02"
                  "apple\nbanana\ncherry\nZSTX\nfoo"sv),
      Largest(0), Largest(1)};
  for (const std::string& input : inputs) {
    std::map<uint64_t, uint64_t> first;
    for (int run = 0; run < 20; run++) {
      ASSERT_TRUE(c->Reset().ok());
      RunText(input);
      ASSERT_LT(c->Pcs().size(), c->words() - 1);
      std::map<uint64_t, uint64_t> counts;
      for (uint64_t pc : c->Pcs()) counts[pc]++;
      if (run == 0) {
        first = counts;
        continue;
      }
      size_t differ = 0;
      for (const auto& [pc, n] : counts)
        differ += first.count(pc) == 0 || first[pc] != n;
      for (const auto& [pc, n] : first) differ += counts.count(pc) == 0;
      EXPECT_EQ(differ, 0u) << "run " << run << ", input of " << input.size()
                            << " bytes, " << first.size() << " PCs";
    }
  }
  ASSERT_TRUE(c->Disable().ok());
}

}  // namespace
