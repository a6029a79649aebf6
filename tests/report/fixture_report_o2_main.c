/* SPDX-License-Identifier: Apache-2.0 */
/* The -O2 report fixture's main (not instrumented):
 *   report_fixture_o2 ARG   runs rep_classify(ARG) and the tail-jump
 *   functions on ARG's first byte, and exits 0. */
int rep_classify(const char* s);
void rep_tail_store(int x);
void rep_tail_other(int x);
void rep_tail_two(int x);

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  (void)rep_classify(argv[1]);
  rep_tail_store(argv[1][0]);
  rep_tail_other(argv[1][0]);
  rep_tail_two(argv[1][0]);
  return 0;
}
