// SPDX-License-Identifier: Apache-2.0
// The SQLite sort target's harness (fuzz_targets/sqlite) without a fuzzer:
// every input runs SQLite's sorter on worker threads, the planted bug is
// reachable only there, and a remote collector on the input's thread gets
// the workers' coverage (the collation's PCs) besides its own.
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "remcov/collector.h"
#include "remcov/remcov.h"

#include "sort_collation.h"
#include "sort_harness.h"
#include "thirdparty_harness.h"

namespace {

using remcov_sqlite_fuzz::RunInput;
using remcov_thirdparty_fuzz::WorkerThreadsStarted;

void RunText(std::string_view input) {
  RunInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// Names of the functions whose PCs `pcs` holds (dladdr: the test is linked
// with ENABLE_EXPORTS; SQLite's static functions have no dynamic symbol).
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

class SqliteSortTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static const bool initialized = [] {
      remcov_sqlite_fuzz::Init();
      return true;
    }();
    (void)initialized;
  }
};

TEST_F(SqliteSortTest, EveryInputRunsSorterWorkers) {
  for (std::string_view input : {"", "a", "apple\nbanana\ncherry"}) {
    const uint64_t before = WorkerThreadsStarted();
    RunText(input);
    EXPECT_GE(WorkerThreadsStarted() - before, 3u) << "input: " << input;
  }
}

// The same input starts the same workers every time, up to the largest input
// the harness reads (kMaxKeys keys of kMaxKeyBytes bytes): each batch the
// sorter writes gets an idle worker of its own (sort_harness.cc), so which
// thread sorts a batch does not depend on timing.
TEST_F(SqliteSortTest, WorkersDoNotDependOnTiming) {
  std::string largest;
  for (size_t i = 0; i < remcov_sqlite_fuzz::kMaxKeys; i++)
    largest +=
        std::string(remcov_sqlite_fuzz::kMaxKeyBytes, char('a' + i)) + "\n";
  for (const std::string& input : {std::string(), largest}) {
    std::set<uint64_t> counts;
    for (int run = 0; run < 10; run++) {
      const uint64_t before = WorkerThreadsStarted();
      RunText(input);
      counts.insert(WorkerThreadsStarted() - before);
    }
    EXPECT_EQ(counts.size(), 1u) << "input of " << input.size() << " bytes";
  }
}

TEST_F(SqliteSortTest, PlantedBugOnlyOnWorkerThreads) {
  const unsigned long before = sort_fuzz_bug_hits();
  RunText("zebra\nSORT7\napple");
  EXPECT_GT(sort_fuzz_bug_hits(), before);
  // Near misses do not hit it.
  const unsigned long after_bug = sort_fuzz_bug_hits();
  RunText("zebra\nSORTx\nSORT\nSOR7\nsort7");
  EXPECT_EQ(sort_fuzz_bug_hits(), after_bug);
  // The collation itself, called on the statement's thread, does not.
  sort_fuzz_set_statement_thread();
  EXPECT_LT(sort_fuzz_collate(nullptr, 5, "SORT7", 5, "SORT8"), 0);
  EXPECT_EQ(sort_fuzz_bug_hits(), after_bug);
}

TEST_F(SqliteSortTest, RemoteCollectorGetsTheWorkersCoverage) {
  auto c = remcov::Collector::Open(remcov::RuntimeBackend(), 1u << 18);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  remcov::RemoteOptions ro;
  ro.mode = remcov::TraceMode::kPc;
  ro.common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x5157);
  ASSERT_TRUE(c->EnableRemote(ro).ok());
  ASSERT_TRUE(c->Reset().ok());
  RunText("apple\nbanana\ncherry");
  // No overflow: the whole input's trace (about 60,000 PCs) fits.
  EXPECT_LT(c->Pcs().size(), c->words() - 1);
  const std::set<std::string> names = FunctionsOf(c->Pcs());
  // The statement thread's part (sqlite3_step) and the workers' (the
  // collation: every comparison runs on a worker except the final merge's).
  EXPECT_TRUE(names.count("sqlite3_step")) << names.size() << " functions";
  EXPECT_TRUE(names.count("sort_fuzz_collate")) << names.size() << " functions";
  ASSERT_TRUE(c->Disable().ok());
}

}  // namespace
