// SPDX-License-Identifier: Apache-2.0
// The `remcov trace --in-process` start-up hook. When the environment names an
// inherited file (REMCOV_TRACE_FD), a program linked with the runtime makes it
// a device (remcov_rt_adopt_area), so the runtime publishes coverage straight
// into the pages the waiting `remcov trace` parent has mapped: the parent reads
// it live, with acquire loads, as it reads a kernel area, and whatever was
// published survives _exit() and fatal signals.
//
// Layout of the inherited file (docs/tools/remcov.md, "In-process mode"):
//   [0, A)        the shared area: word 0 = count, then PCs or records,
//                 A = REMCOV_TRACE_WORDS * 8 rounded up to whole pages;
//   [A, A + page) the trailer, little-endian u64 words:
//                 0 magic "RCTRACE2", 1 state (1 attached, 2 complete;
//                 stored last, with release), 2 pid, 3 mode (0 pc, 1 cmp),
//                 4 words, 5 entries that did not fit (written at exit),
//                 6 count at exit.
// The state goes to 2 in an exit() handler; a command that ends otherwise
// leaves state 1: its coverage is complete up to the crash, but the count of
// entries that did not fit is unknown (the parent says so).
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
#include <sys/stat.h>
#include <unistd.h>

#include "remcov/remcov.h"

namespace {

constexpr uint64_t kStateAttached = 1;
constexpr uint64_t kStateComplete = 2;

int g_dev_fd = -1;
pid_t g_pid = 0;
uint64_t* g_trailer = nullptr;

uint64_t ParseU64(const char* s, bool* ok) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  *ok = s[0] != '\0' && end != nullptr && *end == '\0' && errno == 0;
  return v;
}

void Flush() {
  if (g_trailer == nullptr || getpid() != g_pid) return;
  (void)remcov_ioctl(g_dev_fd, REMCOV_KCOV_DISABLE, 0);  // EINVAL off main
  remcov_device_stats_t st;
  memset(&st, 0, sizeof st);
  (void)remcov_device_stats(g_dev_fd, &st);
  g_trailer[5] = st.overflow_entries;
  // Pairs with the parent's acquire load of the state.
  __atomic_store_n(&g_trailer[1], kStateComplete, __ATOMIC_RELEASE);
  g_trailer = nullptr;
}

__attribute__((constructor)) void RemcovTraceEnvInit() {
  const char* fd_s = getenv("REMCOV_TRACE_FD");
  if (fd_s == nullptr) return;
  const char* mode_s = getenv("REMCOV_TRACE_MODE");
  const char* words_s = getenv("REMCOV_TRACE_WORDS");
  bool ok = false;
  uint64_t fd64 = ParseU64(fd_s, &ok);
  if (!ok || fd64 > 1u << 20) return;
  uint64_t words = 1u << 16;
  if (words_s != nullptr) {
    bool wok = false;
    uint64_t w = ParseU64(words_s, &wok);
    if (wok && w >= 2) words = w;
  }
  const uint64_t mode = mode_s != nullptr && strcmp(mode_s, "cmp") == 0
                            ? REMCOV_KCOV_TRACE_CMP
                            : REMCOV_KCOV_TRACE_PC;
  // Only this process: programs it executes start untraced.
  unsetenv("REMCOV_TRACE_FD");
  unsetenv("REMCOV_TRACE_MODE");
  unsetenv("REMCOV_TRACE_WORDS");
  const int fd = static_cast<int>(fd64);
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t area_bytes = (words * 8 + page - 1) / page * page;
  struct stat st;
  if (fstat(fd, &st) != 0 ||
      static_cast<uint64_t>(st.st_size) < area_bytes + page)
    return;  // not a hand-off file made by remcov trace
  void* t = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 static_cast<off_t>(area_bytes));
  if (t == MAP_FAILED) return;
  if (remcov_rt_adopt_area(fd) < 0 ||
      remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE,
                   static_cast<unsigned long>(words)) != 0 ||
      remcov_ioctl(fd, REMCOV_KCOV_ENABLE, static_cast<unsigned long>(mode)) !=
          0) {
    munmap(t, page);
    return;
  }
  g_dev_fd = fd;
  g_pid = getpid();
  g_trailer = static_cast<uint64_t*>(t);
  memcpy(&g_trailer[0], "RCTRACE2", 8);
  g_trailer[2] = static_cast<uint64_t>(g_pid);
  g_trailer[3] = mode;
  g_trailer[4] = words;
  __atomic_store_n(&g_trailer[1], kStateAttached, __ATOMIC_RELEASE);
  // Registered after the runtime's first use, so it runs before any
  // exit-time teardown the runtime registered.
  atexit(Flush);
}

}  // namespace

// Referenced from device.cc so the static archive always links this file.
REMCOV_C_API void remcov_rt_trace_env_hook(void) {}
