/* SPDX-License-Identifier: Apache-2.0 */
int consumer_target(int x) {
  if (x > 10) return x * 2;
  return x + 1;
}
