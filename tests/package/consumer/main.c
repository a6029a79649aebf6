/* SPDX-License-Identifier: Apache-2.0 */
/* A C program linked with remcov's runtime, as a user builds one from the
 * installed package; `remcov trace --in-process` runs it. Uses the C API so
 * the header and the library are both exercised. */
#include <stdio.h>
#include <stdlib.h>

#include "remcov/remcov.h"
#include "remcov/version.h"

int pkg_classify(int x);

int main(int argc, char** argv) {
  int x = argc > 1 ? atoi(argv[1]) : 0;
  printf("pkg_consumer: remcov %s, class %d, %s\n", REMCOV_VERSION_STRING,
         pkg_classify(x), remcov_strerror(REMCOV_OK));
  return 0;
}
