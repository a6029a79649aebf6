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
 *                            (a buggy program scribbling on shared memory);
 *   cli_fixture ARG pool N [detached]  a pool of N threads runs
 *                            cli_dispatch(ARG) (the main thread runs no
 *                            instrumented code); the first worker also
 *                            creates a thread that runs cli_dispatch("abc").
 *                            Joined, or with "detached" left blocked while
 *                            main calls exit();
 *   cli_fixture ARG early    a thread created by a constructor that runs
 *                            before remcov's runtime attaches (priority 101)
 *                            runs cli_dispatch("abc") once main releases it,
 *                            then creates a thread that runs cli_dispatch(ARG);
 *   cli_fixture ARG own      uses remcov's API itself: main runs
 *                            cli_dispatch("+"), then cli_dispatch(ARG) into a
 *                            local device of its own; registers a remote
 *                            device with a common handle; a thread runs
 *                            cli_dispatch("abc"), then cli_dispatch(ARG) in a
 *                            remote section. Exits 5 unless both devices of
 *                            its own got entries. */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remcov/kcov_abi.h"
#include "remcov/remcov.h"

int cli_dispatch(const char* s);

static void* run_dispatch(void* arg) {
  (void)cli_dispatch((const char*)arg);
  return NULL;
}

/* ---- pool ---- */
static const char* g_pool_arg;
static sem_t g_pool_done;

static void* pool_worker(void* first) {
  (void)cli_dispatch(g_pool_arg);
  if (first != NULL) {
    pthread_t t;
    if (pthread_create(&t, NULL, run_dispatch, (void*)"abc") != 0 ||
        pthread_join(t, NULL) != 0)
      exit(3);
  }
  return NULL;
}

static void* pool_worker_detached(void* first) {
  (void)pool_worker(first);
  sem_post(&g_pool_done);
  for (;;) pause(); /* still running when main calls exit() */
  return NULL;
}

static int run_pool(const char* arg, int n, int detached) {
  pthread_t t[16];
  if (n < 1 || n > 16) return 2;
  g_pool_arg = arg;
  if (sem_init(&g_pool_done, 0, 0) != 0) return 3;
  for (int i = 0; i < n; i++) {
    if (pthread_create(&t[i], NULL,
                       detached ? pool_worker_detached : pool_worker,
                       i == 0 ? (void*)1 : NULL) != 0)
      return 3;
  }
  for (int i = 0; i < n; i++) {
    if (detached ? sem_wait(&g_pool_done) != 0 : pthread_join(t[i], NULL) != 0)
      return 3;
  }
  exit(0);
}

/* ---- early ---- */
static sem_t g_early_go;
static pthread_t g_early;
static int g_early_started;
static const char* g_early_arg;

static void* early_thread(void* unused) {
  (void)unused;
  while (sem_wait(&g_early_go) != 0) {
  }
  (void)cli_dispatch("abc");
  pthread_t t;
  if (pthread_create(&t, NULL, run_dispatch, (void*)g_early_arg) != 0 ||
      pthread_join(t, NULL) != 0)
    exit(3);
  return NULL;
}

/* Before remcov's runtime attaches (its constructor has the default
 * priority). Only when the test asks: every other mode is unchanged. */
__attribute__((constructor(101))) static void start_early_thread(void) {
  if (getenv("CLI_FIXTURE_EARLY_THREAD") == NULL) return;
  if (sem_init(&g_early_go, 0, 0) != 0) return;
  g_early_started = pthread_create(&g_early, NULL, early_thread, NULL) == 0;
}

/* ---- own ---- */
static volatile uint64_t* open_own(int* fd, uint64_t words) {
  *fd = remcov_open();
  if (*fd < 0 || remcov_ioctl(*fd, REMCOV_KCOV_INIT_TRACE, words) != 0)
    return NULL;
  void* p =
      remcov_mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
  return p == MAP_FAILED ? NULL : (volatile uint64_t*)p;
}

static void* own_worker(void* arg) {
  (void)cli_dispatch("abc");
  remcov_remote_start(remcov_common_handle());
  (void)cli_dispatch((const char*)arg);
  remcov_remote_stop();
  return NULL;
}

static int run_own(const char* arg) {
  (void)cli_dispatch("+");
  int local_fd, remote_fd;
  volatile uint64_t* local = open_own(&local_fd, 4096);
  if (local == NULL ||
      remcov_ioctl(local_fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0) {
    perror("own local device");
    return 4;
  }
  (void)cli_dispatch(arg);
  const uint64_t local_n = __atomic_load_n(&local[0], __ATOMIC_ACQUIRE);
  if (remcov_ioctl(local_fd, REMCOV_KCOV_DISABLE, 0) != 0) return 4;
  volatile uint64_t* remote = open_own(&remote_fd, 4096);
  uint64_t buf[3] = {0};
  struct remcov_kcov_remote_arg* ra = (struct remcov_kcov_remote_arg*)buf;
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = 1024;
  ra->num_handles = 0;
  ra->common_handle =
      remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, 0x7e57);
  if (remote == NULL || remcov_ioctl(remote_fd, REMCOV_KCOV_REMOTE_ENABLE,
                                     (unsigned long)buf) != 0) {
    perror("own remote device");
    return 4;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, own_worker, (void*)arg) != 0 ||
      pthread_join(t, NULL) != 0)
    return 3;
  const uint64_t remote_n = __atomic_load_n(&remote[0], __ATOMIC_ACQUIRE);
  (void)remcov_ioctl(remote_fd, REMCOV_KCOV_DISABLE, 0);
  fprintf(stderr, "own: local %llu remote %llu\n", (unsigned long long)local_n,
          (unsigned long long)remote_n);
  return local_n > 0 && remote_n > 0 ? 0 : 5;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (argc > 3 && strcmp(argv[2], "pool") == 0)
    return run_pool(argv[1], atoi(argv[3]),
                    argc > 4 && strcmp(argv[4], "detached") == 0);
  if (argc > 2 && strcmp(argv[2], "early") == 0) {
    if (!g_early_started) return 6;
    g_early_arg = argv[1];
    if (sem_post(&g_early_go) != 0 || pthread_join(g_early, NULL) != 0)
      return 3;
    return 0;
  }
  if (argc > 2 && strcmp(argv[2], "own") == 0) return run_own(argv[1]);
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
