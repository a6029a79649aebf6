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
//                 6 count at exit, 7 active load-map slot (0 none, 1, 2;
//                 stored last, with release), 8/9 slot 1 bytes/modules,
//                 10/11 slot 2 bytes/modules, 12 load map did not fit (1),
//                 13 bytes of the load-map region;
//   [A + page, end) the load-map region, two equal slots. Each holds module
//                 records in the coverage file's encoding (docs/format.md,
//                 "Module table"; decoded by remcov::ParseModules).
// The state goes to 2 in an exit() handler; a command that ends otherwise
// leaves state 1: its coverage is complete up to the crash, but the count of
// entries that did not fit is unknown (the parent says so).
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

namespace {

constexpr uint64_t kStateAttached = 1;
constexpr uint64_t kStateComplete = 2;

int g_dev_fd = -1;
pid_t g_pid = 0;
uint64_t* g_trailer = nullptr;
unsigned char* g_map = nullptr;  // the load-map region, after the trailer
uint64_t g_map_bytes = 0;
// The main program's path (dl_iterate_phdr names it ""), read at adoption.
char g_exe_path[4096];

// The encoding of docs/format.md, "Module table" (mirrors
// remcov::SerializeModules, which the runtime cannot link).
constexpr uint64_t kModuleRecordBytes = 40;
constexpr size_t kBuildIdMax = 64;

struct MapWriter {
  unsigned char* out;
  uint64_t cap;
  uint64_t used;
  uint64_t count;
  bool overflow;
};

void PutLe(unsigned char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++)
    p[i] = static_cast<unsigned char>(v >> (8 * i));
}

int RecordModule(dl_phdr_info* info, size_t /*size*/, void* arg) {
  MapWriter* w = static_cast<MapWriter*>(arg);
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
  const unsigned char* id =
      remcov::internal::FindBuildIdNote(info, kBuildIdMax, &id_len);
  const uint64_t bytes =
      kModuleRecordBytes + ((path_len + id_len + 7) & ~uint64_t{7});
  if (bytes > w->cap - w->used) {
    w->overflow = true;
    return 0;
  }
  unsigned char* r = w->out + w->used;
  memset(r, 0, bytes);
  PutLe(r, 0, 4);  // kind: user
  PutLe(r + 4, 0, 4);
  PutLe(r + 8, path_len, 4);
  PutLe(r + 12, id_len, 4);
  PutLe(r + 16, lo, 8);
  PutLe(r + 24, hi, 8);
  PutLe(r + 32, info->dlpi_addr, 8);
  memcpy(r + kModuleRecordBytes, path, path_len);
  if (id != nullptr) memcpy(r + kModuleRecordBytes + path_len, id, id_len);
  w->used += bytes;
  w->count++;
  return 0;
}

// Writes the load map into the inactive slot and publishes it. Not
// async-signal-safe (dl_iterate_phdr): called at adoption and from exit().
void RecordLoadMap() {
  if (g_map == nullptr) return;
  // Relaxed: this process is the only writer of the slot word.
  const uint64_t active = __atomic_load_n(&g_trailer[7], __ATOMIC_RELAXED);
  const uint64_t slot = active == 1 ? 2 : 1;  // the one not being read
  const uint64_t half = g_map_bytes / 2;
  MapWriter w{g_map + (slot - 1) * half, half, 0, 0, false};
  dl_iterate_phdr(RecordModule, &w);
  g_trailer[8 + 2 * (slot - 1)] = w.used;
  g_trailer[9 + 2 * (slot - 1)] = w.count;
  g_trailer[12] = w.overflow ? 1 : 0;
  // Pairs with the acquire load of the slot in `remcov trace` (ReadHandOff).
  __atomic_store_n(&g_trailer[7], slot, __ATOMIC_RELEASE);
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
  g_trailer[5] = st.overflow_entries;
  RecordLoadMap();  // objects dlopen()ed since adoption
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
  memcpy(&g_trailer[0], "RCTRACE2", 8);
  g_trailer[2] = static_cast<uint64_t>(g_pid);
  g_trailer[3] = mode;
  g_trailer[4] = words;
  g_map_bytes = (tail - page) & ~uint64_t{15};  // two 8-byte-aligned slots
  g_trailer[13] = g_map_bytes;
  if (g_map_bytes >= 2 * kModuleRecordBytes) {
    g_map = static_cast<unsigned char*>(t) + page;
    const ssize_t n =
        readlink("/proc/self/exe", g_exe_path, sizeof g_exe_path - 1);
    g_exe_path[n > 0 ? n : 0] = '\0';
    RecordLoadMap();
  }
  __atomic_store_n(&g_trailer[1], kStateAttached, __ATOMIC_RELEASE);
  // Registered after the runtime's first use, so it runs before any
  // exit-time teardown the runtime registered.
  atexit(Flush);
}

}  // namespace

// Referenced from device.cc so the static archive always links this file.
REMCOV_C_API void remcov_rt_trace_env_hook(void) {}
