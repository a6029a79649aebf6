/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A process that did not fork from the collector: domain_test starts it with
 * posix_spawn, REMCOV_DOMAIN in its environment (so it joins the domain
 * before main). Built with the kernel's instrumentation and linked with
 * remcov's runtime.
 *   domain_member run HANDLE N: prints the PCs one Work() records under a
 *     local trace of its own ("pcs K pc1 pc2 ..."), then runs N remote
 *     sections with HANDLE around Work() and prints its runtime counters
 *     ("stats attaches A failures F handler_misses M"). Exit 0.
 *   domain_member register HANDLE: KCOV_REMOTE_ENABLE of HANDLE on a device
 *     of its own; prints "registered" or "errno E", then waits until its
 *     standard input closes. Exit 0, or 3 when the registration failed.
 *   domain_member join PATH: remcov_domain_join(PATH); prints "joined" or
 *     "failed R errno E". Exit 0.
 *   domain_member run-common N: prints "handle H" (remcov_common_handle(): a
 *     handle this image came with across exec), then as "run" with H.
 *   domain_member signal HANDLE: a section with HANDLE in a SIGUSR1 handler
 *     before any task section used it, then one task section, then the
 *     handler's section again; prints "handler_misses M attaches A" after
 *     the first signal and after the second, and "moved_pcs K" (one Work()
 *     under a local trace: what each section should move).
 *   domain_member exec-owner FD HANDLE N: the image a remote owner exec'd
 *     (the owner registered HANDLE and a common handle on the device FD
 *     before exec): prints "handle H" (remcov_common_handle()), runs N
 *     sections with HANDLE on a new thread and N with H on another (threads
 *     the owner creates inherit H), prints "ready" and waits for a line on
 *     its standard input, then DISABLEs FD and prints "disable R errno E",
 *     and runs one more section with HANDLE on a thread (after DISABLE it
 *     starts nothing). Exit 0.
 *   domain_member family-join HANDLE PATH: forks (a child that exits at
 *     once: this process now has its family domain), registers HANDLE on a
 *     device of its own (published in the family domain), then joins the
 *     domain PATH (its registration moves there) and prints "joined" or
 *     "failed R errno E"; waits for a line on its standard input and prints
 *     "count N" (its area's count word). Exit 0.
 *   domain_member register-exec HANDLE: registers HANDLE on a device of its
 *     own (main thread), prints "registered", then execs itself as
 *     "serve" from a second thread (the registering thread ends at the
 *     exec). Exits 3 when the registration failed.
 *   domain_member serve: a long-lived server: for each line "HANDLE" read
 *     from standard input, runs one remote section with HANDLE around Work()
 *     and prints "attaches A failures F" (its runtime counters). Exit 0 at
 *     the end of its input.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remcov/remcov.h"

#include "program_work.h"

enum { kWords = 4096 };

static int OpenDevice(unsigned long** area) {
  const int fd = remcov_open();
  if (fd < 0) return -1;
  if (remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords) != 0) return -1;
  *area = remcov_mmap(NULL, kWords * sizeof(unsigned long),
                      PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return *area == MAP_FAILED ? -1 : fd;
}

static int Run(uint64_t handle, long n) {
  unsigned long* area;
  const int fd = OpenDevice(&area);
  if (fd < 0) return 4;
  if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0) return 5;
  __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
  g_sink = Work(g_n);
  const unsigned long k = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
  if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0) return 6;
  printf("pcs %lu", k);
  for (unsigned long i = 0; i < k; i++) printf(" %lx", area[1 + i]);
  printf("\n");
  for (long i = 0; i < n; i++) {
    remcov_remote_start(handle);
    g_sink = Work(g_n);
    remcov_remote_stop();
  }
  remcov_runtime_stats_t s;
  remcov_runtime_stats(&s);
  printf("stats attaches %llu failures %llu handler_misses %llu\n",
         (unsigned long long)s.domain_attaches,
         (unsigned long long)s.domain_attach_failures,
         (unsigned long long)s.domain_handler_misses);
  return 0;
}

static volatile uint64_t g_signal_handle;

static void OnSignal(int sig) {
  (void)sig;
  remcov_remote_start(g_signal_handle);
  g_sink = Work(g_n);
  remcov_remote_stop();
}

static void PrintSignalStats(void) {
  remcov_runtime_stats_t s;
  remcov_runtime_stats(&s);
  printf("handler_misses %llu attaches %llu\n",
         (unsigned long long)s.domain_handler_misses,
         (unsigned long long)s.domain_attaches);
}

static int Signal(uint64_t handle) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 7;
  g_signal_handle = handle;
  raise(SIGUSR1);  // not attached yet: counted, records nothing
  PrintSignalStats();
  remcov_remote_start(handle);  // task context: attaches
  g_sink = Work(g_n);
  remcov_remote_stop();
  raise(SIGUSR1);  // attached: the handler's section lands
  PrintSignalStats();
  return 0;
}

static int Serve(void) {
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
    remcov_remote_start(strtoull(line, NULL, 0));
    g_sink = Work(g_n);
    remcov_remote_stop();
    remcov_runtime_stats_t s;
    remcov_runtime_stats(&s);
    printf("attaches %llu failures %llu\n",
           (unsigned long long)s.domain_attaches,
           (unsigned long long)s.domain_attach_failures);
    fflush(stdout);
  }
  return 0;
}

