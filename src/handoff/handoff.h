/* SPDX-License-Identifier: Apache-2.0 */
/* The `remcov trace --in-process` hand-off: the file `remcov trace` creates
 * (a memfd), passes to the command it runs, and reads after the command ends;
 * the runtime linked into the command adopts it before main
 * (src/runtime/trace_env.cc). This header is the one definition of its
 * layout, shared by the writer (trace_env.cc, through handoff_writer.h) and
 * the reader (handoff_reader.cc, used by src/trace/trace_run.cc), as
 * leveldb's log_format.h is for its log writer and reader.
 * docs/tools/remcov.md, "In-process mode", describes it for users.
 *
 * The file: a process table, then one slot per traced process.
 *   [0, page)      the table: little-endian u64 words, indexed by
 *                  enum remcov_handoff_table_word. `remcov trace` writes all
 *                  of it before the command starts, except the claim counter.
 *   [page + i * S, page + (i + 1) * S)  process slot i (S =
 *                  remcov_handoff_proc_bytes), one process's:
 *     [0, A)         the shared area (area/area_layout.h): word 0 = count,
 *                    then PCs or comparison records; A =
 *                    remcov_area_bytes(words).
 *     [A, A + page)  the trailer: little-endian u64 words, indexed by
 *                    enum remcov_handoff_word.
 *     [A + page, S)  the load-map region: two equal slots, each holding
 *                    module records (format/module_record.h).
 *
 * Claiming: every instrumented process the command starts (the command, the
 * programs it executes, their fork() children) takes the next process slot
 * with one atomic fetch-and-add of the claim counter; a result at or above
 * the slot count is refused, so the counter minus the count is the number of
 * processes that found the table full. With `--no-follow` only the process
 * whose pid is the table's root pid claims (through its exec()s, as KCOV
 * follows a task).
 *
 * Threads (`remcov trace --in-process --threads`, the table's threads word
 * 1): every thread a traced process creates with pthread_create after its
 * runtime attached claims a slot of its own the same way (origin
 * REMCOV_HANDOFF_THREAD; the trailer's owner word names the process slot of
 * its process, plus one) and traces itself into that slot's area: one
 * writer per area, as for processes. It records no load map: the reader
 * appends its entries to its process's (the same address space, whose load
 * map is the process slot's). A thread completes its slot at thread exit;
 * the process's exit() handler completes the slots of threads still running.
 *
 * exec(): the new program's runtime finds the process slot its pid still
 * holds as attached and marks it exec'd (compare-and-swap of the state)
 * before it claims its own. (A slot left attached by a process that died
 * without exit() is taken for exec'd if a later traced process of the same
 * trace gets its pid: pid reuse within one trace.)
 *
 * Publication: the state word and the active-slot word are stored last, with
 * release; the reader loads them with acquire. A load-map rewrite goes to the
 * slot that is not active and is published by one store of its number, so a
 * command killed mid-rewrite leaves the previous map intact.
 *
 * Everything read back is validated: the traced program may be buggy.
 *
 * C-compatible, header-only. Thread safety: pure definitions. */
#ifndef REMCOV_HANDOFF_HANDOFF_H_
#define REMCOV_HANDOFF_HANDOFF_H_

#include <stdint.h>

#include "area/area_layout.h"
#include "format/module_record.h"

/* The environment of the traced command: the inherited fd of the hand-off
 * (kept, and the fd left open across exec(), so that every program the
 * command executes finds it). */
#define REMCOV_HANDOFF_ENV_FD "REMCOV_TRACE_FD"

/* Table word 0: the file's magic, 8 bytes, no NUL. */
#define REMCOV_HANDOFF_TABLE_MAGIC "RCTRACE4"
/* Trailer word 0: a slot's magic, written by the process that claimed it. */
#define REMCOV_HANDOFF_MAGIC "RCTRACE2"
#define REMCOV_HANDOFF_MAGIC_BYTES 8

