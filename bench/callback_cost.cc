// SPDX-License-Identifier: Apache-2.0
// Calls each coverage callback N times with the device enabled or disabled, so
// that callgrind can count the callback's own instructions per call
// (bench/callback_cost.sh divides the callback's self cost by N).
//   callback_cost <pc|cmp1|cmp2|cmp4|cmp8|const_cmp1|const_cmp2|const_cmp4|
//                  const_cmp8|switch16|pc_guard|pc_guard_unique>
//                 <enabled|disabled> N
// pc_guard calls __sanitizer_cov_trace_pc_guard in PC mode (every call
// appends); pc_guard_unique in unique mode (KCOV_UNIQUE_ENABLE, enabled here
// through REMCOV_UNIQUE_ENABLE=1) on one call site, so every call but the
// first finds its bitmap bit set: the steady-state cost of a repeated site.
// After the loop the driver checks that the calls did what was measured: the
// area's count is what N calls append (0 when disabled); otherwise it exits
// with 1 and a message, and bench/callback_cost.sh prints no figure.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "remcov/remcov.h"

#include "runtime/callbacks.h"

int main(int argc, char** argv) {
  // The callback, chosen once, outside the loop, so that the loop's own
  // instructions stay out of the callback's cost either way.
  enum {
    kPc,
    kCmp1,
    kCmp2,
    kCmp4,
    kCmp8,
    kConst1,
    kConst2,
    kConst4,
    kConst8,
    kSwitch,
    kGuard,
    kGuardUnique,
    kNone
  } cb = kNone;
  static const char* const kNames[] = {
      "pc",         "cmp1",       "cmp2",       "cmp4",
      "cmp8",       "const_cmp1", "const_cmp2", "const_cmp4",
      "const_cmp8", "switch16",   "pc_guard",   "pc_guard_unique"};
  for (int k = 0; argc == 4 && k < kNone; k++)
    if (strcmp(argv[1], kNames[k]) == 0) cb = static_cast<decltype(cb)>(k);
  const long n = argc == 4 ? atol(argv[3]) : 0;
  if (cb == kNone || n <= 0 ||
      (strcmp(argv[2], "enabled") != 0 && strcmp(argv[2], "disabled") != 0)) {
    fprintf(stderr,
            "usage: %s <pc|cmp1|cmp2|cmp4|cmp8|const_cmp1|const_cmp2|"
            "const_cmp4|const_cmp8|switch16|pc_guard|pc_guard_unique> "
            "<enabled|disabled> N (N > 0)\n",
            argv[0]);
    return 2;
  }
  const char* which = argv[1];
  const bool enabled = strcmp(argv[2], "enabled") == 0;
  const bool guard = cb == kGuard || cb == kGuardUnique;
  const bool unique = cb == kGuardUnique;
  const bool cmp = cb != kPc && !guard;
  // Large enough that nothing overflows: every call takes the append path.
  // Whole pages, as the kernel's mmap check (kcov_mmap) requires.
  unsigned long words = cmp ? 4 * static_cast<unsigned long>(n) * 17 + 8
                            : static_cast<unsigned long>(n) + 8;
  words = (words + 511) / 512 * 512;
  int fd = remcov_open();
  if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, words) != 0) return 1;
  auto* area = static_cast<volatile uint64_t*>(
      remcov_mmap(nullptr, words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                  MAP_SHARED, fd, 0));
  if (area == MAP_FAILED) return 1;
  if (unique) setenv("REMCOV_UNIQUE_ENABLE", "1", 1);
  if (enabled && unique) {
    if (remcov_ioctl(fd, REMCOV_KCOV_UNIQUE_ENABLE, 4) != 0) return 1;
  } else if (enabled && remcov_ioctl(fd, REMCOV_KCOV_ENABLE,
                                     cmp ? REMCOV_KCOV_TRACE_CMP
                                         : REMCOV_KCOV_TRACE_PC) != 0) {
    return 1;
  }
  static uint32_t guard_word = 0;
  uint64_t cases[2 + 16] = {16, 32};
  for (int i = 0; i < 16; i++) cases[2 + i] = static_cast<uint64_t>(i) * 3;
  for (long i = 0; i < n; i++) {
    const auto u = static_cast<uint64_t>(i);
    switch (cb) {
      case kPc:
        __sanitizer_cov_trace_pc();
        break;
      case kCmp1:
        __sanitizer_cov_trace_cmp1(static_cast<uint8_t>(u), 3);
        break;
      case kCmp2:
        __sanitizer_cov_trace_cmp2(static_cast<uint16_t>(u), 3);
        break;
      case kCmp4:
        __sanitizer_cov_trace_cmp4(static_cast<uint32_t>(u), 3);
        break;
      case kCmp8:
        __sanitizer_cov_trace_cmp8(u, 3);
        break;
      case kConst1:
        __sanitizer_cov_trace_const_cmp1(7, static_cast<uint8_t>(u));
        break;
      case kConst2:
        __sanitizer_cov_trace_const_cmp2(7, static_cast<uint16_t>(u));
        break;
      case kConst4:
        __sanitizer_cov_trace_const_cmp4(7, static_cast<uint32_t>(u));
        break;
      case kConst8:
        __sanitizer_cov_trace_const_cmp8(7, u);
        break;
      case kGuard:
      case kGuardUnique:
        __sanitizer_cov_trace_pc_guard(&guard_word);
        break;
      case kSwitch:
        __sanitizer_cov_trace_switch(u, cases);
        break;
      case kNone:
        break;
    }
  }
  // Entries the calls appended: one PC per call, one comparison record per
  // call, one per case per switch; one PC in all in unique mode (one site),
  // whose count word follows the 4-word bitmap.
  uint64_t expected = 0;
  if (enabled) {
    expected = cb == kSwitch ? 16 * static_cast<uint64_t>(n)
               : unique      ? 1
                             : static_cast<uint64_t>(n);
  }
  const uint64_t count = area[enabled && unique ? 4 : 0];
  if (enabled) remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
  remcov_close(fd);
  if (count != expected) {
    fprintf(stderr,
            "callback_cost: %s %s: the area holds %llu entries, %ld calls "
            "should have left %llu\n",
            which, argv[2], static_cast<unsigned long long>(count), n,
            static_cast<unsigned long long>(expected));
    return 1;
  }
  return 0;
}
