// SPDX-License-Identifier: Apache-2.0
// The libFuzzer adaptor (include/remcov/libfuzzer.h): remote collectors per
// fuzzer process, folded into libFuzzer's extra counters and compare hooks.
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "remcov/libfuzzer.h"
#include "remcov/remcov.h"

#include "base/byte_lanes.h"
#include "fuzz_common/dropped.h"
#include "fuzz_common/pc_key.h"

// libFuzzer's compare hooks (its runtime defines them; the copy of remcov's
// runtime linked into fuzz targets keeps its own under __remcov_cov_* only).
#include "runtime/callbacks.h"

namespace remcov {

namespace {

// libFuzzer 14 finds the array through the linker-defined
// __start_/__stop___libfuzzer_extra_counters (weak references in its
// runtime), so the section name must be exactly this and the array must be
// kept even though nothing here reads it by name after folding.
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t g_counters[kLibFuzzerCounterSlots];

constexpr unsigned kSlotBits = 16;
static_assert(kLibFuzzerCounterSlots == size_t{1} << kSlotBits);

// Distinct common handles for every adaptor in the process and in every
// process at once: the pid (below 2^22, the kernel's PID_MAX_LIMIT) in the
// high 22 bits of the instance, a per-process count in the low 10. So
// libFuzzer's -fork/-jobs workers, each a process with its own adaptor, never
// collide in a domain (src/runtime/domain.h), where handles are unique among
// all members as the kernel's are system-wide.
std::atomic<uint32_t> g_next_handle{0};
uint64_t NextCommonHandle() {
  const uint32_t n = g_next_handle.fetch_add(1, std::memory_order_relaxed);
  const uint32_t pid = static_cast<uint32_t>(getpid()) & 0x3fffffu;
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON,
                                   pid << 10 | (n & 0x3ffu));
}

// One record into libFuzzer's hooks. Constant operands first, as in KCOV
// records and in libFuzzer's own instrumentation.
void Replay(const CmpRecord& r) {
  const bool c = r.is_const();
  switch (r.size()) {
    case 1:
      c ? __sanitizer_cov_trace_const_cmp1(static_cast<uint8_t>(r.arg1),
                                           static_cast<uint8_t>(r.arg2))
        : __sanitizer_cov_trace_cmp1(static_cast<uint8_t>(r.arg1),
                                     static_cast<uint8_t>(r.arg2));
      break;
    case 2:
      c ? __sanitizer_cov_trace_const_cmp2(static_cast<uint16_t>(r.arg1),
                                           static_cast<uint16_t>(r.arg2))
        : __sanitizer_cov_trace_cmp2(static_cast<uint16_t>(r.arg1),
                                     static_cast<uint16_t>(r.arg2));
      break;
    case 4:
      c ? __sanitizer_cov_trace_const_cmp4(static_cast<uint32_t>(r.arg1),
                                           static_cast<uint32_t>(r.arg2))
        : __sanitizer_cov_trace_cmp4(static_cast<uint32_t>(r.arg1),
                                     static_cast<uint32_t>(r.arg2));
      break;
    default:
      c ? __sanitizer_cov_trace_const_cmp8(r.arg1, r.arg2)
        : __sanitizer_cov_trace_cmp8(r.arg1, r.arg2);
      break;
  }
}

}  // namespace

std::span<uint8_t> LibFuzzerAdaptor::Counters() {
  return {g_counters, kLibFuzzerCounterSlots};
}

namespace {
// PCs keyed by module and offset (src/fuzz_common/pc_key.h).
using fuzz::StablePc;
size_t Hash(uint64_t key) { return fuzz::FibonacciSlot(key, kSlotBits); }
}  // namespace

size_t LibFuzzerAdaptor::SlotOf(uint64_t pc) { return Hash(StablePc(pc)); }

// libFuzzer's value profile (TracePC::HandleCmp): per compare site, the
// Hamming distance of the operands (0..64) and the bit length of their
// difference (0..65), each its own slot.
size_t LibFuzzerAdaptor::HammingSlotOf(const CmpRecord& r) {
  const uint64_t d =
      static_cast<uint64_t>(__builtin_popcountll(r.arg1 ^ r.arg2));
  return Hash(StablePc(r.ip) * 256 + d);
}

size_t LibFuzzerAdaptor::DistanceSlotOf(const CmpRecord& r) {
  const uint64_t d =
      r.arg1 == r.arg2
          ? 0
          : static_cast<uint64_t>(__builtin_clzll(r.arg1 - r.arg2)) + 1;
  return Hash(StablePc(r.ip) * 256 + 128 + d);
}

