// SPDX-License-Identifier: Apache-2.0
// The `remcov trace --in-process` start-up hook. When the environment names an
// inherited file (REMCOV_TRACE_FD), a program linked with the runtime makes it
// a device (remcov_rt_adopt_area), so the runtime publishes coverage straight
// into the pages the waiting `remcov trace` parent has mapped: the parent reads
// it live, with acquire loads, as it reads a kernel area, and whatever was
// published survives _exit() and fatal signals.
//
// The layout of the inherited file (area, trailer, load-map slots) is
// src/handoff/handoff.h; this file writes it through handoff_writer.h.
// The state becomes complete in an exit() handler; a command that ends
// otherwise stays attached: its coverage is complete up to the crash, but the
// count of entries that did not fit is unknown (the parent says so).
//
// The load map (path, load bias, executable range and build-id of every
// loaded ELF object, from dl_iterate_phdr) is recorded at adoption and again
// at exit(), because after the command exits its /proc/PID/maps is gone. The
// two slots alternate: a rewrite goes to the inactive slot and is published
// by one release store of the slot number, so a command killed mid-rewrite
// leaves the previous map intact. dl_iterate_phdr takes the loader's lock and
// is not async-signal-safe: the map is never written from a signal handler;
// a command that dies of a signal keeps the adoption-time map (objects it
// dlopen()ed later are then missing, and the report counts their PCs as
// outside every module).
//
// Linked into every program that uses the static runtime: device.cc keeps a
// reference to remcov_rt_trace_env_hook.
//
// Thread safety: the constructor runs before main on the main thread; the exit
// handler runs once, in the process that started tracing (forked children
// that call exit() do not write).
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remcov/remcov.h"

#include "base/build_id_note.h"
#include "handoff/handoff.h"
#include "handoff/handoff_writer.h"

namespace {

namespace handoff = remcov::handoff;

int g_dev_fd = -1;
pid_t g_pid = 0;
uint64_t* g_trailer = nullptr;
unsigned char* g_map = nullptr;  // the load-map region, after the trailer
uint64_t g_map_bytes = 0;
// The main program's path (dl_iterate_phdr names it ""), read at adoption.
char g_exe_path[4096];

static_assert(sizeof g_exe_path == REMCOV_MODULE_PATH_MAX);

int RecordModule(dl_phdr_info* info, size_t /*size*/, void* arg) {
  handoff::MapWriter* w = static_cast<handoff::MapWriter*>(arg);
  uint64_t lo = 0, hi = 0;
  if (!remcov::internal::ExecutableRange(info, &lo, &hi))
    return 0;  // nothing executable
  const char* path = info->dlpi_name;
  if (path == nullptr || path[0] == '\0') path = g_exe_path;
  size_t path_len = strlen(path);
  if (path_len == 0) {
    path = "?";
    path_len = 1;
  }
  if (path_len > sizeof g_exe_path) path_len = sizeof g_exe_path;
  size_t id_len = 0;
  const unsigned char* id = remcov::internal::FindBuildIdNote(
      info, REMCOV_MODULE_BUILD_ID_MAX, &id_len);
  handoff::AddModule(w, /*kind=user*/ 0, /*flags=*/0, path,
                     static_cast<uint32_t>(path_len), id,
                     id != nullptr ? static_cast<uint32_t>(id_len) : 0, lo, hi,
                     info->dlpi_addr);
  return 0;
}

// Writes the load map into the inactive slot and publishes it. Not
// async-signal-safe (dl_iterate_phdr): called at adoption and from exit().
void RecordLoadMap() {
  if (g_map == nullptr) return;
  handoff::MapWriter w = handoff::BeginLoadMap(g_trailer, g_map, g_map_bytes);
  dl_iterate_phdr(RecordModule, &w);
  handoff::PublishLoadMap(g_trailer, w);
}

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
  RecordLoadMap();  // objects dlopen()ed since adoption
  handoff::PublishComplete(g_trailer, st.overflow_entries);
  g_trailer = nullptr;
}

__attribute__((constructor)) void RemcovTraceEnvInit() {
  const char* fd_s = getenv(REMCOV_HANDOFF_ENV_FD);
  if (fd_s == nullptr) return;
  const char* mode_s = getenv(REMCOV_HANDOFF_ENV_MODE);
  const char* words_s = getenv(REMCOV_HANDOFF_ENV_WORDS);
  bool ok = false;
  uint64_t fd64 = ParseU64(fd_s, &ok);
  if (!ok || fd64 > 1u << 20) return;
  uint64_t words = REMCOV_HANDOFF_DEFAULT_WORDS;
  if (words_s != nullptr) {
    bool wok = false;
    uint64_t w = ParseU64(words_s, &wok);
    if (wok && w >= 2) words = w;
  }
  const uint64_t mode = mode_s != nullptr && strcmp(mode_s, "cmp") == 0
                            ? REMCOV_KCOV_TRACE_CMP
                            : REMCOV_KCOV_TRACE_PC;
  // Only this process: programs it executes start untraced.
  unsetenv(REMCOV_HANDOFF_ENV_FD);
  unsetenv(REMCOV_HANDOFF_ENV_MODE);
  unsetenv(REMCOV_HANDOFF_ENV_WORDS);
  const int fd = static_cast<int>(fd64);
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t area_bytes = remcov_area_bytes(words, page);
  struct stat st;
  if (fstat(fd, &st) != 0 ||
      static_cast<uint64_t>(st.st_size) < area_bytes + page)
    return;  // not a hand-off file made by remcov trace
  // Whatever follows the trailer is the load-map region (may be empty).
  const uint64_t tail = static_cast<uint64_t>(st.st_size) - area_bytes;
  void* t = mmap(nullptr, tail, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 static_cast<off_t>(area_bytes));
  if (t == MAP_FAILED) return;
  if (remcov_rt_adopt_area(fd) < 0 ||
      remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE,
                   static_cast<unsigned long>(words)) != 0 ||
      remcov_ioctl(fd, REMCOV_KCOV_ENABLE, static_cast<unsigned long>(mode)) !=
          0) {
    munmap(t, tail);
    return;
  }
  g_dev_fd = fd;
  g_pid = getpid();
  g_trailer = static_cast<uint64_t*>(t);
  g_map_bytes = remcov_handoff_map_region_bytes(tail, page);
  handoff::WriteTrailerHeader(g_trailer, static_cast<uint64_t>(g_pid), mode,
                              words, g_map_bytes);
  if (g_map_bytes >= 2 * REMCOV_MODULE_RECORD_BYTES) {
    g_map = static_cast<unsigned char*>(t) + page;
    const ssize_t n =
        readlink("/proc/self/exe", g_exe_path, sizeof g_exe_path - 1);
    g_exe_path[n > 0 ? n : 0] = '\0';
    RecordLoadMap();
  }
  handoff::PublishState(g_trailer, REMCOV_HANDOFF_ATTACHED);
  // Registered after the runtime's first use, so it runs before any
  // exit-time teardown the runtime registered.
  atexit(Flush);
}

}  // namespace

// Referenced from device.cc so the static archive always links this file.
REMCOV_C_API void remcov_rt_trace_env_hook(void) {}
