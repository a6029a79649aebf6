// SPDX-License-Identifier: Apache-2.0
// The SQLite sort target's driver (sort_harness.h): the input's statement,
// the worker-thread glue and the background connection.
#include "sort_harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atomic>

#include "remcov/remcov.h"
#include "remcov/thread_pool.h"

#include "sort_collation.h"
#include "sqlite3.h"

namespace remcov_sqlite_fuzz {
namespace {

std::atomic<uint64_t> g_workers_started{0};
// The common handle of the input being run (0: none), for the workers its
// statement creates. Written by the statement thread before the statement
// runs; read by sort_fuzz_pthread_create on the statement thread or on a
// worker (SQLite's incremental merge starts threads from workers), all
// created after the write. Relaxed: pthread_create orders it.
std::atomic<uint64_t> g_input_handle{0};
remcov::ThreadPool* g_statement_thread = nullptr;

[[noreturn]] void Fail(sqlite3* db, const char* what) {
  fprintf(stderr, "remcov-sqlite-fuzz: %s: %s\n", what,
          db != nullptr ? sqlite3_errmsg(db) : "out of memory");
  abort();
}

void Exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    Fail(db, sql);
}

// A page of 512 bytes, a cache of one page and SQLITE_CONFIG_PMASZ of
// kPmaPages make the sorter's batch 4 pages, 2 KiB (vdbesort.c,
// sqlite3VdbeSorterInit: the larger of PMASZ pages and the cache), so even
// the 100 background keys alone fill several batches, each sorted and
// written as a PMA on a worker, then merged by more workers: 8 worker
// threads for an empty input, 13 for the largest one (clang 14 build).
// vdbeSorterFlushPMA hands a batch to the next worker whose previous job has
// ended, or sorts it on the statement thread if none has, so with more
// batches than workers which code runs depends on timing. With
// PRAGMA threads=4 the largest inputs started 18 or 20 threads from one run
// to the next; with 8, every run of an input starts the same number
// (tests/thirdparty: WorkersDoNotDependOnTiming).
constexpr int kPmaPages = 4;

// Once per process, before SQLite initializes itself.
void Configure() {
  static const bool configured = [] {
    if (sqlite3_config(SQLITE_CONFIG_PMASZ, kPmaPages) != SQLITE_OK) {
      fprintf(stderr, "remcov-sqlite-fuzz: sqlite3_config(PMASZ) failed\n");
      abort();
    }
    return true;
  }();
  (void)configured;
}

sqlite3* Open() {
  Configure();
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) Fail(db, "sqlite3_open");
  return db;
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    Fail(db, sql);
  return stmt;
}

constexpr char kSetup[] =
    "PRAGMA page_size=512; PRAGMA cache_size=1; PRAGMA threads=8;"
    "CREATE TABLE t(k TEXT);";
static_assert(kSorterThreads == 8, "kSetup's PRAGMA threads");
constexpr char kInsert[] = "INSERT INTO t VALUES(?1)";
constexpr char kSort[] =
    "WITH RECURSIVE bg(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM bg "
    "WHERE x < 99) "
    "SELECT k FROM (SELECT printf('%05d', x * 7919 % 10007) AS k FROM bg "
    "UNION ALL SELECT k FROM t) ORDER BY k COLLATE fuzz";
static_assert(kBackgroundRows == 100, "kSort's bg(x) bound");

void BackgroundLoop() {
  sqlite3* db = Open();
  Exec(db,
       "CREATE TABLE b(x INTEGER, y TEXT);"
       "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c "
       "WHERE i < 199) INSERT INTO b SELECT i, printf('row%03d', i * 37 % 200) "
       "FROM c;");
  // Which query runs depends on the tick, so a global map sees different
  // SQLite code from one input to the next.
  static constexpr const char* kQueries[] = {
      "SELECT count(*) FROM b WHERE x % 7 = 3",
      "SELECT y FROM b ORDER BY y DESC LIMIT 5",
      "UPDATE b SET x = x + 1 WHERE x % 13 = 0",
      "SELECT sum(x), max(y) FROM b GROUP BY x % 5",
  };
  const timespec pause = {0, 1000 * 1000};
  for (uint64_t tick = 0;; tick++) {
    Exec(db, kQueries[tick % (sizeof(kQueries) / sizeof(kQueries[0]))]);
    nanosleep(&pause, nullptr);
  }
}

struct WorkerStart {
  void* (*fn)(void*);
  void* arg;
  uint64_t handle;
};

void* RunWorker(void* p) {
  const WorkerStart start = *static_cast<WorkerStart*>(p);
  delete static_cast<WorkerStart*>(p);
  if (start.handle == 0) return start.fn(start.arg);
  // The section ends before the thread does, so before sqlite3ThreadJoin
  // returns on the statement's thread.
  remcov_remote_start(start.handle);
  void* r = start.fn(start.arg);
  remcov_remote_stop();
  return r;
}

