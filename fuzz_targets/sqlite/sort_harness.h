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
// Threads and attribution (fuzz_targets/common/thirdparty_harness.h): the
// inserts and the sort run on the harness's input thread, in a remote
// section with the input's handle; sqlite3.c is compiled with
// -Dpthread_create=remcov_fuzz_pthread_create (its only call is in
// sqlite3ThreadCreate), so every sorter worker runs in a remote section with
// the same handle. Opening the database and preparing the fixed statements
// happen on the fuzzer's thread: the same for every input, outside the
// sections.
//
// A background thread runs small queries on a database of its own every
// millisecond, like an application's other connections: the same SQLite
// code, but no input's work.
//
// The shared entry points (fuzz_targets/common: entry.cc,
// libfuzzer_remcov.cc) get the target through
// remcov_thirdparty_fuzz::FuzzTarget(), defined in sort_harness.cc.
//
// Thread safety: Init once, on a thread without a common handle, before
// RunInput; RunInput from one thread at a time.
#ifndef REMCOV_FUZZ_TARGETS_SQLITE_SORT_HARNESS_H_
#define REMCOV_FUZZ_TARGETS_SQLITE_SORT_HARNESS_H_

#include <stddef.h>
#include <stdint.h>

namespace remcov_sqlite_fuzz {

inline constexpr int kSorterThreads = 8;
inline constexpr size_t kMaxKeys = 16;
inline constexpr size_t kMaxKeyBytes = 24;
inline constexpr int kBackgroundRows = 100;

// Configures SQLite, starts the input thread and the background thread
// (both leaked: they run until the process exits) and runs one input, so
// that SQLite's one-time initialization is not part of any fuzzed input.
void Init();

// Runs one input (above). A failure of SQLite is not a finding but a broken
// harness: it prints "remcov-sqlite-fuzz: ..." and aborts.
void RunInput(const uint8_t* data, size_t size);

}  // namespace remcov_sqlite_fuzz

#endif  // REMCOV_FUZZ_TARGETS_SQLITE_SORT_HARNESS_H_
