// SPDX-License-Identifier: Apache-2.0
// The SQLite sort target's driver (sort_harness.h): the input's statement,
// the background connection and the target's description for the shared
// entry points.
#include "sort_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sort_collation.h"
#include "sqlite3.h"
#include "thirdparty_harness.h"

namespace remcov_sqlite_fuzz {
namespace {

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

// The input's part, on the input thread: insert the keys, sort.
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
  remcov_thirdparty_fuzz::StartInputThread();
  const uint8_t warmup[] = "warm\nup";
  RunInput(warmup, sizeof warmup - 1);
  remcov_thirdparty_fuzz::StartBackgroundThread(&BackgroundLoop);
}

void RunInput(const uint8_t* data, size_t size) {
  sqlite3* db = Open();
  Exec(db, kSetup);
  if (sqlite3_create_collation_v2(db, "fuzz", SQLITE_UTF8, nullptr,
                                  &sort_fuzz_collate, nullptr) != SQLITE_OK)
    Fail(db, "sqlite3_create_collation_v2");
  sqlite3_stmt* insert = Prepare(db, kInsert);
  sqlite3_stmt* sort = Prepare(db, kSort);
  remcov_thirdparty_fuzz::RunOnInputThread(
      [=] { InsertAndSort(db, insert, sort, data, size); });
  sqlite3_finalize(sort);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

}  // namespace remcov_sqlite_fuzz

const remcov_thirdparty_fuzz::Target& remcov_thirdparty_fuzz::FuzzTarget() {
  // An input records about 60,000 PCs (trace-pc records every block it
  // runs) and more comparisons, at 4 words each.
  static const Target target = {
      &remcov_sqlite_fuzz::Init, &remcov_sqlite_fuzz::RunInput,
      &sort_fuzz_bug_hits,       SORT_FUZZ_BUG_WORKER_KEY,
      size_t{1} << 20,           size_t{1} << 21,
  };
  return target;
}
