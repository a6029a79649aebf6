// SPDX-License-Identifier: Apache-2.0
// The `remcov trace --in-process` start-up hook. When the environment names an
// inherited hand-off file (REMCOV_TRACE_FD), a program linked with the runtime
// claims a process slot in it and makes that slot's area a device
// (AdoptAreaAt), so the runtime publishes coverage straight into the pages the
// waiting `remcov trace` parent has mapped: the parent reads it with acquire
// loads, as it reads a kernel area, and whatever was published survives
// _exit() and fatal signals.
//
// The layout of the file (process table, then per process: area, trailer,
// load-map slots) is src/handoff/handoff.h; this file writes it through
// handoff_writer.h. Every instrumented process the command starts is traced,
// each in its own slot with its own load map:
//   * a program started with the hand-off in its environment (the command,
//     or anything it executes, through shells and test runners) claims a
//     slot before main; the environment and the descriptor are left to its
//     children;
//   * a program that replaced a traced one by exec() first marks the slot
//     its pid held exec'd (the old image cannot: exec() runs no exit
//     handlers);
//   * a fork() child of a traced process claims a slot in the child side of
//     fork (a pthread_atfork handler registered after the runtime's own, so
//     it runs after the device state was reset) and starts with the parent's
//     load map, copied (dl_iterate_phdr is not safe there).
// With --no-follow (the table's follow word 0) only the process whose pid is
// the table's root pid claims, through its exec()s, as KCOV follows a task.
//
// With --threads (the table's threads word 1), every thread a traced process
// creates with pthread_create after it attached claims a slot of its own in
// a thread-start hook (thread_hook.h) and traces itself into it: one writer
// per area, so nothing is torn or lost between threads. The slot names its
// process's slot (handoff.h); the reader appends its entries to the
// process's. A thread completes its slot at thread exit (a pthread key
// destructor: return or pthread_exit); the process's exit() handler
// completes the slots of threads still running. Threads created before the
// runtime attached (by constructors that ran before this one) are not
// traced; threads they create afterwards are.
//
// The program's own use of the API wins over the tool's: the hand-off device
// of every traced thread (the main thread's too) steps aside
// (runtime/device.h, StepAsideForProgram) when that thread enables a device
// of its own, registers remote handles or starts a remote section. What it
// ran before is in the hand-off; from then on that thread's coverage goes
// only where the program sends it.
// A process that finds the table full is counted (the claim counter) and not
// traced.
//
// The state becomes complete in an exit() handler; a process that ends
// otherwise stays attached: its coverage is complete up to the end, but the
// count of entries that did not fit is unknown (the parent says so).
//
// The load map (absolute path, load bias, executable range and build-id of
// every loaded ELF object, from dl_iterate_phdr) is recorded at adoption and
// again at exit(), because after the command exits its /proc/PID/maps is
// gone. A relative loader name (LD_LIBRARY_PATH=lib) is made absolute with
// realpath(), against the working directory of the moment. The two load-map
// slots alternate: a rewrite goes to the inactive slot and is published by
// one release store of the slot number, so a process killed mid-rewrite
// leaves the previous map intact. dl_iterate_phdr takes the loader's lock and
// is not async-signal-safe: the map is never written from a signal handler;
// a process that dies of a signal keeps the adoption-time map (objects it
// dlopen()ed later are then missing, and the report counts their PCs as
// outside every module).
//
// Linked into every program that uses the static runtime: device.cc keeps a
// reference to remcov_rt_trace_env_hook.
//
// Thread safety: the constructor runs before main on the main thread; the fork
// handler runs in the child, which has one thread; the exit handler writes
// only in the process that claimed the slot it holds.
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "remcov/remcov.h"

#include "base/build_id_note.h"
#include "base/number.h"
#include "handoff/handoff.h"
#include "handoff/handoff_writer.h"
#include "runtime/device.h"
#include "runtime/thread_hook.h"

