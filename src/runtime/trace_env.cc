// SPDX-License-Identifier: Apache-2.0
// The `remcov trace --in-process` start-up hook: when the environment names an
// inherited descriptor (REMCOV_TRACE_FD), a program linked with the runtime
// opens a runtime device at start-up, enables tracing on the main thread, and
// at exit() writes the published coverage to that descriptor for the waiting
// `remcov trace` parent (docs/tools/remcov.md, "In-process mode").
//
// Interim design, using only the public C API: the runtime's device area is a
// process-private memfd, so the parent cannot map it; the child therefore hands
// the coverage over once, at exit. Coverage after exit() handlers run, and of
// processes that end in _exit() or a signal, is not delivered.
//
// Hand-off record (all little-endian u64, written at offset 0 of the fd):
//   magic "RCTRACE1", mode (0 pc, 1 cmp), word bytes (8), raw count (word 0),
//   overflow entries (remcov_device_stats), entries written n, then n PCs or
//   n * 4 record words.
//
// Linked into every program that uses the static runtime: device.cc keeps a
// reference to remcov_rt_trace_env_hook.
//
// Thread safety: the constructor runs before main on the main thread; the exit
// handler runs once, in the process that started tracing (forked children
// that call exit() do not write).
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "remcov/remcov.h"

namespace {

int g_out_fd = -1;
int g_dev_fd = -1;
pid_t g_pid = 0;
uint64_t* g_area = nullptr;
uint64_t g_words = 0;
uint64_t g_mode = 0;

bool WriteAll(int fd, const void* p, size_t n, off_t off) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = pwrite(fd, c, n, off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return true;
}

void Flush() {
  if (g_area == nullptr || getpid() != g_pid) return;
  (void)remcov_ioctl(g_dev_fd, REMCOV_KCOV_DISABLE,
                     0);  // EINVAL off the main thread
  // Pairs with the runtime's release publication of the count.
  uint64_t count = __atomic_load_n(&g_area[0], __ATOMIC_ACQUIRE);
  const uint64_t per = g_mode == REMCOV_KCOV_TRACE_CMP ? 4 : 1;
  const uint64_t cap = (g_words - 1) / per;
  uint64_t n = count < cap ? count : cap;
  remcov_device_stats_t st;
  memset(&st, 0, sizeof st);
  (void)remcov_device_stats(g_dev_fd, &st);
  uint64_t header[6];
  memcpy(&header[0], "RCTRACE1", 8);
  header[1] = g_mode;
  header[2] = 8;
  header[3] = count;
  header[4] = st.overflow_entries;
  header[5] = n;
  if (WriteAll(g_out_fd, header, sizeof header, 0))
    (void)WriteAll(g_out_fd, g_area + 1, n * per * 8, sizeof header);
  g_area = nullptr;
}

uint64_t ParseU64(const char* s, bool* ok) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  *ok = s[0] != '\0' && end != nullptr && *end == '\0' && errno == 0;
  return v;
}

__attribute__((constructor)) void RemcovTraceEnvInit() {
  const char* fd_s = getenv("REMCOV_TRACE_FD");
  if (fd_s == nullptr) return;
  const char* mode_s = getenv("REMCOV_TRACE_MODE");
  const char* words_s = getenv("REMCOV_TRACE_WORDS");
  bool ok = false;
  uint64_t out = ParseU64(fd_s, &ok);
  if (!ok || out > 1u << 20) return;
  uint64_t words = 1u << 16;
  if (words_s != nullptr) {
    bool wok = false;
    uint64_t w = ParseU64(words_s, &wok);
    if (wok && w >= 2) words = w;
  }
  uint64_t mode = mode_s != nullptr && strcmp(mode_s, "cmp") == 0
                      ? REMCOV_KCOV_TRACE_CMP
                      : REMCOV_KCOV_TRACE_PC;
  // Only this process: programs it executes start untraced.
  unsetenv("REMCOV_TRACE_FD");
  unsetenv("REMCOV_TRACE_MODE");
  unsetenv("REMCOV_TRACE_WORDS");
  g_out_fd = static_cast<int>(out);
  (void)fcntl(g_out_fd, F_SETFD, FD_CLOEXEC);
  int dev = remcov_open();
  if (dev < 0) return;
  if (remcov_ioctl(dev, REMCOV_KCOV_INIT_TRACE,
                   static_cast<unsigned long>(words)) != 0) {
    remcov_close(dev);
    return;
  }
  void* p = remcov_mmap(nullptr, words * 8, PROT_READ | PROT_WRITE, MAP_SHARED,
                        dev, 0);
  if (p == MAP_FAILED) {
    remcov_close(dev);
    return;
  }
  if (remcov_ioctl(dev, REMCOV_KCOV_ENABLE, static_cast<unsigned long>(mode)) !=
      0) {
    munmap(p, words * 8);
    remcov_close(dev);
    return;
  }
  g_dev_fd = dev;
  g_area = static_cast<uint64_t*>(p);
  g_words = words;
  g_mode = mode;
  g_pid = getpid();
  // The enable call's tail may have been traced (reference section 3.9).
  __atomic_store_n(&g_area[0], 0, __ATOMIC_RELAXED);
  // Registered after the runtime's first use, so it runs before any exit-time
  // teardown the runtime registered.
  atexit(Flush);
}

}  // namespace

// Referenced from device.cc so the static archive always links this file.
REMCOV_C_API void remcov_rt_trace_env_hook(void) {}
