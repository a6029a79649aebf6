/* SPDX-License-Identifier: Apache-2.0 */
/* A statically linked program (-static or -static-pie) with the static
 * runtime, linked through remcov::runtime's usage requirement (issue 14,
 * item 6). It checks, as the dynamic runtime tests do:
 *  1. threads created with pthread_create and with std::thread (libstdc++.a)
 *     inherit the creator's common handle: a remote section each opens on it
 *     lands in the collector that registered it;
 *  2. handlers installed with signal() and sigaction() are wrapped: their
 *     code records nothing into the interrupted thread's local trace, while a
 *     remote section a handler opens lands in the collector;
 *  3. so are handlers installed with every other glibc installer (bsd_signal,
 *     ssignal, sysv_signal, __sysv_signal, sigset, __sigaction): the
 *     runtime's definitions, not libc.a's, are linked;
 *  4. a program the handle's thread starts (this one, run again with
 *     --carried HANDLE) with posix_spawn, posix_spawnp or a vfork child's
 *     execve, each with an environment that lacks the runtime's entry, or
 *     with system() or popen, has the handle (remcov_common_handle()): the
 * runtime's exec and spawn definitions, over libc.a's, carry it. Before the fix
 * the first pthread_create or signal() aborted ("CHECK failed: f != nullptr":
 * no dlsym(RTLD_NEXT) in a static program). Exits 0 when every check holds, 1
 * otherwise (each failure is printed). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remcov/remcov.h"

#include "probes.h"

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "FAILED at line %d: %s (errno %d: %s)\n", __LINE__, \
              #cond, errno, strerror(errno));                             \
      return 1;                                                           \
    }                                                                     \
  } while (0)

/* The linker's bounds of each probe's section (probes.c). */
#define SECTION_BOUNDS(s) extern const char __start_##s[], __stop_##s[];
SECTION_BOUNDS(remcov_probe_pthread)
SECTION_BOUNDS(remcov_probe_std_thread)
SECTION_BOUNDS(remcov_probe_signal)
SECTION_BOUNDS(remcov_probe_sigaction)
SECTION_BOUNDS(remcov_probe_main)

enum { kPthread, kStdThread, kSignal, kSigaction, kMain, kOther, kKinds };
static const char* const kKindNames[kKinds] = {
    "pthread", "std::thread", "signal", "sigaction", "main", "other"};

static int KindOf(uint64_t pc) {
  const char* p = (const char*)(uintptr_t)pc;
#define IN(s) (p >= __start_##s && p < __stop_##s)
  if (IN(remcov_probe_pthread)) return kPthread;
  if (IN(remcov_probe_std_thread)) return kStdThread;
  if (IN(remcov_probe_signal)) return kSignal;
  if (IN(remcov_probe_sigaction)) return kSigaction;
  if (IN(remcov_probe_main)) return kMain;
#undef IN
  return kOther;
}

/* Counts an area's entries per kind (word 0 is the count). */
static void Classify(const unsigned long* area, unsigned long words,
                     unsigned long counts[kKinds]) {
  unsigned long n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
  if (n > words - 1) n = words - 1;
  for (int k = 0; k < kKinds; k++) counts[k] = 0;
  for (unsigned long i = 0; i < n; i++) counts[KindOf(area[1 + i])]++;
}

static void Print(const char* what, const unsigned long counts[kKinds]) {
  printf("%s:", what);
  for (int k = 0; k < kKinds; k++) printf(" %s %lu", kKindNames[k], counts[k]);
  printf("\n");
}

#define kWords 4096UL

static uint64_t Common(uint64_t id) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, id);
}
static uint64_t Usb(uint64_t id) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, id);
}

/* ---- 1. threads ------------------------------------------------------------
 */

struct Worker {
  int (*probe)(int);
  uint64_t seen_handle; /* remcov_common_handle() in the new thread */
};

static void WorkerBody(void* arg) {
  struct Worker* w = (struct Worker*)arg;
  w->seen_handle = remcov_common_handle();
  remcov_remote_start(w->seen_handle);
  w->probe(50);
  remcov_remote_stop();
}

