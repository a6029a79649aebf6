/* SPDX-License-Identifier: Apache-2.0 */
/* A small instrumented module for the instrumented-site and symbolizer
 * tests: branches, a switch, comparisons against constants and variables,
 * and a static helper the optimizer inlines (inlined frames). Built by
 * tests/symbolize/CMakeLists.txt with gcc and clang, as a shared library
 * calling the callbacks through the PLT and, with -fno-plt, through the GOT. */
#include <stddef.h>

static inline int classify(char c) {
  if (c >= '0' && c <= '9') return 1;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 2;
  return 3;
}

__attribute__((noinline)) int sites_fixture_weight(int kind, int n) {
  switch (kind) {
    case 1:
      return n * 3;
    case 2:
      return n + 7;
    case 3:
      return n ^ 0x55;
    default:
      return -1;
  }
}

int sites_fixture_run(const char* s, size_t n) {
  int total = 0;
  for (size_t i = 0; i < n; i++) {
    int kind = classify(s[i]);
    if (kind == 2 && i > 2 && s[i] == s[i - 1]) total += 100;
    total += sites_fixture_weight(kind, (int)i);
  }
  if ((size_t)total < n) total = -total;
  return total;
}
