// SPDX-License-Identifier: Apache-2.0
// The uninstrumented driver of the zstd multi-threaded compression target
// (docs/fuzzing.md, "Third-party targets"), shared by its libFuzzer and
// AFL++ builds, with remcov's feedback and with each fuzzer's own global
// instrumentation.
//
// One input (PlanOf): its first byte chooses the number of zstd worker
// threads, kMinWorkers to kMaxWorkers, and the compression level, 1 to
// kLevels; the rest, split at '\n', are the lines (at most kMaxJobs lines of
// at most kMaxLineBytes bytes; the rest of a longer input or line is
// ignored, as a fuzz harness ignores any input it does not read; fewer than
// kMinJobs lines are padded with empty ones). Each line is expanded
// deterministically into one job's source of kJobBytes bytes: the line
// repeated, or for an empty line, bytes (31 * i + j) mod 256 where j is the
// line's index. A fresh ZSTD_CCtx with ZSTD_c_nbWorkers, the level,
// ZSTD_c_checksumFlag and ZSTD_c_jobSize at zstd's minimum compresses them
// as one frame with ZSTD_compressStream2, ending each job's source with
// ZSTD_e_flush: every flush makes the bytes since the previous one a
// compression job of zstd's multi-threaded compressor (zstdmt_compress.c),
// which it hands to its worker pool (lib/common/pool.c) and waits for, so
// the jobs run one after the other, each on one of the pool's threads. The
// frame is then decompressed and compared with the jobs' sources; a
// mismatch aborts ("remcov-zstd-fuzz: ..."). Freeing the CCtx joins its
// workers. Every input therefore runs zstd's compression code on worker
// threads created for the input and joined before it ends.
//
// Threads and attribution (fuzz_targets/common/thirdparty_harness.h): all
// of it runs on the harness's input thread, in a remote section with the
// input's handle; zstd's sources are compiled with
// -Dpthread_create=zstd_mt_fuzz_pthread_create (their only call is in
// POOL_create_advanced, lib/common/pool.c), which starts every worker
// through remcov_fuzz_pthread_create, in a remote section with the same
// handle. The number of workers is the input's (ZSTD_c_nbWorkers; the pool
// starts them all when the CCtx starts compressing), and every job runs on
// one of them. The harness's schedule (zstd_mt_schedule.h) orders the
// threads' waits so that the code zstd runs for an input, and how many
// times, does not depend on timing; which worker takes a job still does,
// which does not change the input's coverage.
//
// A background thread compresses and decompresses a generated buffer with
// zstd's single-threaded API every millisecond, like an application's other
// users of the library: the same zstd code, but no input's work.
//
// The shared entry points (fuzz_targets/common: entry.cc,
// libfuzzer_remcov.cc) get the target through
// remcov_thirdparty_fuzz::FuzzTarget(), defined in zstd_mt_harness.cc.
//
// Thread safety: Init once, on a thread without a common handle, before
// RunInput; RunInput and CompressFrame from one thread at a time; PlanOf
// and JobSources from any thread.
#ifndef REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_MT_HARNESS_H_
#define REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_MT_HARNESS_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

namespace remcov_zstd_fuzz {

inline constexpr int kMinWorkers = 2;
inline constexpr int kMaxWorkers = 4;
inline constexpr int kLevels = 4;
inline constexpr size_t kMinJobs = 2;
inline constexpr size_t kMaxJobs = 8;
inline constexpr size_t kMaxLineBytes = 64;
inline constexpr size_t kJobBytes = 512;

// What RunInput does with an input (above).
struct Plan {
  int workers;  // ZSTD_c_nbWorkers
  int level;    // ZSTD_c_compressionLevel
  size_t jobs;  // compression jobs, one per (padded) line
};
Plan PlanOf(const uint8_t* data, size_t size);

// The jobs' sources of an input, concatenated: plan.jobs * kJobBytes bytes
// (above), for plan = PlanOf(data, size).
std::vector<uint8_t> JobSources(const uint8_t* data, size_t size,
                                const Plan& plan);

// Compresses `src` (JobSources) into one frame as RunInput does, on the
// calling thread, which it records as the compressing one
// (zstd_mt_fuzz_set_compress_thread), and returns the frame. zstd's workers
// are joined when it returns.
std::vector<uint8_t> CompressFrame(const std::vector<uint8_t>& src,
                                   const Plan& plan);

// Starts the input thread and the background thread (both leaked: they run
// until the process exits) and runs one input.
void Init();

// Runs one input (above). A failure of zstd's API is not a finding but a
// broken harness; a round trip that does not give the input's bytes back
// is zstd's bug. Either prints "remcov-zstd-fuzz: ..." and aborts.
void RunInput(const uint8_t* data, size_t size);

}  // namespace remcov_zstd_fuzz

#endif  // REMCOV_FUZZ_TARGETS_ZSTD_ZSTD_MT_HARNESS_H_
