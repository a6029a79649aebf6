// SPDX-License-Identifier: Apache-2.0
// The third-party targets' shared driver parts (thirdparty_harness.h).
#include "thirdparty_harness.h"

#include <stdio.h>
#include <stdlib.h>

#include <atomic>
#include <vector>

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

namespace {
struct Stability {
  unsigned runs = 0;
  uint64_t inputs = 0;
  std::vector<uint8_t> seen;      // slot set by some run of some input
  std::vector<uint8_t> variable;  // slot varied between runs of an input
};
Stability& GetStability() {
  static Stability* s = new Stability();  // read at exit: never destroyed
  return *s;
}
void PrintStability() {
  const Stability& s = GetStability();
  size_t slots = 0, variable = 0;
  for (size_t i = 0; i < s.seen.size(); i++) {
    slots += s.seen[i];
    variable += s.variable[i];
  }
  fprintf(stderr,
          "remcov-fuzz: stability: inputs %llu runs %u slots %zu variable %zu "
          "stability %.2f%%\n",
          static_cast<unsigned long long>(s.inputs), s.runs, slots, variable,
          slots == 0 ? 0.0
                     : 100.0 * static_cast<double>(slots - variable) /
                           static_cast<double>(slots));
}
}  // namespace

unsigned StabilityRuns() {
  static const unsigned runs = [] {
    const char* v = getenv("REMCOV_FUZZ_STABILITY_RUNS");
    if (v == nullptr) return 0u;
    char* end = nullptr;
    const unsigned long n = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end != '\0' || n < 2 || n > 1000) {
      fprintf(stderr,
              "remcov-fuzz: REMCOV_FUZZ_STABILITY_RUNS=%s: expected a number "
              "from 2 to 1000\n",
              v);
      exit(2);
    }
    GetStability().runs = static_cast<unsigned>(n);
    atexit(PrintStability);
    return static_cast<unsigned>(n);
  }();
  return runs;
}

void MeasureStability(std::span<const uint8_t> counters,
                      const std::function<void()>& run) {
  Stability& s = GetStability();
  const unsigned n = StabilityRuns();
  if (n == 0 || counters.empty()) return;
  s.seen.resize(counters.size());
  s.variable.resize(counters.size());
  std::vector<unsigned> hits(counters.size());
  for (unsigned r = 0; r < n; r++) {
    run();
    for (size_t i = 0; i < counters.size(); i++) hits[i] += counters[i] != 0;
  }
  for (size_t i = 0; i < counters.size(); i++) {
    if (hits[i] == 0) continue;
    s.seen[i] = 1;
    if (hits[i] != n) s.variable[i] = 1;
  }
  s.inputs++;
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
