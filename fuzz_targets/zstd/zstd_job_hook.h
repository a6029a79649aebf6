/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The instrumented part of the zstd multi-threaded target (docs/fuzzing.md,
 * "Third-party targets") that is not zstd: the hook on the compression path
 * of zstd's worker threads, and the planted bug inside it. Compiled with
 * zstd's sources and the same coverage flags, so its branches are coverage
 * feedback like zstd's own.
 *
 * The hook. zstdmt_compress.c (only it) is compiled with
 * -DZSTD_XXH64_update=zstd_mt_fuzz_job_checksum: zstd's xxhash.h names
 * XXH64_update ZSTD_XXH64_update (XXH_NAMESPACE), so the one call in that
 * file, in ZSTDMT_serialState_update, comes here. A compression job calls it
 * on the worker thread that runs the job (ZSTDMT_compressionJob), in job
 * order, with the job's whole source, to add it to the frame's checksum
 * (ZSTD_c_checksumFlag), before the job compresses it. The hook forwards the
 * call to xxHash unchanged, so the checksum stays right. zstd's source is
 * not modified.
 *
 * Thread safety: the checksum hook runs on zstd's workers, concurrently with
 * the compressing thread; zstd_mt_fuzz_set_compress_thread is called on the
 * compressing thread before the CCtx starts its workers (pthread_create
 * orders the write before their reads). The counters may be read from any
 * thread.
 */
#ifndef REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_JOB_HOOK_H_
#define REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_JOB_HOOK_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The planted bug's id in "remcov-fuzz: planted bug N hit". */
#define ZSTD_MT_FUZZ_BUG_WORKER_JOB 1

/* Records the calling thread as the one that compresses: the bug below is
 * reachable only from any other thread (a zstd worker). */
void zstd_mt_fuzz_set_compress_thread(void);

/* The hook itself, zstd_mt_fuzz_job_checksum, has XXH64_update's signature:
 * zstd_job_checksum.h declares it (it needs zstd's xxhash.h). Planted bug
 * ZSTD_MT_FUZZ_BUG_WORKER_JOB: a job whose source starts with "ZSTD" and a
 * digit, hashed on a thread other than the compressing one, counts a hit
 * (and is hashed as usual). */

/* Defined by the harness (zstd_mt_schedule.h), uninstrumented: the hook
 * calls it first, on the job's worker, and it returns when the job may
 * start. */
void zstd_mt_fuzz_job_starts(void);

/* Hits of the planted bug since the process started. */
unsigned long zstd_mt_fuzz_bug_hits(void);

/* Jobs the hook saw since the process started: all of them, and those on a
 * thread other than the compressing one. */
unsigned long zstd_mt_fuzz_jobs(void);
unsigned long zstd_mt_fuzz_worker_jobs(void);

#ifdef __cplusplus
}
#endif

#endif /* REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_JOB_HOOK_H_ */
