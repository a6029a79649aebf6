/* SPDX-License-Identifier: Apache-2.0
 * Shared weak-memory machinery for the Spin models of the shared-area
 * protocol (move.pml, reset.pml); included by both through cpp.
 *
 * THE MEMORY MODEL (what is modelled, and why it is enough)
 * mem[0] is the count word, mem[1..CAP] the entry slots. The count word is
 * only written by atomic operations (CAS, or a plain atomic store in the
 * mutations) that act on mem directly: the count is coherent.
 *
 * 1. Writer side, store buffer. The mover's entry stores do not go to memory:
 *    they enter its store buffer (pend[k]/pval[k], one pending store per
 *    slot; a second store to a slot waits for the first to commit, which keeps
 *    per-location coherence). The StoreBuffer process commits pending stores
 *    at any time and in ANY order, i.e. out of program order. A release
 *    publish of the count (WRITER_RELEASE) waits until the buffer is empty:
 *    every entry store is visible before the new count (the seed patch's
 *    smp_wmb()). Without release the count can be published, and read, while
 *    entries still sit in the buffer.
 *
 * 2. Reader side, early loads. A load of an entry may be performed before
 *    the load of the count that precedes it in program order (speculation,
 *    out-of-order execution): prefetch() may, for any subset of slots, read
 *    the slot now and keep the value for a later consume_slot(). An acquire
 *    load of the count forbids this (prefetch is then a no-op).
 *
 * 3. Reader side, late loads. A load of an entry may be performed after a
 *    later store of the reader (the reset of the count) has become visible
 *    and the mover has acted on it (load->store reordering): consume_slot()
 *    may defer the load to after the reset (late[]). This is forbidden only
 *    when both halves of the reset's happens-before edge are present: the
 *    reset is a release and the mover's loads of the count are acquire. (On
 *    hardware the mover's slot address depends on the count it loaded, which
 *    orders it like the kernel's READ_ONCE; C++ gives no such dependency
 *    ordering, and the model follows C++, as Relacy and TSan do.)
 *
 * Each "may" is a nondeterministic choice that Spin explores exhaustively.
 * The model is deliberately small (CAP slots, a few ids): the weakenings are
 * found by short interleavings, and the correct protocol's state space is
 * explored completely.
 */

#ifndef CAP
#define CAP 2
#endif
#if CAP != 2
#error "BUF_EMPTY and StoreBuffer below are written out for CAP == 2"
#endif

/* Variant switches (cpp -D): each removes one ordering from the protocol. */
#ifdef NO_WRITER_RELEASE
#define WRITER_RELEASE 0
#else
#define WRITER_RELEASE 1
#endif
#ifdef NO_READER_ACQUIRE
#define READER_ACQUIRE 0
#else
#define READER_ACQUIRE 1
#endif
/* The reset CAS's failure order (acquire) goes with the reader's acquire; a
 * relaxed reset is relaxed in both its success and failure orders
 * (KEEP_RETRY_ACQUIRE keeps the failure order: only the release is removed). */
#if defined(NO_READER_ACQUIRE) || (defined(RELAXED_RESET) && !defined(KEEP_RETRY_ACQUIRE))
#define RETRY_ACQUIRE 0
#else
#define RETRY_ACQUIRE 1
#endif
#ifdef RELAXED_RESET
#define RESET_RELEASE 0
#else
#define RESET_RELEASE 1
#endif
#ifdef RELAXED_MOVE_LOAD
#define MOVE_ACQUIRE 0
#else
#define MOVE_ACQUIRE 1
#endif
/* Entry loads may be performed after the reset unless both halves of the
 * reset -> move happens-before edge are present. */
#define LATE_LOADS_OK (!(RESET_RELEASE && MOVE_ACQUIRE))

byte mem[CAP + 1];       /* [0] = count, [1..CAP] = entry slots (0 = poison) */
bit pend[CAP + 1];       /* mover's store buffer: pending store to slot k? */
byte pval[CAP + 1];      /*   ... and its value */
byte finished = 0;       /* mover and reader processes that have ended */

#define BUF_EMPTY (pend[1] == 0 && pend[2] == 0)

/* Commits the mover's buffered stores, one at a time, in any order. */
active proctype StoreBuffer() {
end_commit:
  do
  :: atomic { pend[1] -> mem[1] = pval[1]; pend[1] = 0 }
  :: atomic { pend[2] -> mem[2] = pval[2]; pend[2] = 0 }
  od
}

/* A (non-atomic) entry store by the mover: into the store buffer. */
inline buffer_store(k, v) {
  atomic { (pend[k] == 0) -> pend[k] = 1; pval[k] = v }
}

/* Early loads: with a relaxed count load, any subset of the entry loads that
 * follow may be performed now, before it. `allowed` is 0 under acquire. */
inline prefetch(allowed) {
  k = 1;
  do
  :: k > CAP -> break
  :: else ->
     if
     :: allowed -> pre[k] = mem[k]; pre_ok[k] = 1
     :: true -> skip
     fi;
     k++
  od
}
