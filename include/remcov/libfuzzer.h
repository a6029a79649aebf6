// SPDX-License-Identifier: Apache-2.0
// The libFuzzer adaptor: per-input coverage of a multi-threaded service as
// libFuzzer feedback (docs/fuzzing.md, docs/fuzzing-guide.md).
//
// A LibFuzzerAdaptor is created once per fuzzer process, on the thread that
// calls LLVMFuzzerTestOneInput. It owns a remote Collector in PC mode, enabled
// on that thread with a common handle no other collector in the process uses,
// and (optionally) a second one in CMP mode on a helper thread with another
// handle. RunOne(run) resets the collectors, calls run() (the harness's
// "submit the input to the service and wait for its work") on each, and
// turns what was attributed to the input into libFuzzer feedback:
//  - every recorded PC is hashed (by module and offset, so the same on every
//    run) to one of kLibFuzzerCounterSlots bytes in the
//    `__libfuzzer_extra_counters` section, which libFuzzer scans after each
//    input; each execution of the PC adds one (saturating at 255), so
//    libFuzzer's hit-count buckets see loop iterations too;
//  - with LibFuzzerOptions::value_profile, each comparison record also sets
//    counters for how close its operands are (libFuzzer's value profile);
//  - every comparison record is replayed into libFuzzer's
//    __sanitizer_cov_trace_cmpN / __sanitizer_cov_trace_const_cmpN, which feed
//    its tables of recent compares (the CMP mutations learn magic values).
// Only the input's coverage gets there: the work of other threads (timers,
// housekeeping) runs outside the input's remote sections.
//
// Linking: the service's objects must call __remcov_cov_trace_* (renamed with
// objcopy), and the process must contain libFuzzer's runtime, which defines
// the hooks above; cmake/RemcovLibFuzzer.cmake does both.
//
// Thread safety: create, call RunOne and destroy on one thread (the KCOV
// rule: a collector belongs to the thread that enabled it). run() is called
// on that thread and, when comparison hints are on, then on the helper thread;
// never on both at once.
#ifndef REMCOV_LIBFUZZER_H_
#define REMCOV_LIBFUZZER_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "remcov/collector.h"
#include "remcov/export.h"
#include "remcov/status.h"

namespace remcov {

// Size of the extra-counters array, in one-byte slots. libFuzzer clears and
// scans the whole array on every input (8 bytes at a time), so 64 KiB costs a
// few microseconds; with P distinct PCs about P*P/(2*65536) pairs share a
// slot (under one for P = 360, about 8 for P = 1000). A shared slot merges
// two PCs' counts: the fuzzer may miss that the second one became reachable.
inline constexpr size_t kLibFuzzerCounterSlots = size_t{1} << 16;

struct LibFuzzerOptions {
  // Collector sizes in words. A run whose coverage does not fit is counted
  // (LibFuzzerStats::overflow_runs) and fed partially.
  size_t pc_words = size_t{1} << 18;
  size_t cmp_words = size_t{1} << 18;
  // Run every input a second time, attributed to a CMP-mode collector, and
  // replay its comparisons into libFuzzer. Doubles the cost of an input; the
  // service must handle an input the same way twice.
  bool cmp_hints = true;
  // Also turn each comparison record into counters, as libFuzzer's
  // -use_value_profile=1 does for its own compares: one slot per (compare
  // site, Hamming distance of the operands) and one per (site, bit length of
  // their difference), so an input that gets closer to a magic value is new
  // coverage. Needs cmp_hints. Grows the corpus, like libFuzzer's value
  // profile.
  bool value_profile = false;
  // One run per input (the default): the collector runs in counters mode
  // (docs/kcov.md,
  // "Counters mode") with a map of kLibFuzzerCounterSlots counters, copied
  // slot for slot into the extra counters, and (cmp_hints) records the
  // input's comparisons in the same run; no helper thread, no second run.
  // The service's trace_pc calls must go to __remcov_cov_trace_pc_counting
  // (cmake/RemcovLibFuzzer.cmake renames them so), and trace-pc-guard sites
  // count collision-free. Slots are remcov_counter_slot's, not SlotOf's;
  // last_pcs() is then empty and LibFuzzerStats::last_pcs counts the slots
  // set. cmp_words sizes the comparison trace after the map. false: the PC
  // trace folded by SlotOf, and comparisons from a second run (cmp_hints),
  // for services whose trace_pc calls do not reach the counting entry.
  bool single_run = true;
};

struct LibFuzzerStats {
  uint64_t runs = 0;           // RunOne calls
  uint64_t overflow_runs = 0;  // runs whose coverage did not fit a collector
  uint64_t last_pcs = 0;       // PCs recorded for the last input (single_run:
                               // counters set)
  uint64_t last_cmps = 0;      // comparison records of the last input
};

class REMCOV_EXPORT LibFuzzerAdaptor {
 public:
  // Opens and enables the collectors: the calling thread becomes the PC
  // collector's owner and gets a common handle. REQUIRES: the calling thread
  // has no enabled collector; create the service (its threads inherit their
  // creator's handle) before the adaptor. Errors: those of Collector::Open
  // and EnableRemote (e.g. kFailedPrecondition if this thread already traces).
  static StatusOr<std::unique_ptr<LibFuzzerAdaptor>> Create(
      const LibFuzzerOptions& options = {});
  // Disables the collectors and stops the helper thread. Must run on the
  // creating thread.
  ~LibFuzzerAdaptor();
  LibFuzzerAdaptor(const LibFuzzerAdaptor&) = delete;
  LibFuzzerAdaptor& operator=(const LibFuzzerAdaptor&) = delete;

