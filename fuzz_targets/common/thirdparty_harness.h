// SPDX-License-Identifier: Apache-2.0
// What every third-party fuzz target's driver shares (docs/fuzzing.md,
// "Third-party targets"); each target's harness (fuzz_targets/NAME/) adds
// its code base's calls.
//
// Threads and attribution. A driver works like a service: the input's work
// runs on the harness's input thread (a remcov::ThreadPool of one thread),
// submitted by the fuzzer's thread, which waits. The pool runs the work in a
// remote section with the submitter's common handle (the collector's owner
// cannot trace itself: KCOV_REMOTE_ENABLE collects remote sections only).
// The third-party code creates its worker threads with pthread_create; it is
// compiled with -Dpthread_create=remcov_fuzz_pthread_create (its source is
// not modified), which runs each worker in a remote section with the handle
// of the input being run, as remcov::ThreadPool does for its tasks. Without
// a collector (the global builds) the handle is 0 and everything runs as is.
//
// Thread safety: StartInputThread once, on a thread without a common handle,
// before RunOnInputThread; RunOnInputThread and ReportPlantedBug from one
// thread at a time; the rest from any thread.
#ifndef REMCOV_FUZZ_TARGETS_COMMON_THIRDPARTY_HARNESS_H_
#define REMCOV_FUZZ_TARGETS_COMMON_THIRDPARTY_HARNESS_H_

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <span>

namespace remcov_thirdparty_fuzz {

// Creates the input thread (leaked: it runs until the process exits). On a
// thread without a common handle: the pool's thread must not inherit one.
void StartInputThread();

// Runs `work` on the input thread, in a remote section with the calling
// thread's common handle (remcov_common_handle(); none if 0), and waits for
// it. Threads that remcov_fuzz_pthread_create starts while `work` runs (from
// the input thread or from those threads) get the same handle. `work` must
// join them before it returns, so that their sections end before this
// function does.
void RunOnInputThread(const std::function<void()>& work);

// Threads the third-party code created through remcov_fuzz_pthread_create
// since the process started.
uint64_t WorkerThreadsStarted();

// Starts a detached thread that runs `loop` (which does not return): a
// driver's background work, like an application's other users of the same
// library, outside every input's sections.
void StartBackgroundThread(void (*loop)());

// If `hit` (the planted bug `bug_id` was hit during the input), reports it
// as planted_bug.h says: a line, then a trap (or, with
// REMCOV_FUZZ_BUG_CONTINUE=1, the first hit's line only).
void ReportPlantedBug(int bug_id, bool hit, uint64_t run);

// What the shared entry points (entry.cc, libfuzzer_remcov.cc) need of a
// target. Each target's harness defines FuzzTarget().
struct Target {
  // Starts the harness's threads (StartInputThread, background) and warms
  // the code base up, on a thread without a common handle.
  void (*init)();
  // Runs one input (through RunOnInputThread).
  void (*run_input)(const uint8_t* data, size_t size);
  // How many times the planted bug was hit since the process started.
  unsigned long (*bug_hits)();
  // The planted bug's id in ReportPlantedBug's line.
  int bug_id;
  // The libFuzzer adaptor's collector sizes (LibFuzzerOptions::pc_words and
  // cmp_words), with headroom over one input's trace.
  size_t pc_words;
  size_t cmp_words;
};
const Target& FuzzTarget();

// The stability of a libFuzzer build's feedback, measured inside the target
// (docs/fuzzing.md, "Third-party targets"). With
// REMCOV_FUZZ_STABILITY_RUNS=N (2 to 1000) in the environment, each input
// libFuzzer gives the target is run N times more, and the feedback array's
// slots each run set are compared. As AFL++ counts (hit or not, no
// buckets), a slot is variable when some runs of one input set it and
// others did not; stability is the share of the slots ever set that never
// varied. At exit the target prints
//   remcov-fuzz: stability: inputs I runs N slots S variable V stability P%
// Run it over a corpus with -runs=0 (libFuzzer runs each file once).
// N, or 0 without the variable; a malformed value exits with a message.
unsigned StabilityRuns();
// Runs the input N = StabilityRuns() times: `run` must leave the input's
// feedback in `counters` (zeroing it first is its job).
void MeasureStability(std::span<const uint8_t> counters,
                      const std::function<void()>& run);

}  // namespace remcov_thirdparty_fuzz

// The third-party code's pthread_create (above): pthread_create's contract.
extern "C" int remcov_fuzz_pthread_create(pthread_t* thread,
                                          const pthread_attr_t* attr,
                                          void* (*fn)(void*), void* arg);

#endif  // REMCOV_FUZZ_TARGETS_COMMON_THIRDPARTY_HARNESS_H_