/* The most process slots a table may have: bounds the file's size. */
#define REMCOV_HANDOFF_MAX_PROCS 4096

/* Table words. */
enum remcov_handoff_table_word {
  REMCOV_HANDOFF_T_MAGIC = 0,
  REMCOV_HANDOFF_T_PROCS = 1,      /* process slots, 1 to MAX_PROCS */
  REMCOV_HANDOFF_T_PROC_BYTES = 2, /* bytes of one process slot */
  REMCOV_HANDOFF_T_WORDS = 3,      /* each area's words (whole pages) */
  REMCOV_HANDOFF_T_MODE = 4,       /* 0 pc, 1 cmp (REMCOV_KCOV_TRACE_*) */
  REMCOV_HANDOFF_T_FOLLOW = 5,     /* 1: every process; 0: the root only */
  REMCOV_HANDOFF_T_ROOT_PID = 6,   /* the command's process (set before
                                      it executes the command) */
  REMCOV_HANDOFF_T_CLAIMED = 7,    /* the claim counter; fetch-and-add */
  REMCOV_HANDOFF_T_THREADS = 8     /* 1: created threads claim slots too */
};

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
  REMCOV_HANDOFF_W_MAP_REGION = 13,   /* bytes of the load-map region */
  REMCOV_HANDOFF_W_PPID = 14,         /* the parent process */
  REMCOV_HANDOFF_W_ORIGIN = 15,       /* enum remcov_handoff_origin */
  REMCOV_HANDOFF_W_OWNER = 16         /* a thread's: its process slot + 1 */
};

/* Trailer word REMCOV_HANDOFF_W_ORIGIN: how the process came to be traced. */
enum remcov_handoff_origin {
  REMCOV_HANDOFF_STARTED = 0, /* its program started with the hand-off */
  REMCOV_HANDOFF_FORKED = 1,  /* a fork() child of a traced process */
  REMCOV_HANDOFF_THREAD = 2   /* a thread of the process in slot owner - 1 */
};

/* Trailer word REMCOV_HANDOFF_W_STATE. 0 (as created): the command never
 * attached. A command that ends without exit() stays attached: its coverage
 * is all there, but the number of entries that did not fit is unknown. */
enum remcov_handoff_state {
  REMCOV_HANDOFF_ATTACHED = 1, /* adopted; coverage is being published */
  REMCOV_HANDOFF_COMPLETE = 2, /* the exit() handler wrote the final words */
  REMCOV_HANDOFF_EXECED = 3    /* it exec()ed a program that took over */
};

/* The trailer words of load-map slot 1 or 2. */
static inline unsigned remcov_handoff_slot_bytes_word(uint64_t slot) {
  return REMCOV_HANDOFF_W_SLOT1_BYTES + 2 * (unsigned)(slot - 1);
}
static inline unsigned remcov_handoff_slot_modules_word(uint64_t slot) {
  return REMCOV_HANDOFF_W_SLOT1_MODULES + 2 * (unsigned)(slot - 1);
}

/* The size of one process slot for an area of area_bytes. */
static inline uint64_t remcov_handoff_proc_bytes(uint64_t area_bytes,
                                                 uint64_t page) {
  return area_bytes + page + REMCOV_HANDOFF_LOAD_MAP_BYTES;
}

/* Where process slot i starts in the file. */
static inline uint64_t remcov_handoff_proc_offset(uint64_t proc_bytes,
                                                  uint64_t i, uint64_t page) {
  return page + i * proc_bytes;
}

/* The load-map region from what follows the area (trailer page included):
 * two 8-byte-aligned slots. */
static inline uint64_t remcov_handoff_map_region_bytes(uint64_t tail_bytes,
                                                       uint64_t page) {
  return tail_bytes < page ? 0 : (tail_bytes - page) & ~(uint64_t)15;
}

#endif /* REMCOV_HANDOFF_HANDOFF_H_ */
