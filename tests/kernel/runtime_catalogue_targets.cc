// SPDX-License-Identifier: Apache-2.0
// Instrumented code for running the catalogue against remcov's in-process
// runtime on the host (see runtime_catalogue_main.cc). Must be compiled with
// -fsanitize-coverage=trace-pc,trace-cmp -fno-reorder-functions: the targets'
// address ranges are taken as [host_target_x, next target).
#include <cstdint>
volatile unsigned long sink;
#define T(name, k)                                                           \
  extern "C" __attribute__((noinline)) unsigned long name(unsigned long x) { \
    unsigned long r = x * k;                                                 \
    if (x & 1)                                                               \
      r ^= 0x5a5a + k;                                                       \
    else                                                                     \
      r += 0x1234 * k;                                                       \
    if (r > k * 1000) r -= k;                                                \
    sink = r;                                                                \
    return r;                                                                \
  }
// clang-format off
T(host_target_a, 3)
T(host_target_b, 5)
T(host_target_c, 7)
T(host_target_d, 11)
T(host_target_e, 13)
// clang-format on
extern "C" __attribute__((noinline)) void host_target_end() { sink = 0; }
extern "C" void host_exercise(unsigned rounds) {
  for (unsigned i = 0; i < rounds * 20; i++) {
    host_target_d(i);
    if (sink == 12345) sink = 1;
    switch (i % 5) {
      case 0:
        sink = sink + 2;
        break;
      case 3:
        sink = sink + 3;
        break;
      default:
        break;
    }
  }
}
