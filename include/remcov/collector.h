// SPDX-License-Identifier: Apache-2.0
// remcov's C++ client API: RAII collectors over a KCOV device, with typed views
// of the PC and comparison areas (trace_records.h), and the options of a
// remote trace. The same Collector works over the in-process
// runtime (RuntimeBackend) and over the kernel's /sys/kernel/debug/kcov
// (a kernel backend); both speak the kernel's ABI through a Backend.
//
// Thread safety: a Collector is not synchronized; use one per thread, or guard
// it. Reading (RawCount, Pcs, Cmps, Validate) from a thread other than the
// writers is safe: the count is loaded with acquire, which pairs with the
// writers' release (local appends and remote moves), so a reader sees a
// consistent prefix. Enable/Disable must be called on the thread to trace (the
// kernel's rule: one thread per device, one device per thread).
//
// Resetting (Reset, DrainPcs, DrainCmps) follows the kernel's rule for whose
// count it is. A local trace (Enable) is written by its thread with a plain
// load and store of word 0 (kernel/kcov.c, __sanitizer_cov_trace_pc), so only
// that thread may reset it while it is enabled: from any other thread these
// calls return kFailedPrecondition and change nothing (a reset there would be
// overwritten by the next append, and the entries drained again). A remote
// trace (EnableRemote) is published by compare-and-swap, so any one thread may
// drain it concurrently with the moves, losslessly (on the kernel backend with
// possible duplicates: docs/client.md). A disabled trace may be reset from
// anywhere.
#ifndef REMCOV_COLLECTOR_H_
#define REMCOV_COLLECTOR_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>
#include <optional>
#include <span>
#include <vector>

// The Collector's vocabulary, each in its own header (and included here, so
// code written against this header keeps compiling): the device calls
// (Backend), the trace modes and comparison records, and PcSet.
#include "remcov/backend.h"
#include "remcov/export.h"
#include "remcov/pc_set.h"
#include "remcov/status.h"
#include "remcov/trace_records.h"

namespace remcov {

// remcov's counters mode (kcov_abi.h, REMCOV_KCOV_TRACE_COUNTERS; docs/kcov.md,
// "Counters mode"): an extension of the in-process runtime, for fuzzers. The
// area starts with a map of 2^map_bits one-byte counters, one per coverage
// slot, each saturating at 255; with `comparisons`, the rest of the area is a
// comparison trace (Cmps), so one run gives both. The kernel answers EINVAL.
struct CounterOptions {
  unsigned map_bits = 16;    // REMCOV_KCOV_COUNTERS_MIN_BITS..MAX_BITS
  bool comparisons = false;  // also record comparisons (needs trace-cmp)
};

struct RemoteOptions {
  TraceMode mode = TraceMode::kPc;
  // Set: counters mode (`mode` is then ignored; area_words sizes the
  // comparison trace of each section).
  std::optional<CounterOptions> counters;
  std::vector<uint64_t> handles;  // USB-subsystem handles (at most 256)
  uint64_t common_handle = 0;     // 0 = none, else a COMMON handle
  uint32_t area_words = 0;        // private area per section; 0 = buffer size
};

class REMCOV_EXPORT Collector {
 public:
  // Opens a device on `backend`, sizes it to at least `words` words (rounded
  // up to whole pages, as the kernel's mmap requires) and maps it between two
  // PROT_NONE guard pages. REQUIRES: backend outlives the Collector.
  static StatusOr<Collector> Open(Backend& backend, size_t words);

  Collector(Collector&& other) noexcept;
  Collector& operator=(Collector&& other) noexcept;
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  // Disables (if this thread enabled it), unmaps and closes.
  ~Collector();

  // KCOV_ENABLE on the calling thread, then resets the count (the tail of the
  // enable call itself may have been traced).
  Status Enable(TraceMode mode);
  // KCOV_ENABLE in counters mode on the calling thread; then Reset.
  // kInvalidArgument when the map (and a comparison trace of at least one
  // record) does not fit the buffer.
  Status EnableCounters(const CounterOptions& options);
  // KCOV_REMOTE_ENABLE; the calling thread becomes the owner.
  Status EnableRemote(const RemoteOptions& options);
  // KCOV_DISABLE; must run on the enabling thread.
  Status Disable();

  // The raw count in word 0 (acquire load), not clamped.
  uint64_t RawCount() const;
  // Capacity in entries for a mode: size-1 PCs, (size-1)/4 records.
  uint64_t Capacity(TraceMode mode) const;
  // The published PCs / records, clamped to capacity. Views alias the mapping:
  // valid until the next Reset/Drain or the Collector's destruction.
  std::span<const uint64_t> Pcs() const;
  std::span<const CmpRecord> Cmps() const;
  // OK, or kDataLoss when the count exceeds capacity or a record's type is not
  // a valid KCOV_CMP type (the mapping is user-writable: never trusted).
  Status Validate(TraceMode mode) const;
  // Counters mode: the map (empty otherwise). Remote sections add into it at
  // their end; read it once the input's sections have ended. A view of the
  // mapping, valid until the Collector's destruction.
  std::span<const uint8_t> Counters() const;
  // Counters mode: adds nothing, but moves the map's nonzero counters into
  // out (Counters().size() bytes, which the caller has zeroed) and zeroes
  // them in the map; returns how many were nonzero. Faster than reading
  // Counters() and calling Reset(): a zero block of the map is only read.
  // Safe while sections move into the map (their counts are taken now or
  // next time).
  uint64_t TakeCounters(uint8_t* out);
  // Resets the count: a relaxed store of 0 (the kernel's documented reset);
  // in counters mode also zeroes the map.
  // kFailedPrecondition, and nothing changed, when a local trace is enabled
  // on another thread (see Thread safety above).
  Status Reset();
  // Appends every published entry to *out and resets the count; returns how
  // many were appended. On a remote trace this is lossless while moves go on
  // concurrently. kFailedPrecondition, with *out and the area untouched, when
  // a local trace is enabled on another thread.
  StatusOr<uint64_t> DrainPcs(std::vector<uint64_t>* out);
  StatusOr<uint64_t> DrainCmps(std::vector<CmpRecord>* out);

  int fd() const { return fd_; }
  size_t words() const { return words_; }
  bool enabled() const { return enabled_; }
  Backend& backend() const { return *backend_; }

 private:
  Collector(Backend* backend, int fd, size_t words, void* reservation,
            size_t reservation_bytes, uint64_t* area);
  void Release();
  // OK when the calling thread may reset the count (see Thread safety).
  Status CheckMayReset(const char* call);
  // Lays out the area for counters mode (map_bits 0: the kernel's modes).
  Status SetLayout(unsigned map_bits, bool comparisons);

  Backend* backend_ = nullptr;
  int fd_ = -1;
  size_t words_ = 0;
  void* reservation_ = nullptr;  // guard + area + guard
  size_t reservation_bytes_ = 0;
  uint64_t* area_ = nullptr;
  // The trace part: the whole area, or (counters mode) what follows the map.
  uint64_t* trace_ = nullptr;
  size_t trace_words_ = 0;
  size_t map_bytes_ = 0;  // counters mode: the map's size, else 0
  bool enabled_ = false;
  TraceMode mode_ = TraceMode::kPc;
  // The thread id that enabled a local trace, 0 when none is enabled; read by
  // CheckMayReset on any thread.
  std::atomic<pid_t> local_owner_{0};
};

}  // namespace remcov

#endif  // REMCOV_COLLECTOR_H_