static void* PthreadBody(void* arg) {
  WorkerBody(arg);
  return NULL;
}

/* ---- 4. programs started from the handle's thread ------------------------
 */

/* Starts this program with --carried HANDLE each way, from the calling
 * thread, and waits: the number of ways whose program did not exit 0 (it
 * exits 0 when it has HANDLE). */
static int StartCarried(uint64_t handle) {
  static const char* const kWays[] = {"posix_spawn", "posix_spawnp",
                                      "vfork+execve", "system", "popen"};
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 4;
  self[n] = '\0';
  char handle_text[32];
  snprintf(handle_text, sizeof handle_text, "%llu", (unsigned long long)handle);
  char* const argv[] = {self, (char*)"--carried", handle_text, NULL};
  char path_entry[] = "PATH=/usr/bin:/bin";
  char* const envp[] = {path_entry, NULL};
  int failures = 0;
  for (int way = 0; way < 5; way++) {
    pid_t pid = -1;
    int status = -1;
    if (way == 0) {
      if (posix_spawn(&pid, self, NULL, NULL, argv, envp) != 0) pid = -1;
    } else if (way == 1) {
      if (posix_spawnp(&pid, self, NULL, NULL, argv, envp) != 0) pid = -1;
    } else if (way == 2) {
      pid = vfork();
      if (pid == 0) {
        execve(self, argv, envp);
        _exit(127);
      }
    } else {
      char line[4200];
      snprintf(line, sizeof line, "exec '%s' --carried %s", self, handle_text);
      if (way == 3) {
        status = system(line);
      } else {
        FILE* f = popen(line, "r");
        status = f != NULL ? pclose(f) : -1;
      }
    }
    if (pid > 0 && waitpid(pid, &status, 0) != pid) status = -1;
    printf("%s: the started program %s the handle\n", kWays[way],
           status == 0 ? "has" : "has not");
    if (status != 0) failures++;
  }
  return failures;
}

/* The collector: registers the common handle and a USB handle (for the
 * handlers), creates the two workers, starts programs (4.), then keeps the
 * registration until main is done with its signals (KCOV_DISABLE belongs to
 * the enabling thread). */
struct Owner {
  int fd;
  unsigned long* area;
  struct Worker pthread_worker, std_worker;
  int created_pthread, created_std; /* 0 on success */
  int carried_failures;
  int enabled, ready, done; /* __atomic flags */
};

static void* OwnerBody(void* arg) {
  struct Owner* o = (struct Owner*)arg;
  uint64_t buf[4] = {0};
  struct remcov_kcov_remote_arg* ra = (struct remcov_kcov_remote_arg*)buf;
  ra->trace_mode = REMCOV_KCOV_TRACE_PC;
  ra->area_size = kWords;
  ra->num_handles = 1;
  ra->common_handle = Common(0x5001);
  buf[3] = Usb(0x5002);
  if (remcov_ioctl(o->fd, REMCOV_KCOV_REMOTE_ENABLE, (unsigned long)ra) == 0) {
    __atomic_store_n(&o->enabled, 1, __ATOMIC_RELEASE);
    pthread_t t;
    o->created_pthread =
        pthread_create(&t, NULL, PthreadBody, &o->pthread_worker);
    if (o->created_pthread == 0) pthread_join(t, NULL);
    o->created_std = run_on_std_thread(WorkerBody, &o->std_worker);
    o->carried_failures = StartCarried(ra->common_handle);
  }
  __atomic_store_n(&o->ready, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&o->done, __ATOMIC_ACQUIRE)) sched_yield();
  if (__atomic_load_n(&o->enabled, __ATOMIC_ACQUIRE))
    remcov_ioctl(o->fd, REMCOV_KCOV_DISABLE, 0);
  return NULL;
}

/* ---- 2. handlers ------------------------------------------------------------
 */

static int g_signal_runs, g_sigaction_runs;

