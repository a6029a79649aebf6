/* SPDX-License-Identifier: Apache-2.0 */
/* The instrumented part of the `remcov report` fixture (golden reports):
 * which lines run depends on the argument; rep_clamp is always inlined, so
 * its sites are attributed to it (the innermost frame), and rep_never never
 * runs. One statement per line keeps the line coverage readable (and
 * clang-format off keeps it so: the golden reports pin line numbers). */
/* clang-format off */

static inline __attribute__((always_inline)) int rep_clamp(int v) {
  if (v > 9)
    return 9;
  return v;
}

int rep_letters(int n) {
  int total = 0;
  for (int i = 0; i < n; i++)
    total += i;
  return total;
}

int rep_never(int x) {
  if (x > 3)
    return x * 2;
  return x;
}

int rep_classify(const char* s) {
  int digits = 0;
  int letters = 0;
  int other = 0;
  for (; *s; s++) {
    if (*s >= '0' && *s <= '9')
      digits++;
    else if (*s >= 'a' && *s <= 'z')
      letters++;
    else
      other++;
  }
  if (digits > letters)
    return rep_clamp(digits);
  if (letters > 0)
    return rep_letters(letters);
  return -other;
}
/* clang-format on */
