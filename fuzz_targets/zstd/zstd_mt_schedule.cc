// SPDX-License-Identifier: Apache-2.0
// The zstd target's schedule (zstd_mt_schedule.h).
#include "zstd_mt_schedule.h"

#include <stdio.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "thirdparty_harness.h"
#include "zstd_job_hook.h"

namespace remcov_zstd_fuzz {
namespace {

std::mutex g_mu;
std::condition_variable g_cv;
// Guarded by g_mu.
bool g_active = false;
pthread_t g_compressor;
int g_workers = 0;  // pool threads the CCtx will have
int g_created = 0;  // pool threads created so far
int g_idle = 0;     // threads other than g_compressor in cond_wait
int g_compressor_waiting = 0;

// Waits (g_mu held through `lock`) until `done`, or aborts.
template <typename Pred>
void WaitFor(std::unique_lock<std::mutex>& lock, Pred done, const char* what) {
  if (!g_cv.wait_for(lock, std::chrono::seconds(kScheduleTimeoutSeconds),
                     done)) {
    fprintf(stderr, "remcov-zstd-fuzz: schedule: %s (idle %d of %d)\n", what,
            g_idle, g_created);
    abort();
  }
}

}  // namespace

void ScheduleBegin(int workers) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_active = true;
  g_compressor = pthread_self();
  g_workers = workers;
  g_created = 0;
}

void ScheduleJob() {
  std::unique_lock<std::mutex> lock(g_mu);
  WaitFor(
      lock, [] { return g_idle == g_created; },
      "pool threads did not all wait for work before a job");
}

void ScheduleEnd() {
  std::unique_lock<std::mutex> lock(g_mu);
  WaitFor(
      lock, [] { return g_idle == g_created && g_created == g_workers; },
      "pool threads did not all wait for work");
  g_active = false;
}

}  // namespace remcov_zstd_fuzz

using remcov_zstd_fuzz::g_active;
using remcov_zstd_fuzz::g_compressor;
using remcov_zstd_fuzz::g_compressor_waiting;
using remcov_zstd_fuzz::g_cv;
using remcov_zstd_fuzz::g_idle;
using remcov_zstd_fuzz::g_mu;
using remcov_zstd_fuzz::g_workers;

extern "C" int zstd_mt_fuzz_pthread_create(pthread_t* thread,
                                           const pthread_attr_t* attr,
                                           void* (*fn)(void*), void* arg) {
  std::unique_lock<std::mutex> lock(g_mu);
  const int idle_before = g_idle;
  lock.unlock();
  const int r = remcov_fuzz_pthread_create(thread, attr, fn, arg);
  if (r != 0) return r;
  lock.lock();
  if (g_active) {
    remcov_zstd_fuzz::g_created++;
    remcov_zstd_fuzz::WaitFor(
        lock, [idle_before] { return g_idle == idle_before + 1; },
        "a new pool thread did not wait for work");
  }
  return 0;
}

extern "C" int zstd_mt_fuzz_cond_wait(pthread_cond_t* cond,
                                      pthread_mutex_t* mutex) {
  bool compressor;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    compressor = g_active && pthread_equal(pthread_self(), g_compressor);
    (compressor ? g_compressor_waiting : g_idle)++;
  }
  g_cv.notify_all();
  // `mutex` is held: whoever the wait is for must take it to signal, which
  // it can only once this thread waits.
  const int r = pthread_cond_wait(cond, mutex);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    (compressor ? g_compressor_waiting : g_idle)--;
  }
  return r;
}

extern "C" void zstd_mt_fuzz_job_starts(void) {
  std::unique_lock<std::mutex> lock(g_mu);
  if (!g_active || pthread_equal(pthread_self(), g_compressor)) return;
  remcov_zstd_fuzz::WaitFor(
      lock,
      [] {
        return g_compressor_waiting > 0 &&
               g_idle == remcov_zstd_fuzz::g_created - 1;
      },
      "a job's compressing thread or other pool threads did not wait");
}
