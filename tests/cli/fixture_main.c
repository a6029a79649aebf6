/* SPDX-License-Identifier: Apache-2.0 */
/* The fixture program for `remcov trace --in-process` (not instrumented):
 *   cli_fixture ARG [EXIT]   runs cli_dispatch(ARG) and exits with EXIT;
 *   cli_fixture ARG abort    runs cli_dispatch(ARG) and dies of SIGABRT;
 *   cli_fixture ARG thread   runs cli_dispatch(ARG) in a second thread only. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

int cli_dispatch(const char* s);

static void* run_dispatch(void* arg) {
  (void)cli_dispatch((const char*)arg);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (argc > 2 && strcmp(argv[2], "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, run_dispatch, argv[1]) != 0) return 3;
    return pthread_join(t, NULL) == 0 ? 0 : 3;
  }
  (void)cli_dispatch(argv[1]);
  if (argc > 2 && strcmp(argv[2], "abort") == 0) abort();
  return argc > 2 ? atoi(argv[2]) : 0;
}
