// SPDX-License-Identifier: Apache-2.0
// The writer's side of the `remcov trace --in-process` hand-off (handoff.h):
// the trailer's words and the load-map slots, in the order and with the
// release stores the reader (handoff_reader.cc) pairs with. Used by the
// runtime's start-up hook (src/runtime/trace_env.cc) and by the round-trip
// test (tests/handoff).
//
// Header-only; no allocation, no locks, only memcpy/memset: callable from the
// runtime's constructor and its exit() handler.
// Thread safety: one writer (the traced process's main thread, or its exit()
// handler); readers in another process use acquire loads.
#ifndef REMCOV_HANDOFF_HANDOFF_WRITER_H_
#define REMCOV_HANDOFF_HANDOFF_WRITER_H_

#include <stdint.h>
#include <string.h>

#include "handoff/handoff.h"

namespace remcov::handoff {

// The fixed trailer words, written at adoption before the state.
inline void WriteTrailerHeader(uint64_t* trailer, uint64_t pid, uint64_t mode,
                               uint64_t words, uint64_t map_region_bytes) {
  memcpy(&trailer[REMCOV_HANDOFF_W_MAGIC], REMCOV_HANDOFF_MAGIC,
         REMCOV_HANDOFF_MAGIC_BYTES);
  trailer[REMCOV_HANDOFF_W_PID] = pid;
  trailer[REMCOV_HANDOFF_W_MODE] = mode;
  trailer[REMCOV_HANDOFF_W_WORDS] = words;
  trailer[REMCOV_HANDOFF_W_MAP_REGION] = map_region_bytes;
}

// Publishes a state. Pairs with the acquire load of the state in
// handoff::Read.
inline void PublishState(uint64_t* trailer, uint64_t state) {
  __atomic_store_n(&trailer[REMCOV_HANDOFF_W_STATE], state, __ATOMIC_RELEASE);
}

// The exit() handler's words: the entries that did not fit, then the state.
inline void PublishComplete(uint64_t* trailer, uint64_t dropped) {
  trailer[REMCOV_HANDOFF_W_DROPPED] = dropped;
  PublishState(trailer, REMCOV_HANDOFF_COMPLETE);
}

// Module records going into one load-map slot.
struct MapWriter {
  unsigned char* out = nullptr;
  uint64_t cap = 0;
  uint64_t used = 0;
  uint64_t count = 0;
  bool overflow = false;
  uint64_t slot = 0;  // 1 or 2
};

// Starts a rewrite of the load map in the slot the reader is not reading.
// `region` is the load-map region (after the trailer page), region_bytes its
// size (remcov_handoff_map_region_bytes).
inline MapWriter BeginLoadMap(const uint64_t* trailer, unsigned char* region,
                              uint64_t region_bytes) {
  // Relaxed: this process is the only writer of the slot word.
  const uint64_t active =
      __atomic_load_n(&trailer[REMCOV_HANDOFF_W_MAP_SLOT], __ATOMIC_RELAXED);
  MapWriter w;
  w.slot = active == 1 ? 2 : 1;
  const uint64_t half = region_bytes / 2;
  w.out = region + (w.slot - 1) * half;
  w.cap = half;
  return w;
}

// Appends one module record; a record that does not fit sets overflow.
// REQUIRES: the lengths within module_record.h's limits.
inline void AddModule(MapWriter* w, uint32_t kind, uint32_t flags,
                      const char* path, uint32_t path_len,
                      const unsigned char* id, uint32_t id_len, uint64_t start,
                      uint64_t end, uint64_t bias) {
  const uint64_t bytes = remcov_module_record_size(path_len, id_len);
  if (bytes > w->cap - w->used) {
    w->overflow = true;
    return;
  }
  remcov_module_record_write(w->out + w->used, kind, flags, path, path_len, id,
                             id_len, start, end, bias);
  w->used += bytes;
  w->count++;
}

// Publishes the slot written through w. Pairs with the acquire load of the
// slot in handoff::Read.
inline void PublishLoadMap(uint64_t* trailer, const MapWriter& w) {
  trailer[remcov_handoff_slot_bytes_word(w.slot)] = w.used;
  trailer[remcov_handoff_slot_modules_word(w.slot)] = w.count;
  trailer[REMCOV_HANDOFF_W_MAP_OVERFLOW] = w.overflow ? 1 : 0;
  __atomic_store_n(&trailer[REMCOV_HANDOFF_W_MAP_SLOT], w.slot,
                   __ATOMIC_RELEASE);
}

}  // namespace remcov::handoff

#endif  // REMCOV_HANDOFF_HANDOFF_WRITER_H_
