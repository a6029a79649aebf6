/* SPDX-License-Identifier: Apache-2.0 */
/* The fixture program for `remcov trace --in-process` (not instrumented):
 *   cli_fixture ARG [EXIT]   runs cli_dispatch(ARG) and exits with EXIT;
 *   cli_fixture ARG abort    runs cli_dispatch(ARG) and dies of SIGABRT. */
#include <stdlib.h>
#include <string.h>

int cli_dispatch(const char* s);

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  (void)cli_dispatch(argv[1]);
  if (argc > 2 && strcmp(argv[2], "abort") == 0) abort();
  return argc > 2 ? atoi(argv[2]) : 0;
}
