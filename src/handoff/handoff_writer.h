// SPDX-License-Identifier: Apache-2.0
// The writer's side of the `remcov trace --in-process` hand-off (handoff.h):
// the process table (written by the tool, claimed by the runtime), each
// slot's trailer words and load-map slots, in the order and with the release
// stores the reader (handoff_reader.cc) pairs with. Used by the runtime's
// start-up hook (src/runtime/trace_env.cc), by `remcov trace` for the table
// (src/trace/trace_run.cc) and by the round-trip test (tests/handoff).
//
// Header-only; no allocation, no locks, only memcpy/memset and atomics:
// callable from the runtime's constructor, its fork handler and its exit()
// handler.
// Thread safety: one writer per process slot (the process that claimed it);
// the claim counter and a slot's state take concurrent atomic updates;
// readers in another process use acquire loads.
#ifndef REMCOV_HANDOFF_HANDOFF_WRITER_H_
#define REMCOV_HANDOFF_HANDOFF_WRITER_H_

#include <stdint.h>
#include <string.h>

#include "handoff/handoff.h"

namespace remcov::handoff {

// The process table, as `remcov trace` writes it before the command starts
// (all but the root pid, which the command's process sets before it
// executes the command, and the claim counter, which starts at 0).
inline void WriteTable(uint64_t* table, uint64_t procs, uint64_t proc_bytes,
                       uint64_t words, uint64_t mode, bool follow,
                       bool threads = false) {
  memcpy(&table[REMCOV_HANDOFF_T_MAGIC], REMCOV_HANDOFF_TABLE_MAGIC,
         REMCOV_HANDOFF_MAGIC_BYTES);
  table[REMCOV_HANDOFF_T_PROCS] = procs;
  table[REMCOV_HANDOFF_T_PROC_BYTES] = proc_bytes;
  table[REMCOV_HANDOFF_T_WORDS] = words;
  table[REMCOV_HANDOFF_T_MODE] = mode;
  table[REMCOV_HANDOFF_T_FOLLOW] = follow ? 1 : 0;
  table[REMCOV_HANDOFF_T_THREADS] = threads ? 1 : 0;
}

// Claims the next process slot: its index, or `procs` or more when the
// table is full (the counter keeps counting, so the reader knows how many
// were refused). Lock-free; any process, any thread.
inline uint64_t ClaimProcessSlot(uint64_t* table) {
  return __atomic_fetch_add(&table[REMCOV_HANDOFF_T_CLAIMED], 1,
                            __ATOMIC_ACQ_REL);
}

// The new program of a process that called exec(): marks the slot its pid
// held before (still attached) exec'd. True when it did.
inline bool MarkExeced(uint64_t* trailer) {
  uint64_t expected = REMCOV_HANDOFF_ATTACHED;
  return __atomic_compare_exchange_n(&trailer[REMCOV_HANDOFF_W_STATE],
                                     &expected, REMCOV_HANDOFF_EXECED, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

// The fixed trailer words, written at adoption before the state.
inline void WriteTrailerHeader(uint64_t* trailer, uint64_t pid, uint64_t ppid,
                               uint64_t origin, uint64_t mode, uint64_t words,
                               uint64_t map_region_bytes) {
  memcpy(&trailer[REMCOV_HANDOFF_W_MAGIC], REMCOV_HANDOFF_MAGIC,
         REMCOV_HANDOFF_MAGIC_BYTES);
  trailer[REMCOV_HANDOFF_W_PID] = pid;
  trailer[REMCOV_HANDOFF_W_PPID] = ppid;
  trailer[REMCOV_HANDOFF_W_ORIGIN] = origin;
  trailer[REMCOV_HANDOFF_W_MODE] = mode;
  trailer[REMCOV_HANDOFF_W_WORDS] = words;
  trailer[REMCOV_HANDOFF_W_MAP_REGION] = map_region_bytes;
}

// A thread's slot: the process slot of its process (before PublishState).
inline void WriteThreadOwner(uint64_t* trailer, uint64_t process_slot) {
  trailer[REMCOV_HANDOFF_W_OWNER] = process_slot + 1;
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

// Copies the published load map of trailer `from` (and its region) into a
// new rewrite of `to`'s: a fork() child starts with its parent's map (the
// same address space), written without dl_iterate_phdr, whose lock the
// child of a multi-threaded parent may find held.
inline MapWriter CopyLoadMap(const uint64_t* from,
                             const unsigned char* from_region,
                             const uint64_t* to, unsigned char* to_region,
                             uint64_t region_bytes) {
  MapWriter w = BeginLoadMap(to, to_region, region_bytes);
  const uint64_t slot =
      __atomic_load_n(&from[REMCOV_HANDOFF_W_MAP_SLOT], __ATOMIC_ACQUIRE);
  if (slot != 1 && slot != 2) return w;
  const uint64_t bytes = from[remcov_handoff_slot_bytes_word(slot)];
  if (bytes > w.cap) {
    w.overflow = true;
    return w;
  }
  memcpy(w.out, from_region + (slot - 1) * (region_bytes / 2), bytes);
  w.used = bytes;
  w.count = from[remcov_handoff_slot_modules_word(slot)];
  w.overflow = from[REMCOV_HANDOFF_W_MAP_OVERFLOW] != 0;
  return w;
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
