/* SPDX-License-Identifier: Apache-2.0
 * Spin model (a): the move/publish protocol of src/area/shared_area.h as
 * message passing (the seed patch), on the weak memory of weak_memory.pml.
 *
 * The mover copies entries after the count (SharedArea::Move, or AppendOne:
 * the same shape) and publishes the new count; the reader reads like
 * kcov.rst's user: it loads the count, then the entries below it, READS
 * times, without resetting. Every entry below a count the reader saw must be
 * the fresh value: entry i holds id i + 1 (never the poison 0).
 *
 * Variants (spin -D...): none = the production orders, must verify with
 * errors: 0; NO_WRITER_RELEASE (the count may become visible before the
 * entries: the missing smp_wmb()), NO_READER_ACQUIRE (the entry loads may be
 * performed before the count load), or both: assertion violation + trail.
 */
#include "weak_memory.pml"

#ifndef NIDS
#define NIDS CAP
#endif
#ifndef READS
#define READS 2
#endif

/* SharedArea::Move of one id per call; nobody resets in this model, so the
 * publish CAS always succeeds. */
active proctype Mover() {
  byte id = 1, pos;
  do
  :: id > NIDS -> break
  :: else ->
     pos = mem[0];                       /* kMoveLoad */
     buffer_store(pos + 1, id);          /* CopyIn: into the store buffer */
     atomic { (!WRITER_RELEASE || BUF_EMPTY) ->   /* kMovePublish: release */
              assert(mem[0] == pos); mem[0] = pos + 1 };
     id++
  od;
  finished++
}

/* The kcov.rst reader: load the count, read the new entries. */
active proctype Reader() {
  byte r = 0, seen = 0, n, i, k, v;
  byte pre[CAP + 1];
  bit pre_ok[CAP + 1];
  do
  :: r == READS -> break
  :: else ->
     prefetch(!READER_ACQUIRE);   /* loads performed before the count load */
     n = mem[0];                  /* kReaderLoad: acquire (READER_ACQUIRE) */
     i = seen;
     do
     :: i >= n -> break
     :: else ->
        k = i + 1;
        if
        :: pre_ok[k] -> v = pre[k]
        :: else -> v = mem[k]
        fi;
        assert(v == k);           /* fresh: a new count never shows an old entry */
        i++
     od;
     seen = n;
     k = 1;
     do                           /* early loads not used are dropped */
     :: k > CAP -> break
     :: else -> pre_ok[k] = 0; k++
     od;
     r++
  od;
  finished++
}
