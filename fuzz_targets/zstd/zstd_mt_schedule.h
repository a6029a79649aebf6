// SPDX-License-Identifier: Apache-2.0
// The zstd target's schedule: makes the code that zstd's multi-threaded
// compressor runs for an input, and how many times, independent of timing.
// Uninstrumented (a part of the harness, not of the code base).
//
// Without it, zstd's polling decides per job whether the compressing thread
// finds the job finished at its first look (ZSTDMT_flushProduced without
// blocking) or looks again and waits, and whether a pool thread reaches its
// first wait before the first job is queued or sees the pool shut down
// before waiting again (lib/common/pool.c, POOL_thread): the same input then
// ran 1 to 13 more or fewer blocks of ZSTD_compressStream2,
// ZSTDMT_compressStream_generic, ZSTDMT_flushProduced and POOL_thread from
// one run to the next (30 runs of one input, clang 14 build; 13 of 552 PCs
// varied), and AFL++ measured a stability of 80% on remcov's map.
//
// With it, between ScheduleBegin and ScheduleEnd:
//  - zstd's sources are compiled with
//    -Dpthread_create=zstd_mt_fuzz_pthread_create, which starts the thread
//    through remcov_fuzz_pthread_create (remote section with the input's
//    handle, fuzz_targets/common/thirdparty_harness.h) and returns once it
//    waits for work: every pool thread is idle before the first job;
//  - and with -Dpthread_cond_wait=zstd_mt_fuzz_cond_wait, which counts the
//    threads that are waiting (pthread_cond_wait's contract otherwise);
//  - the harness queues a job (ScheduleJob before the job's flush) only
//    once every pool thread waits for work: the pool's signal then wakes
//    one of them, which takes the job, and no thread finds the job taken
//    and waits again, or takes it without waiting;
//  - a job starts (zstd_mt_fuzz_job_starts, called by the job hook on the
//    worker, zstd_job_hook.h) only once the compressing thread waits for it
//    and every other pool thread waits for work: the compressing thread
//    always looks once without blocking, then waits once;
//  - ScheduleEnd returns once every pool thread waits for work again, so
//    that freeing the CCtx finds them all waiting.
// Outside (the background thread's single-threaded API, the tests' direct
// calls of the hook) the three functions behave as pthread's do and
// zstd_mt_fuzz_job_starts returns at once. A wait that lasts longer than
// kScheduleTimeoutSeconds is a broken harness: it prints
// "remcov-zstd-fuzz: schedule: ..." and aborts.
//
// Thread safety: ScheduleBegin, ScheduleJob and ScheduleEnd on the
// compressing thread, one input at a time; the rest from any thread.
#ifndef REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_MT_SCHEDULE_H_
#define REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_MT_SCHEDULE_H_

#include <pthread.h>

namespace remcov_zstd_fuzz {

inline constexpr int kScheduleTimeoutSeconds = 60;

// Starts scheduling the compression by the calling thread with a pool of
// `workers` threads (not yet created).
void ScheduleBegin(int workers);
// Waits until every pool thread created so far waits for work: before each
// call that queues a job.
void ScheduleJob();
// Waits until all `workers` pool threads wait for work, then stops
// scheduling.
void ScheduleEnd();

}  // namespace remcov_zstd_fuzz

// zstd's pthread_create and pthread_cond_wait (above): pthread's contracts.
// zstd_mt_fuzz_job_starts is declared in zstd_job_hook.h, for the hook.
extern "C" {
int zstd_mt_fuzz_pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                void* (*fn)(void*), void* arg);
int zstd_mt_fuzz_cond_wait(pthread_cond_t* cond, pthread_mutex_t* mutex);
}

#endif  // REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_MT_SCHEDULE_H_
