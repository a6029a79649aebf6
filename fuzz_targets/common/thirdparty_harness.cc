// SPDX-License-Identifier: Apache-2.0
// The third-party targets' shared driver parts (thirdparty_harness.h).
#include "thirdparty_harness.h"

#include <stdio.h>
#include <stdlib.h>

#include <atomic>

#include "remcov/remcov.h"
#include "remcov/thread_pool.h"

#include "planted_bug.h"

namespace remcov_thirdparty_fuzz {
namespace {

std::atomic<uint64_t> g_workers_started{0};
// The common handle of the input being run (0: none), for the threads its
// work creates. Written on the input thread before the work runs; read by
// remcov_fuzz_pthread_create on the input thread or on a thread it started
// (SQLite's incremental merge starts threads from workers), all created
// after the write. Relaxed: pthread_create orders it.
std::atomic<uint64_t> g_input_handle{0};
remcov::ThreadPool* g_input_thread = nullptr;

struct WorkerStart {
  void* (*fn)(void*);
  void* arg;
  uint64_t handle;
};

void* RunWorker(void* p) {
  const WorkerStart start = *static_cast<WorkerStart*>(p);
  delete static_cast<WorkerStart*>(p);
  if (start.handle == 0) return start.fn(start.arg);
  // The section ends before the thread does, so before the join that the
  // input's work does returns.
  remcov_remote_start(start.handle);
  void* r = start.fn(start.arg);
  remcov_remote_stop();
  return r;
}

}  // namespace

void StartInputThread() { g_input_thread = new remcov::ThreadPool(1); }

void RunOnInputThread(const std::function<void()>& work) {
  // The submitter's handle, for the workers (g_input_handle).
  const uint64_t handle = remcov_common_handle();
  g_input_thread
      ->Submit([&work, handle] {
        g_input_handle.store(handle, std::memory_order_relaxed);
        work();
      })
      .wait();
}

uint64_t WorkerThreadsStarted() {
  return g_workers_started.load(std::memory_order_relaxed);
}

void StartBackgroundThread(void (*loop)()) {
  pthread_t t;
  const int r = pthread_create(
      &t, nullptr,
      [](void* fn) -> void* {
        reinterpret_cast<void (*)()>(fn)();
        return nullptr;
      },
      reinterpret_cast<void*>(loop));
  if (r != 0) {
    fprintf(stderr, "remcov-fuzz: pthread_create: error %d\n", r);
    abort();
  }
  pthread_detach(t);
}

void ReportPlantedBug(int bug_id, bool hit, uint64_t run) {
  if (hit) remcov_fuzz::ReportPlantedBugHit(bug_id, run);
}

}  // namespace remcov_thirdparty_fuzz

extern "C" int remcov_fuzz_pthread_create(pthread_t* thread,
                                          const pthread_attr_t* attr,
                                          void* (*fn)(void*), void* arg) {
  using remcov_thirdparty_fuzz::WorkerStart;
  auto* start = new WorkerStart{
      fn, arg,
      remcov_thirdparty_fuzz::g_input_handle.load(std::memory_order_relaxed)};
  const int r =
      pthread_create(thread, attr, &remcov_thirdparty_fuzz::RunWorker, start);
  if (r != 0) {
    delete start;
    return r;
  }
  remcov_thirdparty_fuzz::g_workers_started.fetch_add(
      1, std::memory_order_relaxed);
  return 0;
}
