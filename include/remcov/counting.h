/* SPDX-License-Identifier: Apache-2.0 */
/* Counters mode for code built with -fsanitize-coverage=trace-pc (g++, or
 * clang without trace-pc-guard): include this header in every instrumented
 * translation unit (`-include remcov/counting.h`) and that unit's trace_pc
 * calls go to __remcov_cov_trace_pc_counting, the entry that also counts in
 * remcov's counters mode (docs/kcov.md, difference 16); in the kernel's modes
 * it records exactly as __sanitizer_cov_trace_pc does. The assembler resolves
 * the equated name to the entry, so the object references only the entry.
 * Objects built without it keep calling __sanitizer_cov_trace_pc, which
 * counts nothing in counters mode. cmake/RemcovLibFuzzer.cmake renames the
 * calls with objcopy instead. C and C++. */
#ifndef REMCOV_COUNTING_H_
#define REMCOV_COUNTING_H_

__asm__(".set __sanitizer_cov_trace_pc, __remcov_cov_trace_pc_counting");

#endif /* REMCOV_COUNTING_H_ */
