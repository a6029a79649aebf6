/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The instrumented part of the SQLite sort target (docs/fuzzing.md, "Third-
 * party targets"): the collation the fuzzed query sorts with, and the planted
 * bug inside it. Compiled with SQLite's amalgamation and the same coverage
 * flags, so its branches are coverage feedback like SQLite's own.
 *
 * Thread safety: sort_fuzz_collate runs on whichever thread SQLite's sorter
 * compares on (the statement's thread or a sorter worker), concurrently.
 * sort_fuzz_set_statement_thread is called on the statement's thread before
 * the statement runs, while no worker exists; the workers it creates later
 * read the value (pthread_create orders the write before their reads).
 * sort_fuzz_bug_hits may be read from any thread.
 */
#ifndef REMCOV_FUZZ_TARGETS_SQLITE_SORT_COLLATION_H_
#define REMCOV_FUZZ_TARGETS_SQLITE_SORT_COLLATION_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The planted bug's id in "remcov-fuzz: planted bug N hit" (sort_harness.h). */
#define SORT_FUZZ_BUG_WORKER_KEY 1

/* Records the calling thread as the one that runs the statement: the bug
 * below is reachable only from any other thread (a sorter worker). */
void sort_fuzz_set_statement_thread(void);

/* SQLite collation (sqlite3_create_collation_v2, SQLITE_UTF8): byte order,
 * shorter first on a common prefix. Planted bug SORT_FUZZ_BUG_WORKER_KEY:
 * comparing, on a sorter worker thread, a key that starts with "SORT" and
 * whose fifth byte is a digit counts a hit (and sorts as usual). */
int sort_fuzz_collate(void* ctx, int n1, const void* k1, int n2,
                      const void* k2);

/* How many times the planted bug was hit since the process started. */
unsigned long sort_fuzz_bug_hits(void);

#ifdef __cplusplus
}
#endif

#endif /* REMCOV_FUZZ_TARGETS_SQLITE_SORT_COLLATION_H_ */