static void SignalHandler(int sig) {
  (void)sig;
  remcov_remote_start(Usb(0x5002));
  probe_signal(30);
  remcov_remote_stop();
  g_signal_runs++;
}

static void SigactionHandler(int sig, siginfo_t* info, void* uc) {
  (void)sig, (void)info, (void)uc;
  probe_sigaction(30); /* outside a section: recorded nowhere */
  remcov_remote_start(Usb(0x5002));
  probe_sigaction(30);
  remcov_remote_stop();
  g_sigaction_runs++;
}

/* ---- 3. the other installers ------------------------------------------------
 */

/* Not declared under _GNU_SOURCE (bsd_signal: X/Open before 2008) or at all
 * (__sigaction, glibc's exported alias). */
extern __sighandler_t bsd_signal(int sig, __sighandler_t handler);
extern int __sigaction(int sig, const struct sigaction* act,
                       struct sigaction* old);

static int g_plain_runs;

static void PlainHandler(int sig) {
  (void)sig;
  probe_signal(10); /* outside a section: recorded nowhere */
  g_plain_runs++;
}

static __sighandler_t InstallWithSigset(int sig, __sighandler_t handler) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return sigset(sig, handler);
#pragma GCC diagnostic pop
}

static __sighandler_t InstallWithUnderscoreSigaction(int sig,
                                                     __sighandler_t handler) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  return __sigaction(sig, &sa, NULL) == 0 ? SIG_DFL : SIG_ERR;
}

struct Installer {
  const char* name;
  __sighandler_t (*install)(int, __sighandler_t);
};
static const struct Installer kInstallers[] = {
    {"bsd_signal", bsd_signal},
    {"ssignal", ssignal},
    {"sysv_signal", sysv_signal},
    {"__sysv_signal", __sysv_signal},
    {"sigset", InstallWithSigset},
    {"__sigaction", InstallWithUnderscoreSigaction},
};

/* Installs PlainHandler with each installer and raises SIGUSR1 while the
 * thread traces locally: the handler runs, and none of its code is in the
 * trace. Returns the number of installers that failed. */
static int CheckEveryInstaller(int fd, unsigned long* local) {
  int failures = 0;
  for (size_t i = 0; i < sizeof kInstallers / sizeof kInstallers[0]; i++) {
    const struct Installer* in = &kInstallers[i];
    unsigned long counts[kKinds];
    int runs = g_plain_runs;
    if (in->install(SIGUSR1, PlainHandler) == SIG_ERR ||
        remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0) {
      fprintf(stderr, "FAILED: %s: install or enable\n", in->name);
      failures++;
      continue;
    }
    __atomic_store_n(&local[0], 0, __ATOMIC_RELAXED);
    probe_main(5);
    raise(SIGUSR1);
    probe_main(5);
    remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
    Classify(local, kWords, counts);
    printf("%s: handler ran %d time(s), main %lu, handler %lu in the trace\n",
           in->name, g_plain_runs - runs, counts[kMain], counts[kSignal]);
    if (g_plain_runs != runs + 1 || counts[kMain] == 0 ||
        counts[kSignal] != 0) {
      fprintf(stderr, "FAILED: %s: the handler is not wrapped\n", in->name);
      failures++;
    }
    signal(SIGUSR1, SIG_DFL);
  }
  return failures;
}