/* KCOV_REMOTE_ENABLE of one handle on fd: 0, or -1 with errno. */
static int RegisterOne(int fd, uint64_t handle) {
  /* The argument and its one handle, as the kernel's ABI lays them out. */
  uint64_t buf[(sizeof(struct remcov_kcov_remote_arg) / sizeof(uint64_t)) + 1];
  memset(buf, 0, sizeof buf);
  struct remcov_kcov_remote_arg* ra = (struct remcov_kcov_remote_arg*)buf;
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = 1024;
  ra->num_handles = 1;
  ra->handles[0] = handle;
  return remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE, (unsigned long)ra);
}

static int Register(uint64_t handle) {
  unsigned long* area;
  const int fd = OpenDevice(&area);
  if (fd < 0) return 4;
  if (RegisterOne(fd, handle) != 0) {
    printf("errno %d\n", errno);
    fflush(stdout);
    return 3;
  }
  printf("registered\n");
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}

static void* ExecServe(void* self) {
  execl((const char*)self, (const char*)self, "serve", (char*)NULL);
  return NULL;
}

static int RegisterExec(uint64_t handle, char* self) {
  unsigned long* area;
  const int fd = OpenDevice(&area);
  if (fd < 0) return 4;
  if (RegisterOne(fd, handle) != 0) return 3;
  printf("registered\n");
  fflush(stdout);
  pthread_t t;
  if (pthread_create(&t, NULL, ExecServe, self) != 0) return 11;
  pthread_join(t, NULL);
  return 12; /* the exec failed */
}

static int FamilyJoin(uint64_t handle, const char* path) {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid < 0 || waitpid(pid, NULL, 0) != pid) return 10;
  unsigned long* area;
  const int fd = OpenDevice(&area);
  if (fd < 0) return 4;
  if (RegisterOne(fd, handle) != 0) return 3;
  const int r = remcov_domain_join(path);
  if (r == REMCOV_OK) {
    printf("joined\n");
  } else {
    printf("failed %d errno %d\n", r, errno);
  }
  fflush(stdout);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) return 9;
  printf("count %lu\n", __atomic_load_n(&area[0], __ATOMIC_ACQUIRE));
  return 0;
}

struct Sections {
  uint64_t handle; /* 0: the thread's common handle */
  long n;
};

static void* RunSections(void* arg) {
  const struct Sections* s = (const struct Sections*)arg;
  const uint64_t handle = s->handle ? s->handle : remcov_common_handle();
  for (long i = 0; i < s->n; i++) {
    remcov_remote_start(handle);
    g_sink = Work(g_n);
    remcov_remote_stop();
  }
  return NULL;
}

/* Sections on a new thread: the owner's own task must not run one (the
   kernel's kcov_remote_start is for other contexts). */
static int OnThread(uint64_t handle, long n) {
  struct Sections s = {handle, n};
  pthread_t t;
  if (pthread_create(&t, NULL, RunSections, &s) != 0) return -1;
  return pthread_join(t, NULL);
}

static int ExecOwner(int fd, uint64_t handle, long n) {
  printf("handle %llu\n", (unsigned long long)remcov_common_handle());
  if (OnThread(handle, n) != 0 || OnThread(0, n) != 0) return 8;
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) return 9;
  errno = 0;
  const int r = remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
  printf("disable %d errno %d\n", r, r == 0 ? 0 : errno);
  fflush(stdout);
  return OnThread(handle, 1) == 0 ? 0 : 8;
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "run") == 0)
    return Run(strtoull(argv[2], NULL, 0), strtol(argv[3], NULL, 0));
  if (argc == 2 && strcmp(argv[1], "serve") == 0) return Serve();
  if (argc == 4 && strcmp(argv[1], "family-join") == 0)
    return FamilyJoin(strtoull(argv[2], NULL, 0), argv[3]);
  if (argc == 5 && strcmp(argv[1], "exec-owner") == 0)
    return ExecOwner(atoi(argv[2]), strtoull(argv[3], NULL, 0),
                     strtol(argv[4], NULL, 0));
  if (argc == 3 && strcmp(argv[1], "signal") == 0)
    return Signal(strtoull(argv[2], NULL, 0));
  if (argc == 3 && strcmp(argv[1], "run-common") == 0) {
    const uint64_t handle = remcov_common_handle();
    printf("handle %llu\n", (unsigned long long)handle);
    return Run(handle, strtol(argv[2], NULL, 0));
  }
  if (argc == 3 && strcmp(argv[1], "register-exec") == 0)
    return RegisterExec(strtoull(argv[2], NULL, 0), argv[0]);
  if (argc == 3 && strcmp(argv[1], "register") == 0)
    return Register(strtoull(argv[2], NULL, 0));
  if (argc == 3 && strcmp(argv[1], "join") == 0) {
    const int r = remcov_domain_join(argv[2]);
    if (r == REMCOV_OK) {
      printf("joined\n");
    } else {
      printf("failed %d errno %d\n", r, errno);
    }
    return 0;
  }
  return 2;
}
