/* SPDX-License-Identifier: Apache-2.0 */
/* An instrumented shared object the consumer dlopens: its callbacks bind to
 * the static runtime in the executable (remcov::runtime exports them). */
int consumer_plugin(int x) {
  if (x > 3) return x * 3;
  return x - 1;
}