  // Clears the extra counters, runs run() attributed to the PC collector and
  // folds its PCs into the counters, then (cmp_hints) runs it attributed to
  // the CMP collector and replays the records. With single_run: one run,
  // whose counters are copied and whose records are replayed. run() must return
  // only after the input's work has finished (e.g. after waiting for the pool's
  // future: its remote section has ended and been moved by then). Returns
  // kDataLoss if a collector's area fails validation; coverage lost to overflow
  // is counted, not an error.
  Status RunOne(const std::function<void()>& run);

  // The common handles (for tests and for work the harness hands to threads
  // that do not inherit the submitter's handle).
  uint64_t pc_handle() const { return pc_handle_; }
  uint64_t cmp_handle() const { return cmp_handle_; }
  // What the last RunOne recorded (views valid until the next RunOne).
  std::span<const uint64_t> last_pcs() const;
  std::span<const CmpRecord> last_cmps() const;
  const LibFuzzerStats& stats() const { return stats_; }

  // The extra-counters array (in the __libfuzzer_extra_counters section).
  static std::span<uint8_t> Counters();
  // The slot a PC is counted in: a hash of its module and offset (not of
  // its address, which ASLR changes from run to run).
  static size_t SlotOf(uint64_t pc);
  // The two slots value_profile sets for a comparison record.
  static size_t HammingSlotOf(const CmpRecord& r);
  static size_t DistanceSlotOf(const CmpRecord& r);

 private:
  // The thread that owns the CMP collector (libfuzzer_adaptor.cc).
  class CmpHelper;

  LibFuzzerAdaptor(const LibFuzzerOptions& options, Collector pc,
                   uint64_t pc_handle);
  // RunOne with single_run.
  Status RunOnce(const std::function<void()>& run);
  // Replays cmps_ into libFuzzer's hooks, and sets the value profile's
  // counters.
  void FeedComparisons();

  LibFuzzerOptions options_;
  Collector pc_;
  uint64_t pc_handle_ = 0;
  uint64_t cmp_handle_ = 0;
  LibFuzzerStats stats_;
  std::vector<CmpRecord> cmps_;        // copied from the helper's collector
  std::unique_ptr<CmpHelper> helper_;  // null without comparison hints
};

}  // namespace remcov

#endif  // REMCOV_LIBFUZZER_H_