namespace {

namespace handoff = remcov::handoff;

// The table, as read at adoption.
uint64_t* g_table = nullptr;
uint64_t g_page = 0;
uint64_t g_procs = 0;
uint64_t g_proc_bytes = 0;
uint64_t g_words = 0;
uint64_t g_mode = 0;
int g_env_fd = -1;  // the inherited descriptor, left to children

// The slot this process holds (none: g_trailer == nullptr).
uint64_t g_slot = 0;
int g_dev_fd = -1;
pid_t g_pid = 0;
uint64_t* g_trailer = nullptr;
unsigned char* g_map = nullptr;  // the load-map region, after the trailer
uint64_t g_map_bytes = 0;
uint64_t g_tail_bytes = 0;  // the mapping at g_trailer
// The main program's path (dl_iterate_phdr names it ""), read at adoption.
char g_exe_path[4096];
// realpath() of a relative loader name.
char g_abs_path[PATH_MAX];

static_assert(sizeof g_exe_path == REMCOV_MODULE_PATH_MAX);

// --threads: threads claim slots (read at adoption). g_threads_on is true
// while this process is traced and its exit() handler has not started:
// written by the adopting thread and Flush (release), read by the
// thread-start hook (acquire).
bool g_threads = false;
std::atomic<bool> g_threads_on{false};
pthread_key_t g_thread_key;

// The slots this process's threads hold, by slot index. state: free ->
// live (the thread, after it attached) -> done (whoever completes it first:
// the thread's key destructor or the exit() handler; compare-and-swap).
enum : uint32_t { kThreadFree = 0, kThreadLive = 1, kThreadDone = 2 };
struct ThreadSlot {
  int fd = -1;
  uint64_t* trailer = nullptr;
  std::atomic<uint32_t> state{kThreadFree};
};
ThreadSlot g_thread_slots[REMCOV_HANDOFF_MAX_PROCS];

int RecordModule(dl_phdr_info* info, size_t /*size*/, void* arg) {
  handoff::MapWriter* w = static_cast<handoff::MapWriter*>(arg);
  uint64_t lo = 0, hi = 0;
  if (!remcov::internal::ExecutableRange(info, &lo, &hi))
    return 0;  // nothing executable
  const char* path = info->dlpi_name;
  if (path == nullptr || path[0] == '\0') path = g_exe_path;
  // The loader keeps the name it was given: relative when found through a
  // relative LD_LIBRARY_PATH entry. The coverage file promises absolute
  // paths (docs/format.md), usable from any directory.
  if (path[0] != '/' && path[0] != '\0' &&
      realpath(path, g_abs_path) != nullptr)
    path = g_abs_path;
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

uint64_t AreaBytes() { return remcov_area_bytes(g_words, g_page); }

// Maps the trailer page and load-map region of process slot i.
uint64_t* MapTail(uint64_t i) {
  const uint64_t off =
      remcov_handoff_proc_offset(g_proc_bytes, i, g_page) + AreaBytes();
  void* t = mmap(nullptr, g_proc_bytes - AreaBytes(), PROT_READ | PROT_WRITE,
                 MAP_SHARED, g_env_fd, static_cast<off_t>(off));
  return t == MAP_FAILED ? nullptr : static_cast<uint64_t*>(t);
}

// After exec(): the slot this pid held under its previous program is marked
// exec'd, so the reader does not take it for a process that died.
void MarkPredecessor() {
  const uint64_t claimed =
      __atomic_load_n(&g_table[REMCOV_HANDOFF_T_CLAIMED], __ATOMIC_ACQUIRE);
  const uint64_t used = claimed < g_procs ? claimed : g_procs;
  const uint64_t me = static_cast<uint64_t>(getpid());
  for (uint64_t i = 0; i < used; i++) {
    uint64_t* t = MapTail(i);
    if (t == nullptr) continue;
    // Pairs with the release store of the state (PublishState): the pid was
    // written before it.
    const uint64_t state =
        __atomic_load_n(&t[REMCOV_HANDOFF_W_STATE], __ATOMIC_ACQUIRE);
    if (state == REMCOV_HANDOFF_ATTACHED && t[REMCOV_HANDOFF_W_PID] == me)
      (void)handoff::MarkExeced(t);
    munmap(t, g_proc_bytes - AreaBytes());
  }
}

// Makes slot's area a device and enables it on the calling thread; its
// descriptor, or -1 (nothing left open). The descriptor is this process's own
// (close-on-exec): the device table knows a device by its descriptor, and the
// inherited one stays for the programs this process executes.
int TraceIntoSlot(uint64_t slot) {
  const int fd = fcntl(g_env_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (remcov::internal::AdoptAreaAt(
          fd, remcov_handoff_proc_offset(g_proc_bytes, slot, g_page)) < 0 ||
      remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE,
                   static_cast<unsigned long>(g_words)) != 0 ||
      remcov::internal::MarkStepsAside(fd) != 0 ||
      remcov_ioctl(fd, REMCOV_KCOV_ENABLE,
                   static_cast<unsigned long>(g_mode)) != 0) {
    (void)remcov_close(fd);
    return -1;
  }
  return fd;
}

// Claims a process slot and starts tracing this thread into it. The load map
// is copied from `parent` (a fork child: the same address space) or
// recorded. False when the table is full or the slot cannot be set up.
bool AttachSlot(uint64_t origin, uint64_t ppid, const uint64_t* parent,
                const unsigned char* parent_map) {
  const uint64_t slot = handoff::ClaimProcessSlot(g_table);
  if (slot >= g_procs) return false;  // full: counted by the claim counter
  uint64_t* t = MapTail(slot);
  if (t == nullptr) return false;
  const uint64_t tail = g_proc_bytes - AreaBytes();
  const int fd = TraceIntoSlot(slot);
  if (fd < 0) {
    munmap(t, tail);
    return false;  // the slot stays unattached: the reader counts it
  }
  g_slot = slot;
  g_dev_fd = fd;
  g_pid = getpid();
  g_trailer = t;
  g_tail_bytes = tail;
  g_map_bytes = remcov_handoff_map_region_bytes(tail, g_page);
  handoff::WriteTrailerHeader(g_trailer, static_cast<uint64_t>(g_pid), ppid,
                              origin, g_mode, g_words, g_map_bytes);
  if (g_map_bytes >= 2 * REMCOV_MODULE_RECORD_BYTES) {
    g_map = reinterpret_cast<unsigned char*>(t) + g_page;
    if (parent != nullptr) {
      handoff::PublishLoadMap(
          g_trailer, handoff::CopyLoadMap(parent, parent_map, g_trailer, g_map,
                                          g_map_bytes));
    } else {
      RecordLoadMap();
    }
  }
  handoff::PublishState(g_trailer, REMCOV_HANDOFF_ATTACHED);
  return true;
}

// Completes thread slot i: the entries that did not fit, then the state.
// `own`: called on the thread itself at its exit, which also disables and
// releases its device and mapping (the exit() handler leaves them: the
// thread may still be running).
void CompleteThreadSlot(uint64_t i, bool own) {
  ThreadSlot& r = g_thread_slots[i];
  uint32_t expected = kThreadLive;
  // Pairs with the release store that made the slot live (ThreadAttach).
  if (!r.state.compare_exchange_strong(expected, kThreadDone,
                                       std::memory_order_acq_rel))
    return;
  if (own) (void)remcov_ioctl(r.fd, REMCOV_KCOV_DISABLE, 0);  // EINVAL: aside
  remcov_device_stats_t st;
  memset(&st, 0, sizeof st);
  (void)remcov_device_stats(r.fd, &st);
  handoff::PublishComplete(r.trailer, st.overflow_entries);
  if (own) {
    (void)remcov_close(r.fd);
    munmap(r.trailer, g_proc_bytes - AreaBytes());
  }
}

// The thread key's destructor: the thread is ending (return, pthread_exit).
void ThreadDetach(void* value) {
  const uintptr_t slot = reinterpret_cast<uintptr_t>(value);
  if (slot != 0 && slot <= g_procs) CompleteThreadSlot(slot - 1, true);
}

// The thread-start hook (--threads): runs on every new thread of this
// process before its start routine; claims a slot and traces this thread
// into it. A thread that finds the table full is counted by the claim
// counter, as a process is. (A thread that starts while exit() runs may
// attach after the exit handler looked: its slot then reads as not ended.)
void ThreadAttach() {
  if (!g_threads_on.load(std::memory_order_acquire) || getpid() != g_pid)
    return;
  const uint64_t slot = handoff::ClaimProcessSlot(g_table);
  if (slot >= g_procs) return;
  uint64_t* t = MapTail(slot);
  if (t == nullptr) return;
  const int fd = TraceIntoSlot(slot);
  if (fd < 0) {
    munmap(t, g_proc_bytes - AreaBytes());
    return;  // the slot stays unattached: the reader counts it
  }
  // No load map: the reader uses the process's.
  handoff::WriteTrailerHeader(t, static_cast<uint64_t>(g_pid),
                              static_cast<uint64_t>(getppid()),
                              REMCOV_HANDOFF_THREAD, g_mode, g_words, 0);
  handoff::WriteThreadOwner(t, g_slot);
  handoff::PublishState(t, REMCOV_HANDOFF_ATTACHED);
  ThreadSlot& r = g_thread_slots[slot];
  r.fd = fd;
  r.trailer = t;
  // Pairs with the compare-and-swap in CompleteThreadSlot.
  r.state.store(kThreadLive, std::memory_order_release);
  (void)pthread_setspecific(g_thread_key,
                            reinterpret_cast<void*>(uintptr_t{slot} + 1));
}

void Flush() {
  if (g_trailer == nullptr || getpid() != g_pid) return;
  if (g_threads) {
    g_threads_on.store(false, std::memory_order_release);
    for (uint64_t i = 0; i < g_procs; i++) CompleteThreadSlot(i, false);
  }
  (void)remcov_ioctl(g_dev_fd, REMCOV_KCOV_DISABLE, 0);  // EINVAL off main
  remcov_device_stats_t st;
  memset(&st, 0, sizeof st);
  (void)remcov_device_stats(g_dev_fd, &st);
  RecordLoadMap();  // objects dlopen()ed since adoption
  handoff::PublishComplete(g_trailer, st.overflow_entries);
  g_trailer = nullptr;
}

// The child side of fork(), after the runtime's own handler (registered
// before this one) gave the child clean device state: the child claims its
// own slot. The parent's slot stays mapped here until the map is copied.
void ForkChild() {
  if (g_trailer == nullptr) return;  // this process is not traced
  // The parent's other threads do not exist here: their slots are theirs.
  // (The fork child has one thread: plain stores suffice.)
  for (ThreadSlot& r : g_thread_slots) {
    if (r.state.load(std::memory_order_relaxed) != kThreadLive) continue;
    (void)remcov_close(r.fd);
    munmap(r.trailer, g_proc_bytes - AreaBytes());
    r.state.store(kThreadFree, std::memory_order_relaxed);
  }
  // This thread may hold a thread slot of the parent's: not in the child.
  if (g_threads) (void)pthread_setspecific(g_thread_key, nullptr);
  uint64_t* parent = g_trailer;
  const unsigned char* parent_map = g_map;
  const uint64_t parent_tail = g_tail_bytes;
  const uint64_t ppid = static_cast<uint64_t>(g_pid);
  g_trailer = nullptr;
  g_map = nullptr;
  (void)AttachSlot(REMCOV_HANDOFF_FORKED, ppid, parent, parent_map);
  munmap(parent, parent_tail);
}

// The table the tool wrote, checked before anything is trusted: a program
// may have inherited a descriptor with this number that is something else.
bool ReadTable(int fd) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) < page)
    return false;
  void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return false;
  uint64_t* table = static_cast<uint64_t*>(p);
  const uint64_t procs = table[REMCOV_HANDOFF_T_PROCS];
  const uint64_t words = table[REMCOV_HANDOFF_T_WORDS];
  const bool ok =
      memcmp(&table[REMCOV_HANDOFF_T_MAGIC], REMCOV_HANDOFF_TABLE_MAGIC,
             REMCOV_HANDOFF_MAGIC_BYTES) == 0 &&
      procs >= 1 && procs <= REMCOV_HANDOFF_MAX_PROCS && words >= 2 &&
      words <= INT_MAX / 8 && table[REMCOV_HANDOFF_T_MODE] <= 1 &&
      table[REMCOV_HANDOFF_T_PROC_BYTES] ==
          remcov_handoff_proc_bytes(remcov_area_bytes(words, page), page) &&
      remcov_handoff_proc_offset(table[REMCOV_HANDOFF_T_PROC_BYTES], procs,
                                 page) <= static_cast<uint64_t>(st.st_size);
  if (!ok) {
    munmap(p, page);
    return false;
  }
  g_table = table;
  g_page = page;
  g_procs = procs;
  g_words = words;
  g_proc_bytes = table[REMCOV_HANDOFF_T_PROC_BYTES];
  g_mode = table[REMCOV_HANDOFF_T_MODE];
  g_threads = table[REMCOV_HANDOFF_T_THREADS] == 1;
  g_env_fd = fd;
  return true;
}

