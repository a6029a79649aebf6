/* SPDX-License-Identifier: Apache-2.0 */
/* The report fixture built at -O2 (report.tail_calls), plus functions whose
 * last block holds only the callback's call: gcc -O2 turns that trailing
 * `call __sanitizer_cov_trace_pc; ret` into a tail jump, so the callback
 * records the return address of the caller's call. */
#include "fixture_report.c"

int rep_sink;

__attribute__((noinline)) void rep_tail_store(int x) {
  if (x > '5') rep_sink = x;
}

__attribute__((noinline)) void rep_tail_other(int x) {
  if (x & 1) rep_sink += 3;
}
