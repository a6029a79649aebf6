/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image a device_sharing_test child execs while it owns a device
 * (kernel: exec keeps the task and its t->kcov). Built with the kernel's
 * instrumentation and linked with remcov's runtime.
 *   exec_image traces FD WORDS: the device on FD is traced by this image from
 *     its start (main runs under it); exits 0 when a call into instrumented
 *     code grew the area's count and DISABLE (this image's thread is the
 *     owner) succeeds, else a code naming the step that failed.
 *   exec_image idle FD WORDS: records nothing itself; exits 0 after the
 *     device is checked to be INIT (ENABLE then DISABLE succeed).
 *   exec_image remote-owner FD WORDS: the image of a remote owner: exits 0
 *     after its DISABLE succeeds (it is still the owner) and the device is
 *     then INIT (ENABLE then DISABLE succeed).
 *   exec_image from-thread WHO FD WORDS: execs this program again from a
 *     second thread (argv[0]: its path): with WHO "thread", that thread
 *     enables the device on FD and execs "traces FD WORDS"; with WHO "main",
 *     the first thread enables it and the second execs "idle FD WORDS" (its
 *     owner ended at the exec). Exits 10 or more when a step before the exec
 *     failed, else with the new image's code.
 *   exec_image blind: runs instrumented code and exits 0; it knows no
 *     descriptor of the device (the old image's were close-on-exec): the
 *     exec'ing test reads what it recorded through its own mapping.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "remcov/remcov.h"

#include "program_work.h"

struct ExecFrom {
  char** argv; /* exec_image from-thread WHO FD WORDS */
  int enable;  /* this thread enables the device first */
};

static void* ExecFromThread(void* p) {
  const struct ExecFrom* e = (const struct ExecFrom*)p;
  if (e->enable && remcov_ioctl(atoi(e->argv[3]), REMCOV_KCOV_ENABLE,
                                REMCOV_KCOV_TRACE_PC) != 0)
    return NULL;
  execl(e->argv[0], e->argv[0], e->enable ? "traces" : "idle", e->argv[3],
        e->argv[4], (char*)NULL);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc == 5 && strcmp(argv[1], "from-thread") == 0) {
    struct ExecFrom e = {argv, strcmp(argv[2], "thread") == 0};
    if (!e.enable && remcov_ioctl(atoi(argv[3]), REMCOV_KCOV_ENABLE,
                                  REMCOV_KCOV_TRACE_PC) != 0)
      return 10;
    pthread_t t;
    if (pthread_create(&t, NULL, ExecFromThread, &e) != 0) return 11;
    pthread_join(t, NULL);
    return 12; /* the exec failed */
  }
  if (argc == 2 && strcmp(argv[1], "blind") == 0) {
    g_sink = Work(g_n);
    return 0;
  }
  if (argc != 4) return 2;
  const int fd = atoi(argv[2]);
  const unsigned long words = strtoul(argv[3], NULL, 10);
  unsigned long* area = remcov_mmap(NULL, words * sizeof(unsigned long),
                                    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (area == MAP_FAILED) return 3;
  if (strcmp(argv[1], "traces") == 0) {
    const unsigned long before = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
    g_sink = Work(g_n);
    const unsigned long after = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
    if (after <= before) return 4;
    if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0) return 5;
    return 0;
  }
  if (strcmp(argv[1], "remote-owner") == 0) {
    if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0) return 8;
    if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
      return 6;
    if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0) return 7;
    return 0;
  }
  if (strcmp(argv[1], "idle") == 0) {
    if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) != 0)
      return 6;
    if (remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) != 0) return 7;
    return 0;
  }
  return 2;
}
