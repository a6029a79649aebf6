/* SPDX-License-Identifier: Apache-2.0 */
/* remcov.h compiled as C11 and linked against the runtime: the kernel-style
 * sequence open, INIT_TRACE, mmap, ENABLE, DISABLE, close, plus remote section
 * calls and the stats functions. Exits non-zero on any failure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "remcov/remcov.h"

#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      fprintf(stderr, "FAILED: %s (errno %d: %s)\n", #cond, errno, \
              strerror(errno));                                    \
      return 1;                                                    \
    }                                                              \
  } while (0)

int main(void) {
  const unsigned long words = 4096;
  int fd = remcov_open();
  CHECK(fd >= 0);
  CHECK(remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, words) == 0);
  unsigned long* cover =
      (unsigned long*)remcov_mmap(NULL, words * sizeof(unsigned long),
                                  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(cover != MAP_FAILED);
  CHECK(remcov_ioctl(fd, REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC) == 0);
  __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
  CHECK(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0) == 0);
  CHECK(remcov_ioctl(fd, 0xffff, 0) == -1 && errno == ENOTTY);
  remcov_device_stats_t ds;
  CHECK(remcov_device_stats(fd, &ds) == REMCOV_OK);
  remcov_runtime_stats_t rs;
  CHECK(remcov_runtime_stats(&rs) == REMCOV_OK);
  remcov_remote_start(remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, 1));
  remcov_remote_stop();
  CHECK(remcov_common_handle() == 0);
  CHECK(remcov_config_irq_pool(0, 0) == REMCOV_E_INVALID);
  CHECK(strcmp(remcov_strerror(REMCOV_E_NOTFOUND), "not a remcov device") == 0);
  CHECK(munmap(cover, words * sizeof(unsigned long)) == 0);
  CHECK(remcov_close(fd) == 0);
  printf("c_api: ok\n");
  return 0;
}
