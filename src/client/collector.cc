// SPDX-License-Identifier: Apache-2.0
// Collector: open, size, map (with guard pages), enable, read and drain a KCOV
// area through a Backend. Reads follow the shared-area protocol of
// area/shared_area.h (acquire load of the count; lossless CAS drain).
#include "remcov/collector.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <utility>

#include "area/shared_area.h"
#include "base/byte_lanes.h"

namespace remcov {
namespace {

using Area = internal::SharedArea<internal::StdPublishPolicy>;

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

Status CallError(const Backend& b, const char* call, int err) {
  Status s = Status::FromErrno(err, b.Explain(call, err));
  return s;
}

}  // namespace

Collector::Collector(Backend* backend, int fd, size_t words, void* reservation,
                     size_t reservation_bytes, uint64_t* area)
    : backend_(backend),
      fd_(fd),
      words_(words),
      reservation_(reservation),
      reservation_bytes_(reservation_bytes),
      area_(area),
      trace_(area),
      trace_words_(words) {}

StatusOr<Collector> Collector::Open(Backend& backend, size_t words) {
  if (backend.WordBytes() != 8) {
    return Status(StatusCode::kUnimplemented,
                  "only 64-bit kernel words are supported by Collector views");
  }
  if (words < 2) words = 2;
  const size_t page = PageSize();
  // The kernel's mmap wants exactly size words in whole pages.
  size_t bytes = remcov_area_bytes(words, page);
  words = bytes / 8;
  int fd = backend.Open();
  if (fd < 0) return CallError(backend, "open", errno);
  if (backend.Ioctl(fd, backend.InitTraceCmd(), words) != 0) {
    int err = errno;
    backend.Close(fd);
    return CallError(backend, "KCOV_INIT_TRACE", err);
  }
  // Guard pages around the mapping (syzkaller #4532): a stray access next to
  // the area faults instead of corrupting a neighbour.
  size_t res_bytes = bytes + 2 * page;
  void* res =
      mmap(nullptr, res_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (res == MAP_FAILED) {
    int err = errno;
    backend.Close(fd);
    return Status::FromErrno(err, "reserving the coverage mapping");
  }
  void* want = static_cast<char*>(res) + page;
  void* p = backend.Mmap(want, bytes, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    munmap(res, res_bytes);
    backend.Close(fd);
    return CallError(backend, "mmap", err);
  }
  return Collector(&backend, fd, words, res, res_bytes,
                   static_cast<uint64_t*>(p));
}

Collector::Collector(Collector&& other) noexcept { *this = std::move(other); }

Collector& Collector::operator=(Collector&& other) noexcept {
  if (this != &other) {
    Release();
    backend_ = std::exchange(other.backend_, nullptr);
    fd_ = std::exchange(other.fd_, -1);
    words_ = std::exchange(other.words_, 0);
    reservation_ = std::exchange(other.reservation_, nullptr);
    reservation_bytes_ = std::exchange(other.reservation_bytes_, 0);
    area_ = std::exchange(other.area_, nullptr);
    trace_ = std::exchange(other.trace_, nullptr);
    trace_words_ = std::exchange(other.trace_words_, 0);
    map_bytes_ = std::exchange(other.map_bytes_, 0);
    enabled_ = std::exchange(other.enabled_, false);
    mode_ = other.mode_;
    local_owner_.store(
        other.local_owner_.exchange(0, std::memory_order_relaxed),
        std::memory_order_relaxed);
  }
  return *this;
}

Collector::~Collector() { Release(); }

void Collector::Release() {
  if (backend_ == nullptr) return;
  if (enabled_)
    (void)Disable();  // EINVAL off the enabling thread: then the
                      // device lives until that thread exits.
  if (reservation_ != nullptr) munmap(reservation_, reservation_bytes_);
  if (fd_ >= 0) backend_->Close(fd_);
  backend_ = nullptr;
  fd_ = -1;
  area_ = nullptr;
  reservation_ = nullptr;
  local_owner_.store(0, std::memory_order_relaxed);
}

Status Collector::SetLayout(unsigned map_bits, bool comparisons) {
  if (map_bits == 0) {
    trace_ = area_;
    trace_words_ = words_;
    map_bytes_ = 0;
    return Status::Ok();
  }
  if (map_bits < REMCOV_KCOV_COUNTERS_MIN_BITS ||
      map_bits > REMCOV_KCOV_COUNTERS_MAX_BITS) {
    return Status(StatusCode::kInvalidArgument,
                  "counters map of 2^" + std::to_string(map_bits) +
                      " slots: the size must be 2^" +
                      std::to_string(REMCOV_KCOV_COUNTERS_MIN_BITS) + " to 2^" +
                      std::to_string(REMCOV_KCOV_COUNTERS_MAX_BITS),
                  EINVAL);
  }
  const uint64_t map_words = remcov_kcov_counters_map_words(map_bits);
  // After the map: a count word (always read), and with comparisons room for
  // at least one record.
  if (words_ < map_words + (comparisons ? 5 : 1)) {
    return Status(StatusCode::kInvalidArgument,
                  "a buffer of " + std::to_string(words_) +
                      " words cannot hold a map of 2^" +
                      std::to_string(map_bits) + " counters (" +
                      std::to_string(map_words) + " words) and " +
                      (comparisons ? "a comparison record" : "a count word"),
                  EINVAL);
  }
  trace_ = area_ + map_words;
  trace_words_ = words_ - map_words;
  map_bytes_ = map_words * 8;
  return Status::Ok();
}

Status Collector::EnableCounters(const CounterOptions& o) {
  REMCOV_RETURN_IF_ERROR(SetLayout(o.map_bits, o.comparisons));
  const unsigned long arg = REMCOV_KCOV_TRACE_COUNTERS(o.map_bits) |
                            (o.comparisons ? REMCOV_KCOV_TRACE_CMP : 0u);
  if (backend_->Ioctl(fd_, REMCOV_KCOV_ENABLE, arg) != 0) {
    const int err = errno;
    (void)SetLayout(0, false);
    return CallError(*backend_, "KCOV_ENABLE (counters mode)", err);
  }
  enabled_ = true;
  mode_ = o.comparisons ? TraceMode::kCmp : TraceMode::kPc;
  local_owner_.store(gettid(), std::memory_order_relaxed);
  return Reset();
}

Status Collector::Enable(TraceMode mode) {
  REMCOV_RETURN_IF_ERROR(SetLayout(0, false));
  if (backend_->Ioctl(fd_, REMCOV_KCOV_ENABLE,
                      static_cast<unsigned long>(mode)) != 0)
    return CallError(*backend_, "KCOV_ENABLE", errno);
  enabled_ = true;
  mode_ = mode;
  local_owner_.store(gettid(), std::memory_order_relaxed);
  return Reset();  // the tail of the enable call may have been traced
}

Status Collector::EnableRemote(const RemoteOptions& o) {
  if (o.handles.size() > REMCOV_KCOV_REMOTE_MAX_HANDLES) {
    return Status(StatusCode::kInvalidArgument,
                  "at most 256 remote handles (KCOV_REMOTE_MAX_HANDLES)",
                  EINVAL);
  }
  std::vector<uint64_t> buf(3 + o.handles.size());
  auto* arg = reinterpret_cast<remcov_kcov_remote_arg*>(buf.data());
  arg->trace_mode = static_cast<uint32_t>(o.mode);
  if (o.counters.has_value()) {
    REMCOV_RETURN_IF_ERROR(
        SetLayout(o.counters->map_bits, o.counters->comparisons));
    arg->trace_mode = REMCOV_KCOV_TRACE_COUNTERS(o.counters->map_bits) |
                      (o.counters->comparisons ? REMCOV_KCOV_TRACE_CMP : 0u);
  } else {
    REMCOV_RETURN_IF_ERROR(SetLayout(0, false));
  }
  arg->area_size =
      o.area_words != 0 ? o.area_words : static_cast<uint32_t>(words_);
  arg->num_handles = static_cast<uint32_t>(o.handles.size());
  arg->common_handle = o.common_handle;
  for (size_t i = 0; i < o.handles.size(); i++) buf[3 + i] = o.handles[i];
  if (backend_->Ioctl(fd_, REMCOV_KCOV_REMOTE_ENABLE,
                      reinterpret_cast<unsigned long>(buf.data())) != 0) {
    const int err = errno;
    (void)SetLayout(0, false);
    return CallError(*backend_, "KCOV_REMOTE_ENABLE", err);
  }
  enabled_ = true;
  mode_ = o.counters.has_value()
              ? (o.counters->comparisons ? TraceMode::kCmp : TraceMode::kPc)
              : o.mode;
  return Status::Ok();
}

Status Collector::Disable() {
  if (backend_->Ioctl(fd_, REMCOV_KCOV_DISABLE, 0) != 0)
    return CallError(*backend_, "KCOV_DISABLE", errno);
  enabled_ = false;
  local_owner_.store(0, std::memory_order_relaxed);
  return Status::Ok();
}

uint64_t Collector::RawCount() const {
  // Pairs with the release publication of local appends and remote moves.
  return Area::LoadCount(trace_[0]);
}

uint64_t Collector::Capacity(TraceMode mode) const {
  return remcov_area_capacity(trace_words_, mode == TraceMode::kCmp
                                                ? REMCOV_AREA_CMP_ENTRY_WORDS
                                                : REMCOV_AREA_PC_ENTRY_WORDS);
}

std::span<const uint64_t> Collector::Pcs() const {
  // Clamped: never trusted, the mapping is user-writable.
  const uint64_t n = Area::Published(trace_[0], Capacity(TraceMode::kPc));
  return {trace_ + 1, static_cast<size_t>(n)};
}

std::span<const CmpRecord> Collector::Cmps() const {
  const uint64_t n = Area::Published(trace_[0], Capacity(TraceMode::kCmp));
  return {reinterpret_cast<const CmpRecord*>(trace_ + 1),
          static_cast<size_t>(n)};
}

Status Collector::Validate(TraceMode mode) const {
  uint64_t n = RawCount();
  if (n > Capacity(mode)) {
    return Status(StatusCode::kDataLoss,
                  "count " + std::to_string(n) + " exceeds the capacity " +
                      std::to_string(Capacity(mode)) + ": corrupted area");
  }
  if (mode == TraceMode::kCmp) {
    auto recs = Cmps();
    for (size_t i = 0; i < recs.size(); i++) {
      if (!recs[i].valid()) {
        return Status(StatusCode::kDataLoss,
                      "comparison record " + std::to_string(i) + " has type " +
                          std::to_string(recs[i].type) +
                          " (> 7): corrupted area");
      }
    }
  }
  return Status::Ok();
}

Status Collector::CheckMayReset(const char* call) {
  pid_t owner = local_owner_.load(std::memory_order_relaxed);
  if (owner == 0 || owner == gettid()) return Status::Ok();
  // A thread that exited has had its trace disabled at exit, as a kernel task's
  // is (kernel/kcov.c, kcov_task_exit): its count is nobody's to write now.
  if (tgkill(getpid(), owner, 0) != 0 && errno == ESRCH) {
    local_owner_.compare_exchange_strong(owner, 0, std::memory_order_relaxed);
    return Status::Ok();
  }
  return Status(StatusCode::kFailedPrecondition,
                std::string(call) + " from thread " + std::to_string(gettid()) +
                    ": the local trace is enabled on thread " +
                    std::to_string(owner) +
                    ", which alone writes its count; reset it there, or "
                    "Disable() it first (only remote traces drain from any "
                    "thread)");
}

std::span<const uint8_t> Collector::Counters() const {
  return {reinterpret_cast<const uint8_t*>(area_), map_bytes_};
}

uint64_t Collector::TakeCounters(uint8_t* out) {
  uint64_t set = 0;
  for (size_t b = 0; b < map_bytes_ / 8; b += internal::kLaneBlockWords) {
    if (internal::BlockIsZero(area_ + b)) continue;
    for (size_t i = b; i < b + internal::kLaneBlockWords; i++) {
      // An exchange: a section's move that adds meanwhile is either taken
      // here or left for the next take, never lost.
      const uint64_t w = std::atomic_ref<uint64_t>(area_[i]).exchange(
          0, std::memory_order_relaxed);
      if (w == 0) continue;
      memcpy(out + 8 * i, &w, 8);
      set += internal::NonzeroBytes(w);
    }
  }
  return set;
}

Status Collector::Reset() {
  REMCOV_RETURN_IF_ERROR(CheckMayReset("Reset"));
  // Relaxed word accesses: a section's move may add into the map meanwhile
  // (its counts then land in this input or are cleared with it). Blocks
  // already zero are only read.
  for (size_t b = 0; b < map_bytes_ / 8; b += internal::kLaneBlockWords) {
    if (internal::BlockIsZero(area_ + b)) continue;
    for (size_t i = b; i < b + internal::kLaneBlockWords; i++)
      std::atomic_ref<uint64_t>(area_[i]).store(0, std::memory_order_relaxed);
  }
  Area::ResetOwner(trace_[0]);
  return Status::Ok();
}

StatusOr<uint64_t> Collector::DrainPcs(std::vector<uint64_t>* out) {
  REMCOV_RETURN_IF_ERROR(CheckMayReset("DrainPcs"));
  return Area::Drain(trace_[0], trace_, Capacity(TraceMode::kPc),
                     [out](uint64_t* slots, uint64_t first, uint64_t end) {
                       out->insert(out->end(), slots + 1 + first,
                                   slots + 1 + end);
                     });
}

StatusOr<uint64_t> Collector::DrainCmps(std::vector<CmpRecord>* out) {
  REMCOV_RETURN_IF_ERROR(CheckMayReset("DrainCmps"));
  return Area::Drain(trace_[0], trace_, Capacity(TraceMode::kCmp),
                     [out](uint64_t* slots, uint64_t first, uint64_t end) {
                       auto* recs =
                           reinterpret_cast<const CmpRecord*>(slots + 1);
                       out->insert(out->end(), recs + first, recs + end);
                     });
}

}  // namespace remcov
