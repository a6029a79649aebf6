/* SPDX-License-Identifier: Apache-2.0 */
/* The instrumented part of the `remcov trace --in-process` fixture: which
 * cli_* functions run depends on the argument, so the CLI tests can assert the
 * exact set of functions covered (and one known comparison). */
#include <string.h>

int cli_digits(const char* s) {
  /* Unsigned: the size tests pass thousands of digits (no signed overflow). */
  unsigned n = 0;
  for (; *s; s++) n = n * 10u + (unsigned)(*s - '0');
  return (int)n;
}

int cli_letters(const char* s) { return (int)strlen(s); }

int cli_never_called(int x) { return x * 3; }

int cli_compare(unsigned long long v) {
  /* One 8-byte comparison against a constant: 0x4b434f56 ("KCOV"). */
  if (v == 0x4b434f56ull) return 1;
  return 0;
}

int cli_dispatch(const char* s) {
  if (s[0] >= '0' && s[0] <= '9') return cli_digits(s);
  if (s[0] >= 'a' && s[0] <= 'z') return cli_letters(s);
  return cli_compare((unsigned long long)s[0]);
}
