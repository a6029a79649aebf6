/* SPDX-License-Identifier: Apache-2.0 */
/* The report fixture built at -O2 (report.tail_calls), plus functions whose
 * last block holds only the callback's call: gcc -O2 turns that trailing
 * `call __sanitizer_cov_trace_pc; ret` into a tail jump, so the callback
 * records the return address of the caller's call. rep_tail_store and
 * rep_tail_other end in one such jump; rep_tail_two has two (one per
 * branch), so the recorded PC cannot tell them apart. */
#include "fixture_report.c"

int rep_sink;

__attribute__((noinline)) void rep_tail_store(int x) {
  if (x > '5') rep_sink = x;
}

__attribute__((noinline)) void rep_tail_other(int x) {
  if (x & 1) rep_sink += 3;
}

volatile int rep_flag;

__attribute__((noinline)) void rep_tail_two(int x) {
  if (x & 2) {
    rep_sink = x;
    if (x & 4) rep_flag = 1;
    return;
  }
  rep_sink += 7;
  if (x & 8) rep_flag = 2;
}
