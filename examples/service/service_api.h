// SPDX-License-Identifier: Apache-2.0
// The instrumented core of the example service, as a table of entry points.
// service_core.cc is compiled once per coverage flavour with a different
// SERVICE_NS (svc_trace: -fsanitize-coverage=trace-pc,trace-cmp for remcov;
// svc_counters: -fsanitize-coverage=inline-8bit-counters, clang only), so both
// builds link into one binary without symbol clashes; each exports one C
// accessor, <SERVICE_NS>_api().
#ifndef REMCOV_EXAMPLES_SERVICE_SERVICE_API_H_
#define REMCOV_EXAMPLES_SERVICE_SERVICE_API_H_

#include <stddef.h>
#include <stdint.h>

namespace remcov_service {

// Status codes returned by handle(). A planted bug returns kBugBase + its id
// (and counts a hit) instead of corrupting memory, so tests can assert on it.
enum : int {
  kOk = 200,
  kBadRequest = 400,
  kNotFound = 404,
  kMethodNotAllowed = 405,
  kBugBase = 900,
};

// Planted bugs; every one is reachable only through handler code, which the
// Server runs on its worker pool.
enum : int {
  kBugFrameLength = 1,  // POST /frame: u32 magic 'RCOV' (4-byte compare),
                        // then a declared length beyond the payload
  kBugSumMagic = 2,     // POST /sum: the sum equals a u64 magic (8-byte cmp)
  kBugTraversal = 3,    // GET /files/<name> with ".." in the name
  kNumBugs = 4,         // ids are 1..kNumBugs-1
};

// The frame magic, little-endian bytes "RCOV".
inline constexpr uint32_t kFrameMagic = 0x564F4352u;
// The /sum magic: 1234605616436508552 in decimal.
inline constexpr uint64_t kSumMagic = 0x1122334455667788ull;

struct ServiceApi {
  const char* name;
  // Parses and routes one request; deterministic (no state shared between
  // requests), so its coverage depends on the request only.
  int (*handle)(const uint8_t* data, size_t size);
  // One round of housekeeping; its path depends on `tick` (and its own state).
  void (*housekeeping_tick)(uint64_t tick);
  // Hits of planted bug `id` since the process started.
  uint64_t (*bug_hits)(int id);
};

}  // namespace remcov_service

extern "C" {
// The trace-pc,trace-cmp build (always present).
const remcov_service::ServiceApi* svc_trace_api(void);
#if defined(REMCOV_SERVICE_HAVE_COUNTERS)
// The inline-8bit-counters build (clang only).
const remcov_service::ServiceApi* svc_counters_api(void);
#endif
}

#endif  // REMCOV_EXAMPLES_SERVICE_SERVICE_API_H_
