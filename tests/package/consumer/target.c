/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer's code under test, built with -fsanitize-coverage=trace-pc -g:
 * pkg_classify runs, pkg_never does not. */
int pkg_classify(int x) {
  if (x > 100) return 3;
  if (x > 10) return 2;
  return 1;
}

int pkg_never(int x) {
  if (x == 7) return 70;
  return x * 2;
}
