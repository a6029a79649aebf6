/* SPDX-License-Identifier: Apache-2.0 */
/* The `remcov report` fixture's main (not instrumented):
 *   report_fixture ARG   runs rep_classify(ARG) and exits 0. */
int rep_classify(const char* s);

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  (void)rep_classify(argv[1]);
  return 0;
}
