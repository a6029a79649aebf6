/* SPDX-License-Identifier: Apache-2.0 */
/* The program tests/trace/trace_run_test.cc traces in-process:
 *   trace_fixture MODE FILE
 * writes the run-time addresses of its instrumented functions (in source
 * order, which -O0 keeps in memory) to FILE, then calls
 * trace_fixture_called() and, when MODE is "both",
 * trace_fixture_also_called() (with MODE "thread", in a second thread);
 * trace_fixture_never_called() never runs. The exit status is MODE's
 * length. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) int trace_fixture_called(int x) { return x + 1; }

__attribute__((noinline)) int trace_fixture_also_called(int x) { return x * 2; }

__attribute__((noinline)) int trace_fixture_never_called(int x) {
  return x - 3;
}

__attribute__((noinline)) int trace_fixture_end(void) { return 0; }

static void* also_called_thread(void* arg) {
  (void)trace_fixture_also_called(*(int*)arg);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) return 100;
  FILE* f = fopen(argv[2], "w");
  if (f == NULL) return 101;
  fprintf(f, "%p %p %p %p\n", (void*)&trace_fixture_called,
          (void*)&trace_fixture_also_called, (void*)&trace_fixture_never_called,
          (void*)&trace_fixture_end);
  if (fclose(f) != 0) return 102;
  int r = trace_fixture_called(argc);
  if (strcmp(argv[1], "both") == 0) r += trace_fixture_also_called(r);
  if (strcmp(argv[1], "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, also_called_thread, &r) != 0 ||
        pthread_join(t, NULL) != 0)
      return 103;
  }
  (void)r;
  return (int)strlen(argv[1]);
}