// The CMP collector must be enabled, reset and disabled on one thread (the
// KCOV rule), and run() must not run on two threads at once: the helper thread
// owns the collector and runs each job posted to it while the owner waits.
class LibFuzzerAdaptor::CmpHelper {
 public:
  // Starts the thread, which opens and enables its collector with `handle`;
  // the error of that setup, if any.
  static StatusOr<std::unique_ptr<CmpHelper>> Start(size_t words,
                                                    uint64_t handle) {
    std::unique_ptr<CmpHelper> h(new CmpHelper());
    h->thread_ =
        std::thread([p = h.get(), words, handle] { p->Main(words, handle); });
    std::unique_lock<std::mutex> lock(h->mu_);
    h->cv_.wait(lock, [&h] { return h->ready_; });
    if (!h->status_.ok()) return h->status_;  // the thread has returned
    return h;
  }
  ~CmpHelper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Runs job on the helper thread attributed to its collector; copies the
  // records into *cmps and says whether they overflowed the collector.
  Status Run(const std::function<void()>& job, std::vector<CmpRecord>* cmps,
             bool* overflow) {
    std::unique_lock<std::mutex> lock(mu_);
    job_ = &job;
    job_done_ = false;
    cv_.notify_all();
    cv_.wait(lock, [this] { return job_done_; });
    // The mutex orders the helper's copies before these reads.
    cmps->swap(cmps_);
    *overflow = overflow_;
    return status_;
  }

 private:
  CmpHelper() = default;

  void Main(size_t words, uint64_t handle) {
    Status status;
    StatusOr<Collector> col = Collector::Open(RuntimeBackend(), words);
    if (!col.ok()) {
      status = col.status();
    } else {
      RemoteOptions ro;
      ro.mode = TraceMode::kCmp;
      ro.common_handle = handle;
      status = col->EnableRemote(ro);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_ = true;
      status_ = status;
    }
    cv_.notify_all();
    if (!status.ok()) return;
    for (;;) {
      const std::function<void()>* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || job_ != nullptr; });
        if (stop_) break;
        job = job_;
      }
      // This thread enabled the trace, so the reset cannot be refused; should
      // that change, the run reports it instead of mixing two inputs' records.
      const Status reset = col->Reset();
      (*job)();
      // Overflow is counted, not an error; otherwise the (user-writable)
      // area must hold valid records.
      const bool overflow =
          fuzz::InputOverflowed(*col, TraceMode::kCmp, &dropped_seen_);
      Status s = !reset.ok() ? reset
                 : overflow  ? Status()
                             : col->Validate(TraceMode::kCmp);
      {
        std::lock_guard<std::mutex> lock(mu_);
        cmps_.assign(col->Cmps().begin(), col->Cmps().end());
        status_ = s;
        overflow_ = overflow;
        job_ = nullptr;
        job_done_ = true;
      }
      cv_.notify_all();
    }
    (void)col->Disable();
  }

  // Guarded by mu_: the setup handshake, the job posted, its result, stop.
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  bool stop_ = false;
  const std::function<void()>* job_ = nullptr;
  bool job_done_ = false;
  Status status_;
  std::vector<CmpRecord> cmps_;
  bool overflow_ = false;
  uint64_t dropped_seen_ = 0;  // the CMP device's dropped entries (helper)
  std::thread thread_;
};

LibFuzzerAdaptor::LibFuzzerAdaptor(const LibFuzzerOptions& options,
                                   Collector pc, uint64_t pc_handle)
    : options_(options), pc_(std::move(pc)), pc_handle_(pc_handle) {}

StatusOr<std::unique_ptr<LibFuzzerAdaptor>> LibFuzzerAdaptor::Create(
    const LibFuzzerOptions& options) {
  (void)fuzz::Segments();  // once, before any input
  // single_run: the map, then the comparison trace.
  const size_t words = options.single_run
                           ? remcov_kcov_counters_map_words(kSlotBits) +
                                 (options.cmp_hints ? options.cmp_words : 1)
                           : options.pc_words;
  auto pc = Collector::Open(RuntimeBackend(), words);
  if (!pc.ok()) return pc.status();
  std::unique_ptr<LibFuzzerAdaptor> a(
      new LibFuzzerAdaptor(options, std::move(pc).value(), NextCommonHandle()));
  // The helper first: a thread inherits its creator's common handle, and the
  // helper needs its own.
  if (options.cmp_hints && !options.single_run) {
    a->cmp_handle_ = NextCommonHandle();
    auto helper = CmpHelper::Start(options.cmp_words, a->cmp_handle_);
    if (!helper.ok()) return helper.status();
    a->helper_ = std::move(helper).value();
  }
  RemoteOptions ro;
  ro.mode = TraceMode::kPc;
  ro.common_handle = a->pc_handle_;
  if (options.single_run) {
    ro.counters = CounterOptions{kSlotBits, options.cmp_hints};
    // Each section's comparison trace: as large as the collector's.
    ro.area_words = static_cast<uint32_t>(
        options.cmp_hints ? std::min<size_t>(options.cmp_words, UINT32_MAX)
                          : 1);
  }
  REMCOV_RETURN_IF_ERROR(a->pc_.EnableRemote(ro));
  return a;
}