__attribute__((constructor)) void RemcovTraceEnvInit() {
  const char* fd_s = getenv(REMCOV_HANDOFF_ENV_FD);
  if (fd_s == nullptr) return;
  uint64_t fd64 = 0;
  if (!remcov::internal::ParseNumber(fd_s, 0, 1u << 20, &fd64) ||
      !ReadTable(static_cast<int>(fd64)))
    return;
  const bool follow = g_table[REMCOV_HANDOFF_T_FOLLOW] == 1;
  if (!follow &&
      g_table[REMCOV_HANDOFF_T_ROOT_PID] != static_cast<uint64_t>(getpid()))
    return;  // --no-follow: not the command's own process
  const ssize_t n =
      readlink("/proc/self/exe", g_exe_path, sizeof g_exe_path - 1);
  g_exe_path[n > 0 ? n : 0] = '\0';
  MarkPredecessor();
  if (!AttachSlot(REMCOV_HANDOFF_STARTED, static_cast<uint64_t>(getppid()),
                  nullptr, nullptr))
    return;
  // After the runtime's own fork handlers (registered when the device was
  // adopted), so the child's device state is clean when this one runs.
  if (follow) (void)pthread_atfork(nullptr, nullptr, ForkChild);
  if (g_threads && pthread_key_create(&g_thread_key, ThreadDetach) == 0) {
    g_threads_on.store(true, std::memory_order_release);
    remcov::internal::SetThreadStartHook(ThreadAttach);
  }
  // Registered after the runtime's first use, so it runs before any
  // exit-time teardown the runtime registered.
  atexit(Flush);
}

}  // namespace

// Referenced from device.cc so the static archive always links this file.
REMCOV_C_API void remcov_rt_trace_env_hook(void) {}
