/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The minimal KCOV-style trace-pc callback the whole-workload benchmark holds
 * remcov against: what the kernel's __sanitizer_cov_trace_pc does reduced to
 * a user-space thread — a thread-local area pointer (NULL: not collecting),
 * a capacity check and an append of the caller's PC, the count in word 0.
 * No mode word, no signal or remote-section handling, no overflow counting:
 * entries beyond the capacity are dropped silently. Compiled without coverage
 * instrumentation, like any runtime.
 */
#include <stdint.h>

/* Initial-exec would do as well: the benchmark links this into executables,
 * where the compiler uses local-exec for a definition in the same program. */
static __thread unsigned long* minimal_area;
static __thread unsigned long minimal_words;

/* Starts (area != NULL) or stops collection on the calling thread. The area
 * has `words` words: word 0 is the count, the PCs follow. */
void MinimalKcovEnable(unsigned long* area, unsigned long words) {
  minimal_area = area;
  minimal_words = words;
}

__attribute__((visibility("default"))) void __sanitizer_cov_trace_pc(void) {
  unsigned long* area = minimal_area;
  if (!area) return;
  unsigned long pos = __atomic_load_n(&area[0], __ATOMIC_RELAXED) + 1;
  if (pos < minimal_words) {
    area[pos] = (unsigned long)__builtin_return_address(0);
    __atomic_store_n(&area[0], pos, __ATOMIC_RELAXED);
  }
}
