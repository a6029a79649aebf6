/* SPDX-License-Identifier: Apache-2.0 */
/* The `remcov trace --in-process` hand-off: the file `remcov trace` creates
 * (a memfd), passes to the command it runs, and reads after the command ends;
 * the runtime linked into the command adopts it before main
 * (src/runtime/trace_env.cc). This header is the one definition of its
 * layout, shared by the writer (trace_env.cc, through handoff_writer.h) and
 * the reader (handoff_reader.cc, used by tools/remcov/trace.cc), as leveldb's
 * log_format.h is for its log writer and reader. docs/tools/remcov.md,
 * "In-process mode", describes it for users.
 *
 * The file:
 *   [0, A)         the shared area (area/area_layout.h): word 0 = count, then
 *                  PCs or comparison records; A = remcov_area_bytes(words).
 *   [A, A + page)  the trailer: little-endian u64 words, indexed by
 *                  enum remcov_handoff_word.
 *   [A + page, end) the load-map region: two equal slots, each holding module
 *                  records (format/module_record.h). The region's size is
 *                  what follows the trailer, rounded down to 16 bytes.
 *
 * Publication: the state word and the active-slot word are stored last, with
 * release; the reader loads them with acquire. A load-map rewrite goes to the
 * slot that is not active and is published by one store of its number, so a
 * command killed mid-rewrite leaves the previous map intact.
 *
 * C-compatible, header-only. Thread safety: pure definitions. */
#ifndef REMCOV_HANDOFF_HANDOFF_H_
#define REMCOV_HANDOFF_HANDOFF_H_

#include <stdint.h>

#include "area/area_layout.h"
#include "format/module_record.h"

/* The environment of the traced command (removed by the runtime once read, so
 * programs the command executes start untraced). */
#define REMCOV_HANDOFF_ENV_FD "REMCOV_TRACE_FD"       /* the inherited fd */
#define REMCOV_HANDOFF_ENV_MODE "REMCOV_TRACE_MODE"   /* "pc" or "cmp" */
#define REMCOV_HANDOFF_ENV_WORDS "REMCOV_TRACE_WORDS" /* the area's words */
/* The runtime's area size when REMCOV_HANDOFF_ENV_WORDS is absent. */
#define REMCOV_HANDOFF_DEFAULT_WORDS ((uint64_t)1 << 16)

/* Trailer word 0: the magic, 8 bytes, no NUL. */
#define REMCOV_HANDOFF_MAGIC "RCTRACE2"
#define REMCOV_HANDOFF_MAGIC_BYTES 8

/* The load-map region `remcov trace` reserves: two slots of 32 KiB, room for a
 * few hundred objects with long paths. */
#define REMCOV_HANDOFF_LOAD_MAP_BYTES (64 * 1024)

/* Trailer words. */
enum remcov_handoff_word {
  REMCOV_HANDOFF_W_MAGIC = 0,
  REMCOV_HANDOFF_W_STATE = 1,         /* enum remcov_handoff_state; release */
  REMCOV_HANDOFF_W_PID = 2,           /* the traced process */
  REMCOV_HANDOFF_W_MODE = 3,          /* 0 pc, 1 cmp (REMCOV_KCOV_TRACE_*) */
  REMCOV_HANDOFF_W_WORDS = 4,         /* the area's words, as adopted */
  REMCOV_HANDOFF_W_DROPPED = 5,       /* entries that did not fit (at exit) */
  REMCOV_HANDOFF_W_RESERVED = 6,      /* never written; zero */
  REMCOV_HANDOFF_W_MAP_SLOT = 7,      /* active load-map slot: 0 none, 1, 2;
                                         release */
  REMCOV_HANDOFF_W_SLOT1_BYTES = 8,   /* bytes of the records in slot 1 */
  REMCOV_HANDOFF_W_SLOT1_MODULES = 9, /* records in slot 1 */
  REMCOV_HANDOFF_W_SLOT2_BYTES = 10,
  REMCOV_HANDOFF_W_SLOT2_MODULES = 11,
  REMCOV_HANDOFF_W_MAP_OVERFLOW = 12, /* 1: the load map did not fit */
  REMCOV_HANDOFF_W_MAP_REGION = 13    /* bytes of the load-map region */
};

/* Trailer word REMCOV_HANDOFF_W_STATE. 0 (as created): the command never
 * attached. A command that ends without exit() stays attached: its coverage
 * is all there, but the number of entries that did not fit is unknown. */
enum remcov_handoff_state {
  REMCOV_HANDOFF_ATTACHED = 1, /* adopted; coverage is being published */
  REMCOV_HANDOFF_COMPLETE = 2  /* the exit() handler wrote the final words */
};

/* The trailer words of load-map slot 1 or 2. */
static inline unsigned remcov_handoff_slot_bytes_word(uint64_t slot) {
  return REMCOV_HANDOFF_W_SLOT1_BYTES + 2 * (unsigned)(slot - 1);
}
static inline unsigned remcov_handoff_slot_modules_word(uint64_t slot) {
  return REMCOV_HANDOFF_W_SLOT1_MODULES + 2 * (unsigned)(slot - 1);
}

/* The size of the whole file for an area of area_bytes. */
static inline uint64_t remcov_handoff_file_bytes(uint64_t area_bytes,
                                                 uint64_t page) {
  return area_bytes + page + REMCOV_HANDOFF_LOAD_MAP_BYTES;
}

/* The load-map region from what follows the area (trailer page included):
 * two 8-byte-aligned slots. */
static inline uint64_t remcov_handoff_map_region_bytes(uint64_t tail_bytes,
                                                       uint64_t page) {
  return tail_bytes < page ? 0 : (tail_bytes - page) & ~(uint64_t)15;
}

#endif /* REMCOV_HANDOFF_HANDOFF_H_ */
