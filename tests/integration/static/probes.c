/* SPDX-License-Identifier: Apache-2.0 */
/* The instrumented code of the static program (-fsanitize-coverage=trace-pc),
 * one function per linker section so that the program tells whose PCs a
 * trace holds from the __start_/__stop_ symbols the linker defines. */
#include "probes.h"

#define PROBE(name, sec)                                     \
  __attribute__((section(sec), noinline)) int name(int n) {  \
    int sum = 0;                                             \
    for (int i = 0; i < n; i++) sum += (i % 3 == 0) ? i : 1; \
    return sum;                                              \
  }

PROBE(probe_pthread, "remcov_probe_pthread")
PROBE(probe_std_thread, "remcov_probe_std_thread")
PROBE(probe_signal, "remcov_probe_signal")
PROBE(probe_sigaction, "remcov_probe_sigaction")
PROBE(probe_main, "remcov_probe_main")