void StartBackground() {
  pthread_t t;
  const int r = pthread_create(
      &t, nullptr,
      [](void*) -> void* {
        BackgroundLoop();
        return nullptr;
      },
      nullptr);
  if (r != 0) {
    fprintf(stderr, "remcov-sqlite-fuzz: pthread_create: error %d\n", r);
    abort();
  }
  pthread_detach(t);
}

// The input's part, on the statement thread: insert the keys, sort.
void InsertAndSort(sqlite3* db, sqlite3_stmt* insert, sqlite3_stmt* sort,
                   const uint8_t* data, size_t size) {
  sort_fuzz_set_statement_thread();
  size_t keys = 0;
  for (size_t at = 0; at <= size && keys < kMaxKeys; keys++) {
    size_t end = at;
    while (end < size && data[end] != '\n') end++;
    size_t n = end - at;
    if (n > kMaxKeyBytes) n = kMaxKeyBytes;
    if (sqlite3_bind_text(insert, 1, reinterpret_cast<const char*>(data + at),
                          static_cast<int>(n), SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(insert) != SQLITE_DONE ||
        sqlite3_reset(insert) != SQLITE_OK)
      Fail(db, kInsert);
    at = end + 1;
  }
  size_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(sort)) == SQLITE_ROW) rows++;
  if (rc != SQLITE_DONE) Fail(db, kSort);
  // Joins the sorter's workers (vdbesort.c, vdbeSorterJoinAll) before the
  // section ends.
  sqlite3_reset(sort);
  if (rows != kBackgroundRows + keys) {
    fprintf(stderr, "remcov-sqlite-fuzz: %zu rows sorted, expected %zu\n", rows,
            kBackgroundRows + keys);
    abort();
  }
}

}  // namespace

void Init() {
  Configure();
  // Created here, on a thread without a common handle: the pool's thread
  // must not inherit the fuzzer thread's.
  g_statement_thread = new remcov::ThreadPool(1);
  const uint8_t warmup[] = "warm\nup";
  RunInput(warmup, sizeof warmup - 1);
  StartBackground();
}

void RunInput(const uint8_t* data, size_t size) {
  sqlite3* db = Open();
  Exec(db, kSetup);
  if (sqlite3_create_collation_v2(db, "fuzz", SQLITE_UTF8, nullptr,
                                  &sort_fuzz_collate, nullptr) != SQLITE_OK)
    Fail(db, "sqlite3_create_collation_v2");
  sqlite3_stmt* insert = Prepare(db, kInsert);
  sqlite3_stmt* sort = Prepare(db, kSort);
  // The submitter's handle, for the workers (g_input_handle).
  const uint64_t handle = remcov_common_handle();
  g_statement_thread
      ->Submit([=] {
        g_input_handle.store(handle, std::memory_order_relaxed);
        InsertAndSort(db, insert, sort, data, size);
      })
      .wait();
  sqlite3_finalize(sort);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

uint64_t WorkerThreadsStarted() {
  return g_workers_started.load(std::memory_order_relaxed);
}

void ReportPlantedBug(unsigned long hits_before, uint64_t run) {
  if (sort_fuzz_bug_hits() == hits_before) return;
  static const bool keep_going = [] {
    const char* v = getenv("REMCOV_FUZZ_BUG_CONTINUE");
    return v != nullptr && strcmp(v, "1") == 0;
  }();
  static bool reported = false;
  if (keep_going && reported) return;
  fprintf(stderr, "remcov-fuzz: planted bug %d hit at run %llu\n",
          SORT_FUZZ_BUG_WORKER_KEY, static_cast<unsigned long long>(run));
  fflush(stderr);
  reported = true;
  if (!keep_going) __builtin_trap();
}

}  // namespace remcov_sqlite_fuzz

// sqlite3.c's pthread_create (sort_harness.h).
extern "C" int sort_fuzz_pthread_create(pthread_t* thread,
                                        const pthread_attr_t* attr,
                                        void* (*fn)(void*), void* arg) {
  using remcov_sqlite_fuzz::WorkerStart;
  auto* start = new WorkerStart{
      fn, arg,
      remcov_sqlite_fuzz::g_input_handle.load(std::memory_order_relaxed)};
  const int r =
      pthread_create(thread, attr, &remcov_sqlite_fuzz::RunWorker, start);
  if (r != 0) {
    delete start;
    return r;
  }
  remcov_sqlite_fuzz::g_workers_started.fetch_add(1, std::memory_order_relaxed);
  return 0;
}
