/* SPDX-License-Identifier: Apache-2.0 */
/* The size of a shared area, written once for every side that makes or reads
 * one: the Collector (src/client/collector.cc), the in-process hand-off of
 * `remcov trace` (src/handoff/), and the runtime adopting it
 * (src/runtime/trace_env.cc). An area is word 0 = count, then entries of
 * `entry_words` 64-bit words (1 for PCs, 4 for comparison records), as the
 * kernel's (Linux 6.1 kernel/kcov.c: __sanitizer_cov_trace_pc and
 * write_comp_data). The protocol that fills and reads it is shared_area.h.
 *
 * C-compatible (src/handoff/handoff.h includes it); header-only, no libc.
 * Thread safety: pure functions. */
#ifndef REMCOV_AREA_AREA_LAYOUT_H_
#define REMCOV_AREA_AREA_LAYOUT_H_

#include <stdint.h>

/* Words per entry: a PC, a comparison record (type, arg1, arg2, ip). */
#define REMCOV_AREA_PC_ENTRY_WORDS 1
#define REMCOV_AREA_CMP_ENTRY_WORDS 4

/* The bytes a mapping of `words` words takes, in whole pages: the kernel maps
 * exactly its size words (Linux 6.1 kernel/kcov.c, kcov_mmap) and a mapping
 * is whole pages, so callers round the words up to pages. */
static inline uint64_t remcov_area_bytes(uint64_t words, uint64_t page) {
  return (words * 8 + page - 1) / page * page;
}

/* How many entries of `entry_words` words fit after the count word. */
static inline uint64_t remcov_area_capacity(uint64_t words,
                                            uint64_t entry_words) {
  return words == 0 ? 0 : (words - 1) / entry_words;
}

#endif /* REMCOV_AREA_AREA_LAYOUT_H_ */