LibFuzzerAdaptor::~LibFuzzerAdaptor() {
  helper_.reset();  // stops and joins the helper thread
  if (pc_.enabled()) (void)pc_.Disable();
}

Status LibFuzzerAdaptor::RunOne(const std::function<void()>& run) {
  stats_.runs++;
  // libFuzzer clears the array before each input as well; clearing here
  // keeps the adaptor correct on its own (and in tests without libFuzzer).
  memset(g_counters, 0, sizeof g_counters);

  if (options_.single_run) return RunOnce(run);
  REMCOV_RETURN_IF_ERROR(pc_.Reset());
  uint64_t pc_dropped = fuzz::DroppedEntries(pc_);
  run();
  const bool pc_overflow =
      fuzz::InputOverflowed(pc_, TraceMode::kPc, &pc_dropped);
  if (!pc_overflow) REMCOV_RETURN_IF_ERROR(pc_.Validate(TraceMode::kPc));
  stats_.overflow_runs += pc_overflow;
  std::span<const uint64_t> pcs = pc_.Pcs();  // clamped to capacity
  stats_.last_pcs = pcs.size();
  for (uint64_t pc : pcs) {
    uint8_t& c = g_counters[SlotOf(pc)];
    if (c != 255) c++;
  }

  if (!options_.cmp_hints) {
    cmps_.clear();
    stats_.last_cmps = 0;
    return Status();
  }
  bool cmp_overflow = false;
  const Status cmp_status = helper_->Run(run, &cmps_, &cmp_overflow);
  stats_.overflow_runs += cmp_overflow;
  REMCOV_RETURN_IF_ERROR(cmp_status);
  FeedComparisons();
  return Status();
}

Status LibFuzzerAdaptor::RunOnce(const std::function<void()>& run) {
  // The map was taken (so zeroed) after the previous input: the reset only
  // reads it, and resets the comparison trace's count.
  REMCOV_RETURN_IF_ERROR(pc_.Reset());
  uint64_t dropped = fuzz::DroppedEntries(pc_);
  run();
  // The map is libFuzzer's array slot for slot (both 2^kSlotBits bytes),
  // which RunOne zeroed.
  static_assert(sizeof g_counters == size_t{1} << kSlotBits);
  stats_.last_pcs = pc_.TakeCounters(g_counters);
  cmps_.clear();
  stats_.last_cmps = 0;
  if (!options_.cmp_hints) return Status();
  // Records that did not fit are counted (an overflowed run is fed the
  // records that fit); otherwise the user-writable trace must be valid.
  const bool overflow = fuzz::InputOverflowed(pc_, TraceMode::kCmp, &dropped);
  stats_.overflow_runs += overflow;
  if (!overflow) REMCOV_RETURN_IF_ERROR(pc_.Validate(TraceMode::kCmp));
  cmps_.assign(pc_.Cmps().begin(), pc_.Cmps().end());
  FeedComparisons();
  return Status();
}

void LibFuzzerAdaptor::FeedComparisons() {
  stats_.last_cmps = cmps_.size();
  for (const CmpRecord& r : cmps_) {
    Replay(r);
    if (!options_.value_profile) continue;
    // Presence, not a count: libFuzzer's value profile is a bitmap. Counting
    // made every loop over a compare (a byte-by-byte string match) a source
    // of new hit-count buckets and grew the corpus with them.
    for (size_t slot : {HammingSlotOf(r), DistanceSlotOf(r)}) {
      uint8_t& c = g_counters[slot];
      if (c == 0) c = 1;
    }
  }
}

std::span<const uint64_t> LibFuzzerAdaptor::last_pcs() const {
  if (options_.single_run) return {};
  return pc_.Pcs();
}

std::span<const CmpRecord> LibFuzzerAdaptor::last_cmps() const { return cmps_; }

}  // namespace remcov
