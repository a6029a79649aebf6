/* SPDX-License-Identifier: Apache-2.0
 * Spin model (b): the reset (drain) protocol of src/area/shared_area.h, i.e.
 * SharedArea::Move against a concurrent SharedArea::Drain, on the weak memory
 * of weak_memory.pml (store buffer committing out of order, early and late
 * loads unless ordered by acquire/release).
 *
 * The mover moves ids 1..NIDS (4), one per Move, into an area of CAP = 2 slots
 * (so a move may find the area full and drop its id); the reader drains
 * DRAINS (3) times; when both have ended, the Checker drains the rest and checks
 * that every id Move reported as published was consumed exactly once, and no
 * other. Each consumed entry must be fresh: an id (not the poison 0) that was
 * not consumed before (a stale entry from a reused slot is a duplicate).
 *
 * Variants (spin -D...): none = the production protocol, must verify with
 * errors: 0. NO_WRITER_RELEASE, NO_READER_ACQUIRE (both), RELAXED_RESET
 * (with KEEP_RETRY_ACQUIRE: only the reset's release removed),
 * RELAXED_MOVE_LOAD, PLAIN_STORE_RESET, PLAIN_STORE_PUBLISH: each must end in
 * an assertion violation with a trail.
 */
#include "weak_memory.pml"

#ifndef NIDS
#define NIDS 4
#endif
#ifndef DRAINS
#define DRAINS 3
#endif

bit published[NIDS + 1];   /* ghost: Move reported id as published */
byte consumed[NIDS + 1];   /* ghost: times a drain consumed id */

inline check(v) {
  assert(v >= 1 && v <= NIDS);   /* poison: a stale, never-written slot */
  assert(consumed[v] == 0);      /* stale entry of a reused slot: duplicate */
  consumed[v]++
}

/* SharedArea::Move, one id at a time. */
active proctype Mover() {
  byte id = 1, pos, moved;
  bit done;
  do
  :: id > NIDS -> break
  :: else ->
     pos = mem[0];               /* kMoveLoad: acquire (MOVE_ACQUIRE) */
     done = 0;
     do
     :: done -> break
     :: else ->
        assert(pos <= CAP);      /* no garbage count in this model */
        if
        :: pos == CAP -> moved = 0                 /* full: drop */
        :: else -> buffer_store(pos + 1, id); moved = 1
        fi;
#ifdef PLAIN_STORE_PUBLISH
        /* the kernel's WRITE_ONCE(count, dst_len + moved), with release */
        atomic { (!WRITER_RELEASE || BUF_EMPTY) ->
                 mem[0] = pos + moved; published[id] = moved; done = 1 }
#else
        /* kMovePublish CAS: release (WRITER_RELEASE) on success; on failure
         * reload the count (kMoveRetryLoad) and redo the copy there. */
        atomic { (!WRITER_RELEASE || BUF_EMPTY) ->
                 if
                 :: mem[0] == pos -> mem[0] = pos + moved; published[id] = moved; done = 1
                 :: else -> pos = mem[0]
                 fi }
#endif
     od;
     id++
  od;
  finished++
}

/* SharedArea::Drain, DRAINS times. */
active proctype Reader() {
  byte r = 0, seen, n, end_, i, k, v;
  byte pre[CAP + 1];
  bit pre_ok[CAP + 1];
  bit late[CAP + 1];
  bit ok;
  do
  :: r == DRAINS -> break
  :: else ->
     seen = 0;
     prefetch(!READER_ACQUIRE);   /* loads performed before the count load */
     n = mem[0];                  /* kReaderLoad: acquire (READER_ACQUIRE) */
     do
     :: true ->
        end_ = (n > CAP -> CAP : n);
        if
        :: end_ < seen -> seen = 0
        :: else -> skip
        fi;
        i = seen;
        do                        /* consume(slots, seen, end) */
        :: i >= end_ -> break
        :: else ->
           k = i + 1;
           if
           :: pre_ok[k] -> v = pre[k]; pre_ok[k] = 0; check(v)
           :: !pre_ok[k] && LATE_LOADS_OK -> late[k] = 1   /* performed after the reset */
           :: !pre_ok[k] -> v = mem[k]; check(v)
           fi;
           i++
        od;
        seen = end_;
#ifdef PLAIN_STORE_RESET
        mem[0] = 0;               /* a release store of 0 */
        break
#else
        prefetch(!RETRY_ACQUIRE); /* tail loads performed before the failure reload */
        atomic {                  /* kReaderReset / kReaderResetFail CAS */
          if
          :: mem[0] == n -> mem[0] = 0; ok = 1
          :: else -> n = mem[0]; ok = 0
          fi }
        if
        :: ok -> break
        :: else -> skip
        fi
#endif
     od;
     /* early loads not used by this drain are dropped; late ones happen now */
     k = 1;
     do
     :: k > CAP -> break
     :: else ->
        pre_ok[k] = 0;
        if
        :: late[k] -> v = mem[k]; late[k] = 0; check(v)
        :: else -> skip
        fi;
        k++
     od;
     r++
  od;
  finished++
}

/* After both ended (and the store buffer drained): the final drain, then
 * every id is consumed exactly as often as it was published (0 or 1). */
active proctype Checker() {
  byte i, v;
  atomic { (finished == 2 && BUF_EMPTY) -> skip };
  i = 0;
  do
  :: i >= (mem[0] > CAP -> CAP : mem[0]) -> break
  :: else -> v = mem[i + 1]; check(v); i++
  od;
  mem[0] = 0;
  i = 1;
  do
  :: i > NIDS -> break
  :: else -> assert(consumed[i] == published[i]); i++   /* lost or duplicated */
  od
}
