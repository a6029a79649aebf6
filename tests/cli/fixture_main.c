/* SPDX-License-Identifier: Apache-2.0 */
/* The fixture program for `remcov trace --in-process` (not instrumented):
 *   cli_fixture ARG [EXIT]   runs cli_dispatch(ARG) and exits with EXIT;
 *   cli_fixture ARG abort    runs cli_dispatch(ARG) and dies of SIGABRT;
 *   cli_fixture ARG thread   runs cli_dispatch(ARG) in a second thread only;
 *   cli_fixture ARG fork ARG2  runs cli_dispatch(ARG), then forks a child
 *                            that runs cli_dispatch(ARG2) and exits; waits;
 *   cli_fixture ARG exec PROG ARGS...  runs cli_dispatch(ARG), then
 *                            execv(PROG, [PROG, ARGS...]);
 *   cli_fixture ARG corrupt  runs cli_dispatch(ARG), then overwrites the
 *                            process table of the `remcov trace` hand-off
 *                            (a buggy program scribbling on shared memory). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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
  if (argc > 3 && strcmp(argv[2], "fork") == 0) {
    pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid == 0) exit(cli_dispatch(argv[3]) >= 0 ? 0 : 1);
    int ws = 0;
    if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws)) return 3;
    return WEXITSTATUS(ws);
  }
  if (argc > 3 && strcmp(argv[2], "exec") == 0) {
    execv(argv[3], argv + 3);
    return 127;
  }
  if (argc > 2 && strcmp(argv[2], "corrupt") == 0) {
    const char* fd = getenv("REMCOV_TRACE_FD");
    if (fd == NULL) return 4;
    uint64_t* table = (uint64_t*)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                      MAP_SHARED, atoi(fd), 0);
    if (table == MAP_FAILED) return 4;
    table[1] = 0xdeadbeef; /* the process slot count */
    return 0;
  }
  if (argc > 2 && strcmp(argv[2], "abort") == 0) abort();
  return argc > 2 ? atoi(argv[2]) : 0;
}
