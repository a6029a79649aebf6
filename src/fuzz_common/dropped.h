// SPDX-License-Identifier: Apache-2.0
// What an input's coverage lost, for the fuzzer adaptors (src/libfuzzer/,
// src/afl/). Header-only and internal (not installed).
//
// A local trace never counts past its capacity (the callbacks count what
// does not fit in the device's overflow counter instead), and neither does a
// remote section's move into a full collector: word 0 alone cannot tell that
// an input's coverage is partial. The device's counters can (remcov/stats.inc):
// entries that did not fit the shared area, and entries that did not fit a
// section's private area.
#ifndef REMCOV_FUZZ_COMMON_DROPPED_H_
#define REMCOV_FUZZ_COMMON_DROPPED_H_

#include <stdint.h>

#include "remcov/collector.h"
#include "remcov/remcov.h"

namespace remcov::fuzz {

// The device's dropped entries so far (cumulative); 0 when the collector's
// descriptor is not a runtime device.
inline uint64_t DroppedEntries(const Collector& c) {
  remcov_device_stats_t st;
  if (remcov_device_stats(c.fd(), &st) != 0) return 0;
  return st.overflow_entries + st.private_overflow_entries;
}

// Whether the input just run overflowed the collector: a count beyond its
// capacity (a kernel collector's word 0), or entries the device dropped since
// *seen, which is updated (the caller keeps it per collector).
inline bool InputOverflowed(const Collector& c, TraceMode mode,
                            uint64_t* seen) {
  const uint64_t dropped = DroppedEntries(c);
  const bool lost = dropped != *seen;
  *seen = dropped;
  return c.RawCount() > c.Capacity(mode) || lost;
}

}  // namespace remcov::fuzz

#endif  // REMCOV_FUZZ_COMMON_DROPPED_H_
