/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collation of the SQLite sort target and its planted worker-thread bug
 * (sort_collation.h). The prefix is checked one byte per branch, so each
 * matched byte is new coverage for either fuzzer; the bug itself is only
 * reachable where SQLite's sorter compares keys on a worker thread (it sorts
 * each in-memory batch on a worker before writing it out as a PMA, vdbesort.c
 * vdbeSorterFlushPMA and vdbeSorterFlushThread).
 */
#include "sort_collation.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static pthread_t g_statement_thread;
static atomic_ulong g_bug_hits;

void sort_fuzz_set_statement_thread(void) {
  g_statement_thread = pthread_self();
}

unsigned long sort_fuzz_bug_hits(void) {
  return atomic_load_explicit(&g_bug_hits, memory_order_relaxed);
}

static void check_key(const unsigned char* k, int n) {
  if (n < 5 || k[0] != 'S') return;
  if (k[1] != 'O') return;
  if (k[2] != 'R') return;
  if (k[3] != 'T') return;
  if (k[4] < '0' || k[4] > '9') return;
  if (pthread_equal(pthread_self(), g_statement_thread)) return;
  /* Relaxed: a count read after the statement's threads were joined. */
  atomic_fetch_add_explicit(&g_bug_hits, 1, memory_order_relaxed);
}

int sort_fuzz_collate(void* ctx, int n1, const void* k1, int n2,
                      const void* k2) {
  (void)ctx;
  check_key((const unsigned char*)k1, n1);
  check_key((const unsigned char*)k2, n2);
  const int n = n1 < n2 ? n1 : n2;
  const int c = n > 0 ? memcmp(k1, k2, (size_t)n) : 0;
  if (c != 0) return c;
  return n1 < n2 ? -1 : n1 > n2;
}
