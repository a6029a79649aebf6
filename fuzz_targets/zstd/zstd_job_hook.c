/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The zstd target's hook on its workers' compression path and its planted
 * bug (zstd_job_hook.h). The prefix is checked one byte per branch, so each
 * matched byte is new coverage for either fuzzer.
 */
#include "zstd_job_hook.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "zstd_job_checksum.h"

static pthread_t g_compress_thread;
static atomic_ulong g_bug_hits;
static atomic_ulong g_jobs;
static atomic_ulong g_worker_jobs;

void zstd_mt_fuzz_set_compress_thread(void) {
  g_compress_thread = pthread_self();
}

/* Relaxed: counts read after the input's workers were joined. */
unsigned long zstd_mt_fuzz_bug_hits(void) {
  return atomic_load_explicit(&g_bug_hits, memory_order_relaxed);
}

unsigned long zstd_mt_fuzz_jobs(void) {
  return atomic_load_explicit(&g_jobs, memory_order_relaxed);
}

unsigned long zstd_mt_fuzz_worker_jobs(void) {
  return atomic_load_explicit(&g_worker_jobs, memory_order_relaxed);
}

static void check_job(const unsigned char* p, size_t n, int on_worker) {
  if (n < 5 || p[0] != 'Z') return;
  if (p[1] != 'S') return;
  if (p[2] != 'T') return;
  if (p[3] != 'D') return;
  if (p[4] < '0' || p[4] > '9') return;
  if (!on_worker) return;
  atomic_fetch_add_explicit(&g_bug_hits, 1, memory_order_relaxed);
}

XXH_errorcode zstd_mt_fuzz_job_checksum(XXH64_state_t* state, const void* input,
                                        size_t length) {
  const int on_worker = !pthread_equal(pthread_self(), g_compress_thread);
  zstd_mt_fuzz_job_starts();
  atomic_fetch_add_explicit(&g_jobs, 1, memory_order_relaxed);
  if (on_worker)
    atomic_fetch_add_explicit(&g_worker_jobs, 1, memory_order_relaxed);
  check_job((const unsigned char*)input, length, on_worker);
  return XXH64_update(state, input, length);
}
