// SPDX-License-Identifier: Apache-2.0
// The uninstrumented driver of the SQLite sort target (docs/fuzzing.md,
// "Third-party targets"), shared by its libFuzzer and AFL++ builds, with
// remcov's feedback and with each fuzzer's own global instrumentation.
//
// One input: its bytes, split at '\n', are keys (at most kMaxKeys keys of at
// most kMaxKeyBytes bytes; the rest of a longer input or key is ignored, as
// a fuzz harness ignores any input it does not read). A fresh in-memory
// database stores them in a table, then one statement sorts them together
// with kBackgroundRows generated keys, ORDER BY the harness's collation
// (sort_collation.h), with PRAGMA threads=kSorterThreads and a page size,
// cache and PMA size small enough that the sorter writes several PMAs:
// SQLite sorts each batch of records on a sorter worker thread before it
// writes it out (vdbesort.c, vdbeSorterFlushPMA), then merges them on more
// workers. Every input therefore runs SQLite's code on worker threads
// created during the statement and joined before it ends.
//
// Threads and attribution. The harness works like a service: the inserts
// and the sort run on the harness's statement thread (a remcov::ThreadPool
// of one thread), submitted by the fuzzer's thread, which waits. The pool
// runs the job in a remote section with the submitter's common handle (the
// collector's owner cannot trace itself: KCOV_REMOTE_ENABLE collects remote
// sections only). SQLite creates its workers with pthread_create: sqlite3.c
// is compiled with -Dpthread_create=sort_fuzz_pthread_create (its only call
// is in sqlite3ThreadCreate), which runs each worker in a remote section with
// the input's handle, as remcov::ThreadPool does for its tasks. Without a
// collector (the global builds) the handle is 0 and everything runs as is.
// Opening the database and preparing the fixed statements happen on the
// fuzzer's thread: the same for every input, outside the sections.
//
// A background thread runs small queries on a database of its own every
// millisecond, like an application's other connections: the same SQLite
// code, but no input's work.
//
// Thread safety: Init once, on a thread without a common handle, before
// RunInput; RunInput and ReportPlantedBug from one thread at a time.
#ifndef REMCOV_FUZZ_TARGETS_SQLITE_SORT_HARNESS_H_
#define REMCOV_FUZZ_TARGETS_SQLITE_SORT_HARNESS_H_

#include <stddef.h>
#include <stdint.h>

namespace remcov_sqlite_fuzz {

inline constexpr int kSorterThreads = 8;
inline constexpr size_t kMaxKeys = 16;
inline constexpr size_t kMaxKeyBytes = 24;
inline constexpr int kBackgroundRows = 100;

// Configures SQLite, starts the statement thread and the background thread
// (both leaked: they run until the process exits) and runs one input, so
// that SQLite's one-time initialization is not part of any fuzzed input.
void Init();

// Runs one input (above). A failure of SQLite is not a finding but a broken
// harness: it prints "remcov-sqlite-fuzz: ..." and aborts.
void RunInput(const uint8_t* data, size_t size);

// Worker threads SQLite created through sort_fuzz_pthread_create so far.
uint64_t WorkerThreadsStarted();

// Traps if the planted bug was hit since `hits_before` (a value of
// sort_fuzz_bug_hits()), after printing
// "remcov-fuzz: planted bug 1 hit at run RUN" (the line
// tests/libfuzzer/run_fuzzer.sh, tests/afl/run_afl.sh and
// bench/fuzz_campaign.sh read). With REMCOV_FUZZ_BUG_CONTINUE=1 in the
// environment it prints the line for the first hit only and does not trap,
// so that a libFuzzer run lasts its whole time budget.
void ReportPlantedBug(unsigned long hits_before, uint64_t run);

}  // namespace remcov_sqlite_fuzz

#endif  // REMCOV_FUZZ_TARGETS_SQLITE_SORT_HARNESS_H_
