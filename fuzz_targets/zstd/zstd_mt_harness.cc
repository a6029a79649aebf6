// SPDX-License-Identifier: Apache-2.0
// The zstd multi-threaded target's driver (zstd_mt_harness.h): the input's
// compression and round trip, the background thread and the target's
// description for the shared entry points.
#include "zstd_mt_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vector>

#include "thirdparty_harness.h"
#include "zstd.h"
#include "zstd_job_hook.h"
#include "zstd_mt_schedule.h"

namespace remcov_zstd_fuzz {
namespace {

[[noreturn]] void Fail(const char* what, size_t code) {
  fprintf(stderr, "remcov-zstd-fuzz: %s: %s\n", what,
          ZSTD_isError(code) ? ZSTD_getErrorName(code) : "failed");
  abort();
}

size_t Check(size_t code, const char* what) {
  if (ZSTD_isError(code)) Fail(what, code);
  return code;
}

void Set(ZSTD_CCtx* cctx, ZSTD_cParameter p, int value, const char* what) {
  Check(ZSTD_CCtx_setParameter(cctx, p, value), what);
}

// The input's part, on the input thread: compress, then check the round
// trip.
void CompressAndCheck(const std::vector<uint8_t>& src, const Plan& plan) {
  const std::vector<uint8_t> frame = CompressFrame(src, plan);
  // The frame and the output in one buffer, the frame first: the
  // decompressor compares their addresses (in-place decompression,
  // ZSTD_decompressFrame), so with two allocations its branches would
  // depend on the heap's layout (they did in a g++ build).
  std::vector<uint8_t> buffer(frame.size() + src.size() + 1);
  memcpy(buffer.data(), frame.data(), frame.size());
  uint8_t* back = buffer.data() + frame.size();
  const size_t n =
      Check(ZSTD_decompress(back, src.size() + 1, buffer.data(), frame.size()),
            "ZSTD_decompress");
  if (n != src.size() || memcmp(back, src.data(), n) != 0) {
    fprintf(stderr,
            "remcov-zstd-fuzz: round trip gave %zu bytes, expected %zu%s\n", n,
            src.size(), n == src.size() ? " (different bytes)" : "");
    abort();
  }
}

void BackgroundLoop() {
  std::vector<uint8_t> src(4096), frame(ZSTD_compressBound(4096)), back(4096);
  const timespec pause = {0, 1000 * 1000};
  for (uint64_t tick = 0;; tick++) {
    // Which data and level depend on the tick, so a global map sees
    // different zstd code from one input to the next.
    for (size_t i = 0; i < src.size(); i++)
      src[i] = static_cast<uint8_t>((i / (1 + tick % 7)) * 37 + tick);
    const size_t c =
        Check(ZSTD_compress(frame.data(), frame.size(), src.data(), src.size(),
                            1 + static_cast<int>(tick % kLevels)),
              "ZSTD_compress");
    Check(ZSTD_decompress(back.data(), back.size(), frame.data(), c),
          "ZSTD_decompress");
    nanosleep(&pause, nullptr);
  }
}

}  // namespace

Plan PlanOf(const uint8_t* data, size_t size) {
  const uint8_t b = size > 0 ? data[0] : 0;
  Plan plan;
  plan.workers = kMinWorkers + b % (kMaxWorkers - kMinWorkers + 1);
  plan.level = 1 + (b / (kMaxWorkers - kMinWorkers + 1)) % kLevels;
  size_t lines = 1;
  for (size_t i = 1; i < size && lines < kMaxJobs; i++)
    if (data[i] == '\n') lines++;
  plan.jobs = lines < kMinJobs ? kMinJobs : lines;
  return plan;
}

std::vector<uint8_t> JobSources(const uint8_t* data, size_t size,
                                const Plan& plan) {
  std::vector<uint8_t> out;
  out.reserve(plan.jobs * kJobBytes);
  size_t at = 1;
  for (size_t job = 0; job < plan.jobs; job++) {
    size_t n = 0;
    const uint8_t* line = nullptr;
    if (at <= size) {
      line = data + at;
      size_t end = at;
      while (end < size && data[end] != '\n') end++;
      n = end - at < kMaxLineBytes ? end - at : kMaxLineBytes;
      at = end + 1;
    }
    for (size_t i = 0; i < kJobBytes; i++)
      out.push_back(n > 0 ? line[i % n] : static_cast<uint8_t>(31 * i + job));
  }
  return out;
}

std::vector<uint8_t> CompressFrame(const std::vector<uint8_t>& src,
                                   const Plan& plan) {
  zstd_mt_fuzz_set_compress_thread();
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (cctx == nullptr) Fail("ZSTD_createCCtx", 0);
  Set(cctx, ZSTD_c_nbWorkers, plan.workers, "ZSTD_c_nbWorkers");
  Set(cctx, ZSTD_c_compressionLevel, plan.level, "ZSTD_c_compressionLevel");
  Set(cctx, ZSTD_c_checksumFlag, 1, "ZSTD_c_checksumFlag");
  // Any size below zstd's minimum job size (ZSTDMT_JOBSIZE_MIN, 512 KiB)
  // selects the minimum: the flushes below end every job long before it,
  // and the minimum keeps the job buffers small.
  Set(cctx, ZSTD_c_jobSize, 1, "ZSTD_c_jobSize");
  // Each flush ends a block: at most a block header (3 bytes) more per job
  // than the source's bound.
  std::vector<uint8_t> frame(ZSTD_compressBound(src.size()) + plan.jobs * 3 +
                             64);
  ZSTD_outBuffer out = {frame.data(), frame.size(), 0};
  ScheduleBegin(plan.workers);
  // The first call must not be ZSTD_e_end: zstd would learn the source's
  // size and compress a source this small on the calling thread.
  for (size_t job = 0; job <= plan.jobs; job++) {
    const bool last = job == plan.jobs;
    ZSTD_inBuffer in = {src.data() + (last ? src.size() : job * kJobBytes),
                        last ? 0 : kJobBytes, 0};
    const ZSTD_EndDirective how = last ? ZSTD_e_end : ZSTD_e_flush;
    if (!last) ScheduleJob();
    size_t left;
    do {
      left = Check(ZSTD_compressStream2(cctx, &out, &in, how),
                   "ZSTD_compressStream2");
      if (left != 0 && out.pos == out.size)
        Fail("ZSTD_compressStream2: output buffer full", 0);
    } while (left != 0 || in.pos != in.size);
  }
  ScheduleEnd();
  // Joins the workers (ZSTDMT_freeCCtx, POOL_free) before the section ends.
  ZSTD_freeCCtx(cctx);
  frame.resize(out.pos);
  return frame;
}

void Init() {
  remcov_thirdparty_fuzz::StartInputThread();
  const uint8_t warmup[] = "\x05warm\nup";
  RunInput(warmup, sizeof warmup - 1);
  remcov_thirdparty_fuzz::StartBackgroundThread(&BackgroundLoop);
}

void RunInput(const uint8_t* data, size_t size) {
  const Plan plan = PlanOf(data, size);
  const std::vector<uint8_t> src = JobSources(data, size, plan);
  remcov_thirdparty_fuzz::RunOnInputThread(
      [&] { CompressAndCheck(src, plan); });
}

}  // namespace remcov_zstd_fuzz

const remcov_thirdparty_fuzz::Target& remcov_thirdparty_fuzz::FuzzTarget() {
  // The libFuzzer adaptor's collector: an input of three lines records about
  // 6,000 PCs (trace-pc records every block it runs), the largest a few
  // times that, and more comparisons at 4 words each; ample headroom, as
  // for the SQLite target.
  static const Target target = {
      &remcov_zstd_fuzz::Init, &remcov_zstd_fuzz::RunInput,
      &zstd_mt_fuzz_bug_hits,  ZSTD_MT_FUZZ_BUG_WORKER_JOB,
      size_t{1} << 20,         size_t{1} << 21,
  };
  return target;
}