int main(int argc, char** argv) {
  /* 4.: run again by StartCarried: exit 0 when this image has the handle. */
  if (argc == 3 && strcmp(argv[1], "--carried") == 0)
    return remcov_common_handle() == strtoull(argv[2], NULL, 10) ? 0 : 1;
  /* Statically linked: no dynamic loader mapped this program. */
  CHECK(getauxval(AT_BASE) == 0);
  remcov_runtime_stats_t before;
  CHECK(remcov_runtime_stats(&before) == REMCOV_OK);

  struct Owner owner;
  memset(&owner, 0, sizeof owner);
  owner.pthread_worker.probe = probe_pthread;
  owner.std_worker.probe = probe_std_thread;
  owner.created_pthread = owner.created_std = -1;
  owner.carried_failures = -1;
  owner.fd = remcov_open();
  CHECK(owner.fd >= 0);
  CHECK(remcov_ioctl(owner.fd, REMCOV_KCOV_INIT_TRACE, kWords) == 0);
  owner.area = (unsigned long*)remcov_mmap(NULL, kWords * sizeof(unsigned long),
                                           PROT_READ | PROT_WRITE, MAP_SHARED,
                                           owner.fd, 0);
  CHECK(owner.area != MAP_FAILED);
  /* Created without a common handle: the plain path. */
  pthread_t owner_thread;
  CHECK(pthread_create(&owner_thread, NULL, OwnerBody, &owner) == 0);
  while (!__atomic_load_n(&owner.ready, __ATOMIC_ACQUIRE)) sched_yield();

  /* The main thread traces locally while the handlers run on it. */
  int fd = remcov_open();
  CHECK(fd >= 0);
  CHECK(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, kWords) == 0);
  unsigned long* local =
      (unsigned long*)remcov_mmap(NULL, kWords * sizeof(unsigned long),
                                  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(local != MAP_FAILED);
  CHECK(signal(SIGUSR1, SignalHandler) != SIG_ERR);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = SigactionHandler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
  /* The user's handler comes back, not the runtime's trampoline. */
  struct sigaction old;
  CHECK(sigaction(SIGUSR2, NULL, &old) == 0);
  CHECK(old.sa_sigaction == SigactionHandler);
  CHECK(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) == 0);
  __atomic_store_n(&local[0], 0, __ATOMIC_RELAXED);
  probe_main(20);
  CHECK(raise(SIGUSR1) == 0);
  CHECK(raise(SIGUSR2) == 0);
  probe_main(20);
  CHECK(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) == 0);
  CHECK(g_signal_runs == 1 && g_sigaction_runs == 1);
  unsigned long traced[kKinds];
  Classify(local, kWords, traced);
  CHECK(CheckEveryInstaller(fd, local) == 0);

  __atomic_store_n(&owner.done, 1, __ATOMIC_RELEASE);
  CHECK(pthread_join(owner_thread, NULL) == 0);
  CHECK(owner.enabled == 1);

  unsigned long remote[kKinds];
  Classify(owner.area, kWords, remote);
  Print("collector", remote);
  Print("main thread", traced);
  remcov_runtime_stats_t after;
  CHECK(remcov_runtime_stats(&after) == REMCOV_OK);
  printf(
      "inherited handles: %llu\n",
      (unsigned long long)(after.inherited_handles - before.inherited_handles));

  /* 1. Both workers were created, inherited the handle, and their sections
   * reached the collector. */
  CHECK(owner.created_pthread == 0 && owner.created_std == 0);
  CHECK(owner.pthread_worker.seen_handle == Common(0x5001));
  CHECK(owner.std_worker.seen_handle == Common(0x5001));
  CHECK(after.inherited_handles - before.inherited_handles == 2);
  CHECK(remote[kPthread] > 0);
  CHECK(remote[kStdThread] > 0);
  /* 2. Both handlers' sections reached the collector ... */
  CHECK(remote[kSignal] > 0);
  CHECK(remote[kSigaction] > 0);
  /* ... and nothing of theirs is in the interrupted thread's trace, which
   * holds its own code. */
  CHECK(traced[kMain] > 0);
  CHECK(traced[kSignal] == 0);
  CHECK(traced[kSigaction] == 0);
  CHECK(traced[kPthread] == 0 && traced[kStdThread] == 0);
  CHECK(remote[kMain] == 0);
  /* 4. Every started program had the handle. */
  CHECK(owner.carried_failures == 0);

  CHECK(munmap(local, kWords * sizeof(unsigned long)) == 0);
  CHECK(remcov_close(fd) == 0);
  CHECK(munmap(owner.area, kWords * sizeof(unsigned long)) == 0);
  CHECK(remcov_close(owner.fd) == 0);
  printf("static program: ok\n");
  return 0;
}
