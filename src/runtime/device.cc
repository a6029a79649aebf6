// SPDX-License-Identifier: Apache-2.0
// The device side of the runtime: remcov_open/ioctl/mmap/close with the
// kernel's state machine, check order and errno values (kernel/kcov.c:
// kcov_open, kcov_ioctl, kcov_ioctl_locked, kcov_mmap, kcov_close,
// kcov_task_exit). Deliberate differences from the kernel are listed in
// docs/kcov.md.
//
// Not a hot path: may allocate and lock. Not async-signal-safe.
#include "runtime/device.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <unordered_map>

#include "remcov/remcov.h"

#include "base/raw_check.h"
#include "runtime/domain.h"
#include "runtime/proc_stat.h"
#include "runtime/robust_mutex.h"
#include "runtime/thread_state.h"

namespace remcov::internal {

constinit thread_local ThreadState tls_state;
constinit RuntimeCounters g_counters;

constinit DeviceSlotMem g_device_slots[kMaxDevices];

// Pulls the `remcov trace --in-process` start-up hook (trace_env.cc) out of the
// static runtime archive into every program that uses the runtime: the
// callbacks reference tls_state, defined here.
extern "C" void remcov_rt_trace_env_hook(void);
__attribute__((used)) static void (*const g_keep_trace_env_hook)(void) =
    &remcov_rt_trace_env_hook;

namespace {

constinit std::mutex g_table_mu;  // guards slot allocation and the fd index
// Slots [0, g_slots_used) have been allocated at some time (guarded by
// g_table_mu): the fork handlers lock only those devices.
constinit uint32_t g_slots_used = 0;
constinit pthread_key_t g_exit_key;
constinit pthread_once_t g_once = PTHREAD_ONCE_INIT;

// The memfd inode -> slot index: every descriptor naming a device's file
// (dup, dup2, fcntl(F_DUPFD), fork, SCM_RIGHTS) finds the same view.
std::unordered_map<ino_t, uint32_t>& InodeIndex() {  // guarded by g_table_mu
  static auto* index = new std::unordered_map<ino_t, uint32_t>();
  return *index;
}

// Descriptor -> slot of the adopted hand-off areas (AdoptAreaAt): one file
// holds every traced process's slot, so they are told apart by descriptor.
std::unordered_map<int, uint32_t>& AdoptedIndex() {  // guarded by g_table_mu
  static auto* index = new std::unordered_map<int, uint32_t>();
  return *index;
}

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
size_t RoundUpToPage(size_t n) {
  size_t p = PageSize();
  return (n + p - 1) / p * p;
}

// ---- control pages ----
// Each slot's page after its view (DeviceSlotMem::control): a view maps its
// device's control page there with MAP_FIXED, and a freed view replaces it
// with a private zero page, so Device::sh() never changes and never dangles
// (type-stable, as the slots are).
DeviceShared* ControlPageOf(uint32_t slot) { return DeviceAt(slot)->sh(); }

void InitControlPage(DeviceShared* sh) {
  InitRobustSharedMutex(&sh->mu);
  sh->version = kControlVersion;
  sh->mode.store(kDevDisabled, std::memory_order_relaxed);
  // Release: a process that finds the magic finds an initialized page.
  std::atomic_thread_fence(std::memory_order_release);
  memcpy(sh->magic, kControlMagic, sizeof kControlMagic);
}

// Maps the control page of `fd` (or, fd < 0, a shared anonymous page: an
// adopted hand-off file, which only fork children share) at the slot's
// address; initializes it when `create`. 0 or errno.
int MapControlPage(uint32_t slot, int fd, bool create) {
  void* want = ControlPageOf(slot);
  void* p = fd < 0 ? mmap(want, PageSize(), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                   : mmap(want, PageSize(), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_FIXED, fd,
                          static_cast<off_t>(kControlOffset));
  if (p == MAP_FAILED) return ENOMEM;
  if (create) InitControlPage(ControlPageOf(slot));
  return 0;
}

// A freed view: its page becomes a private zero page (mode DISABLED, zero
// counters), so a late reader of a stale section touches nothing shared.
void UnmapControlPage(uint32_t slot) {
  REMCOV_RAW_CHECK(mmap(ControlPageOf(slot), PageSize(), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                        0) != MAP_FAILED);
}

// The control page's robust mutex. A holder that died (EOWNERDEAD) left the
// fields consistent: every update under it writes the owner before the mode
// and clears the mode before the owner, and a dead owner is reaped.
class SharedLock : public RobustLock {
 public:
  explicit SharedLock(DeviceShared* sh) : RobustLock(&sh->mu) {}
};

}  // namespace

// ---- the owner task's identity across processes ----
// A process's start time (field 22 of /proc/PID/stat) tells it from a later
// process that reused its pid (proc_stat.h).
// Threads of the process may compute them at once (each holding only its
// own device's mutexes): the start time is stored before the pid (release),
// and both values are the same whoever computes them. The child side of fork
// clears them (AtForkChild).
constinit std::atomic<pid_t> g_self_pid{0};
constinit std::atomic<uint64_t> g_self_start{0};
pid_t SelfPid() {
  pid_t pid = g_self_pid.load(std::memory_order_acquire);
  if (pid == 0) {
    char state;
    uint64_t start = 0;
    pid = getpid();
    if (!ReadTaskStat(static_cast<uint32_t>(pid), 0, &state, &start)) start = 0;
    g_self_start.store(start, std::memory_order_relaxed);
    g_self_pid.store(pid, std::memory_order_release);
  }
  return pid;
}
uint64_t SelfStart() {
  (void)SelfPid();
  return g_self_start.load(std::memory_order_relaxed);
}

namespace {

// Whether the owner recorded in sh is gone: its process exited (or is a
// zombie), or the pid now names another process. An owner in this process is
// one of its threads (Device::owner) or, with none, the task that enabled the
// device before this image was exec'd (the kernel's task keeps t->kcov across
// exec): alive. REQUIRES: sh->mu held.
bool OwnerGoneLocked(const Device* d) {
  const DeviceShared* sh = d->sh();
  if (sh->owner_pid == 0) return false;
  if (sh->owner_pid == SelfPid()) return false;
  return !ProcessAlive(sh->owner_pid, sh->owner_start);
}

// kernel: kcov_task_exit of an owner whose process died without disabling
// (SIGKILL, _exit, exit from another thread): the device returns to INIT.
// Noticed by the next process that asks, before its answer is computed.
// REQUIRES: d->mu and sh->mu held.
// Returns the device to INIT with no owner: the mode first, the owner after,
// so a holder that dies between them leaves an INIT device with a stale
// owner, which ReapDeadOwnerLocked clears. REQUIRES: sh->mu held.
void ClearOwnerLocked(DeviceShared* sh) {
  sh->mode.store(kDevInit, std::memory_order_relaxed);
  sh->owner_remote = 0;
  sh->owner_tid = 0;
  sh->owner_start = 0;
  sh->owner_pid = 0;
}

void ReapDeadOwnerLocked(Device* d) {
  if (!OwnerGoneLocked(d)) return;
  ClearOwnerLocked(d->sh());
  d->sh()->owner_exits.fetch_add(1, std::memory_order_relaxed);
}

// Records the calling thread as the owner. REQUIRES: sh->mu held.
void SetOwnerLocked(DeviceShared* sh, uint32_t mode, bool remote) {
  sh->owner_pid = SelfPid();
  sh->owner_tid = static_cast<int32_t>(syscall(SYS_gettid));
  sh->owner_start = SelfStart();
  sh->owner_remote = remote ? 1 : 0;
  sh->mode.store(mode, std::memory_order_relaxed);
}

// Room for a KCOV_REMOTE_ENABLE argument with the most handles the kernel
// accepts: the ioctl's copy of the caller's, and the one a new image reads
// back from the control page.
struct RemoteArgBuffer {
  alignas(remcov_kcov_remote_arg) unsigned char bytes
      [sizeof(remcov_kcov_remote_arg) +
       REMCOV_KCOV_REMOTE_MAX_HANDLES * sizeof(uint64_t)];
  remcov_kcov_remote_arg* arg() {
    return reinterpret_cast<remcov_kcov_remote_arg*>(bytes);
  }
};

// A remote owner's REMOTE_ENABLE argument, kept in the control page for a
// new image of its process (DeviceShared::remote_*). REQUIRES: sh->mu held;
// ra->num_handles already bounded by REMCOV_KCOV_REMOTE_MAX_HANDLES.
void SaveRemoteArgLocked(DeviceShared* sh, const remcov_kcov_remote_arg* ra) {
  sh->remote_trace_mode = ra->trace_mode;
  sh->remote_area_size = ra->area_size;
  sh->remote_num_handles = ra->num_handles;
  sh->remote_common_handle = ra->common_handle;
  memcpy(sh->remote_handles, ra->handles, ra->num_handles * sizeof(uint64_t));
}

// Copies the saved argument into ra (room for the most handles); false when
// the page's count is out of range (written by a corrupt member).
// REQUIRES: sh->mu held.
bool LoadRemoteArgLocked(const DeviceShared* sh, remcov_kcov_remote_arg* ra) {
  const uint32_t n = sh->remote_num_handles;
  if (n > REMCOV_KCOV_REMOTE_MAX_HANDLES) return false;
  ra->trace_mode = sh->remote_trace_mode;
  ra->area_size = sh->remote_area_size;
  ra->num_handles = n;
  ra->pad = 0;
  ra->common_handle = sh->remote_common_handle;
  memcpy(ra->handles, sh->remote_handles, n * sizeof(uint64_t));
  return true;
}

// Whether this process still holds a descriptor naming the file (dev, ino):
// the kernel keeps a file, and so the device, while any descriptor refers to
// it. Not a hot path (remcov_close only).
// Calls visit(fd, stat) for each open descriptor of this process (from
// /proc/self/fd) until it returns true. False when the list cannot be read.
template <typename Visit>
bool ForEachDescriptor(Visit visit) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return false;
  const int self = dirfd(dir);
  while (struct dirent* e = readdir(dir)) {
    char* end;
    long n = strtol(e->d_name, &end, 10);
    if (*end != '\0' || end == e->d_name || n == self) continue;
    struct stat st;
    if (fstat(static_cast<int>(n), &st) == 0 && visit(static_cast<int>(n), st))
      break;
  }
  closedir(dir);
  return true;
}

// `except`: the runtime's own descriptor of the file (Device::domain_fd),
// which is no reference of the program's.
bool AnyDescriptorFor(dev_t dev, ino_t ino, int except) {
  bool found = false;
  const bool listed = ForEachDescriptor([&](int fd, const struct stat& st) {
    found = fd != except && st.st_dev == dev && st.st_ino == ino;
    return found;
  });
  return found || !listed;  // cannot tell: keep the view
}

bool ComparisonsDisabled() {
  // Emulates a kernel without CONFIG_KCOV_ENABLE_COMPARISONS (ENOTSUPP), so
  // clients can test that path in-process.
  return RuntimeEnvNumber(kNoComparisons) == 1;
}

bool UniqueSupported() {
  // Emulates a kernel with the unmerged KCOV_UNIQUE_ENABLE series applied
  // (CONFIG_KCOV_UNIQUE). Off by default: released kernels answer ENOTTY,
  // and so does the runtime (docs/kcov.md).
  return RuntimeEnvNumber(kUniqueEnable) == 1;
}

void ThreadExit(void* arg);
// fork: every mutex the runtime holds is taken around fork in the lock order
// (g_table_mu, device mu, then remote.cc's), so the child never inherits one
// held by a thread that does not exist there, nor state such a thread was
// half-way through changing. The move locks (spinlocks held for one copy) are
// not taken: the child resets them (AtForkChild).
void AtForkPrepare() {
  // Before any lock: making it publishes under the registration lock.
  EnsureFamilyDomain();
  g_table_mu.lock();
  for (uint32_t i = 0; i < g_slots_used; i++) DeviceAt(i)->mu.lock();
  RemoteLocksForFork(true);
}
void AtForkParent() {
  RemoteLocksForFork(false);
  for (uint32_t i = g_slots_used; i-- > 0;) DeviceAt(i)->mu.unlock();
  g_table_mu.unlock();
}
void AtForkChild();

// Set once g_exit_key exists (InitOnce); read by signal handlers.
constinit std::atomic<bool> g_exit_key_ready{false};

void AtProcessExit();

void InitOnce() {
  LinkInterposers();
  // The control pages are mapped over the slots' own pages (device.h).
  REMCOV_RAW_CHECK(PageSize() == kControlPageBytes);
  REMCOV_RAW_CHECK(atexit(AtProcessExit) == 0);
  REMCOV_RAW_CHECK(pthread_key_create(&g_exit_key, ThreadExit) == 0);
  REMCOV_RAW_CHECK(pthread_atfork(AtForkPrepare, AtForkParent, AtForkChild) ==
                   0);
  g_exit_key_ready.store(true, std::memory_order_release);
}

// Frees this process's view (the device itself lives on in every other
// process and descriptor that holds it). REQUIRES: d->mu held. The slot
// stays in the table: sections still in flight find a newer sequence there,
// and the control page's address stays mapped (to a private zero page).
void FreeViewLocked(Device* d) {
  if (d->area != nullptr) munmap(d->area, d->map_bytes);
  d->area = nullptr;
  d->map_bytes = 0;
  d->size = 0;
  d->remote = false;
  d->owner = nullptr;
  d->has_fd = false;
  d->adopted = false;
  d->steps_aside = false;
  d->base = 0;
  d->fd = -1;
  if (d->domain_fd >= 0) close(d->domain_fd);
  d->domain_fd = -1;
  d->domain_view = false;
  d->sequence.fetch_add(1, std::memory_order_acq_rel);
  UnmapControlPage(DeviceSlot(d));
  d->in_use = false;
  // The index entry goes when the caller holds g_table_mu (ForgetInode).
}

// Frees the view once nothing in this process holds the device: no
// descriptor and no owner thread (kernel: kcov_put at the last reference).
// REQUIRES: d->mu held.
void MaybeFreeViewLocked(Device* d) {
  if (d->owner == nullptr && !d->has_fd) FreeViewLocked(d);
}

// kernel: kcov_disable = kcov_task_reset(t) + kcov_remote_reset + kcov_reset.
void DisableLocked(Device* d, ThreadState& t) {
  {
    SharedLock shared(d->sh());
    ClearOwnerLocked(d->sh());
  }
  StopTracing(t);
  t.map = nullptr;  // ThreadState::map's invariant: null when not counting
  t.bitmap = nullptr;
  t.bitmap_bits = 0;
  t.device = nullptr;
  t.common_handle = 0;  // kcov_task_reset clears kcov_handle
  if (d->remote) {
    UnregisterRemote(d);
    SetAccepting(d, false);  // sequence++: in-flight sections are dropped
  } else {
    d->sequence.fetch_add(1, std::memory_order_acq_rel);
  }
  d->owner = nullptr;
  d->remote = false;
  d->remote_size = 0;
  d->counter_bits = 0;
}

void ThreadExit(void*) {
  ThreadState& t = tls_state;
  // A handler that never returned (pthread_exit, cancellation, or a jump out
  // of it before the thread ended): its section ends, its area goes back.
  LeaveSignalLevelsAbove(t, 0);
  ReleaseThreadAreas(t);
  Device* d = t.device;
  if (d == nullptr) return;
  std::lock_guard<std::mutex> lock(d->mu);
  if (d->owner == &t) {
    DisableLocked(d, t);
    MaybeFreeViewLocked(d);
  }
}

// kernel: kcov_task_exit for the thread that calls exit(): pthread key
// destructors do not run for it, so its device would stay enabled until
// another process noticed the death. Threads still running at exit are left
// to that (they may still record until the process ends).
void AtProcessExit() {
  ThreadState& t = tls_state;
  Device* d = t.device;
  if (d == nullptr || t.remote != nullptr || t.irq_depth != 0) return;
  std::lock_guard<std::mutex> lock(d->mu);
  if (d->owner == &t) {
    DisableLocked(d, t);
    MaybeFreeViewLocked(d);
  }
}

void AtForkChild() {
  // The kernel gives a child clean kcov state, keeping only kcov_handle.
  // The mutexes were locked by this thread in AtForkPrepare; the child has no
  // other thread, so they are made anew (unlocked).
  new (&g_table_mu) std::mutex();
  ThreadState& t = tls_state;
  StoreModeRelaxed(t, kModeDisabled);
  t.area = nullptr;
  t.capacity = 0;
  t.overflow = nullptr;
  t.remote = nullptr;
  t.device = nullptr;
  t.bitmap = nullptr;
  t.bitmap_bits = 0;
  t.irq_depth = 0;
  t.softirq_active = 0;
  t.saved = TraceContext{};
  // The devices are shared with the parent (their control pages are shared
  // mappings of their files): their owner, if any, is a thread of the
  // parent, so the child can neither disable nor re-enable them, as in the
  // kernel. The child keeps its parent's handle map, so its sections reach
  // the parent's devices (remote.cc, "the handle map"; docs/kcov.md, "fork").
  // SelfPid() reads the child's identity anew.
  g_self_pid.store(0, std::memory_order_relaxed);
  g_self_start.store(0, std::memory_order_relaxed);
  ResetRemoteAfterFork();
  for (uint32_t i = 0; i < g_slots_used; i++) {
    Device* d = DeviceAt(i);
    new (&d->mu) std::mutex();
    d->owner = nullptr;
    // A move lock held at fork by another thread would never be released
    // here (that thread does not exist in the child). The copy it guarded
    // goes on in the parent, which releases the control page's half.
    d->move_lock.ResetAfterFork();
    d->pending.store(nullptr, std::memory_order_relaxed);
    d->shared_held = false;
    d->remote = false;
    d->remote_size = 0;
    // domain_fd stays: the child's copy of its parent's descriptor names the
    // same number in the parent, which a program the child execs opens to
    // reach the parent's device (ExportCommonHandle).
  }
}

// Whether fd is a remcov device's memfd: a memfd (F_GET_SEALS answers only
// for those) large enough to hold a control page that carries the magic.
// REQUIRES: g_table_mu held (so two threads do not attach one file twice).
bool IsDeviceFile(int fd, const struct stat& st) {
  if (!S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) < kControlOffset + sizeof(DeviceShared))
    return false;
  if (fcntl(fd, F_GET_SEALS) < 0) return false;
  // The magic and the version: a control page of another layout (a program
  // linked with another remcov) is not taken for one of ours.
  struct {
    char magic[sizeof kControlMagic];
    uint32_t version;
  } head;
  static_assert(offsetof(DeviceShared, version) == sizeof head.magic);
  if (pread(fd, &head, sizeof head, static_cast<off_t>(kControlOffset)) !=
      static_cast<ssize_t>(sizeof head))
    return false;
  return memcmp(head.magic, kControlMagic, sizeof head.magic) == 0 &&
         head.version == kControlVersion;
}

// Takes a free slot for the file (dev, ino) and maps its control page
// (adopted: an anonymous one, initialized; the slot is indexed by its
// descriptor and its area starts at `base`). nullptr with errno. REQUIRES:
// g_table_mu held.
Device* AttachLocked(int fd, const struct stat& st, bool create,
                     bool adopted = false, off_t base = 0) {
  for (uint32_t i = 0; i < kMaxDevices; i++) {
    Device* d = DeviceAt(i);
    std::lock_guard<std::mutex> lock(d->mu);
    if (d->in_use) continue;
    if (int err = MapControlPage(i, adopted ? -1 : fd, create || adopted)) {
      errno = err;
      return nullptr;
    }
    d->in_use = true;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->fd = fd;
    d->has_fd = true;
    d->adopted = adopted;
    d->base = base;
    d->sequence.fetch_add(1, std::memory_order_acq_rel);
    if (adopted) {
      AdoptedIndex()[fd] = i;
    } else {
      InodeIndex()[st.st_ino] = i;
    }
    if (i >= g_slots_used) g_slots_used = i + 1;
    return d;
  }
  errno = ENOMEM;  // the kernel's kzalloc failure
  return nullptr;
}

// Finds the device behind fd and locks its view; nullptr when fd is not a
// device (not open, or another file). The caller then hands the call to the
// real system call, whose answer is the kernel's: the VFS resolves the
// descriptor (EBADF) and dispatches to the file's own operations (e.g. ENOTTY
// from /dev/null's ioctl) before kcov's file operations ever run. A device's
// file is found by its inode whatever the descriptor's number: one this
// process made, a dup, one inherited across fork or received over a socket
// (its view is made on first use).
Device* LookupLocked(int fd, std::unique_lock<std::mutex>* lock) {
  if (fd < 0) return nullptr;
  // A failed fstat is a closed descriptor.
  struct stat st;
  if (fstat(fd, &st) != 0) return nullptr;
  // Two rounds: an index entry may be stale (a view freed at its owner's
  // exit); it is dropped and the file attached anew.
  {
    // An adopted hand-off area: by its descriptor.
    Device* d = nullptr;
    {
      std::lock_guard<std::mutex> table(g_table_mu);
      auto it = AdoptedIndex().find(fd);
      if (it != AdoptedIndex().end()) d = DeviceAt(it->second);
    }
    if (d != nullptr) {
      *lock = std::unique_lock<std::mutex>(d->mu);
      if (d->in_use && d->adopted && d->fd == fd && d->dev == st.st_dev &&
          d->ino == st.st_ino)
        return d;
      lock->unlock();
    }
  }
  for (int round = 0; round < 2; round++) {
    Device* d = nullptr;
    {
      std::lock_guard<std::mutex> table(g_table_mu);
      auto it = InodeIndex().find(st.st_ino);
      if (it != InodeIndex().end()) {
        d = DeviceAt(it->second);
      } else {
        if (!IsDeviceFile(fd, st)) return nullptr;
        pthread_once(&g_once, InitOnce);
        d = AttachLocked(fd, st, /*create=*/false);
        if (d == nullptr) return nullptr;
      }
    }
    *lock = std::unique_lock<std::mutex>(d->mu);
    if (d->in_use && !d->adopted && d->dev == st.st_dev &&
        d->ino == st.st_ino) {
      d->fd = fd;
      d->has_fd = true;
      return d;
    }
    lock->unlock();
    std::lock_guard<std::mutex> table(g_table_mu);
    auto it = InodeIndex().find(st.st_ino);
    if (it != InodeIndex().end() && DeviceAt(it->second) == d)
      InodeIndex().erase(it);
  }
  return nullptr;
}

// Maps the area into this process's view when another descriptor or process
// set it up (INIT_TRACE elsewhere). 0 or ENOMEM. REQUIRES: d->mu held.
int EnsureAreaMappedLocked(Device* d) {
  const uint64_t size = d->sh()->size;
  if (d->area != nullptr || size == 0) return 0;
  size_t map_bytes = RoundUpToPage(size * sizeof(unsigned long));
  void* p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
                 d->base);
  if (p == MAP_FAILED) return ENOMEM;
  d->area = static_cast<uint64_t*>(p);
  d->map_bytes = map_bytes;
  d->size = size;
  return 0;
}

// Copies n bytes from a caller-supplied address without trusting it: EFAULT
// instead of a crash (the kernel's copy_from_user).
int CopyFromUser(void* dst, unsigned long src, size_t n) {
  if (n == 0) return 0;
  struct iovec local = {dst, n};
  struct iovec remote = {reinterpret_cast<void*>(src), n};
  ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (r == static_cast<ssize_t>(n)) return 0;
  if (r >= 0 || errno == EFAULT) return EFAULT;
  // process_vm_readv unavailable (seccomp, old kernel): probe with a pipe,
  // where write(2) reports EFAULT for an unmapped source.
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return ENOMEM;
  int err = 0;
  for (size_t off = 0; off < n && err == 0;) {
    size_t chunk = n - off < 4096 ? n - off : 4096;
    ssize_t w = write(p[1], reinterpret_cast<const char*>(src) + off, chunk);
    if (w <= 0) {
      err = EFAULT;
      break;
    }
    ssize_t rd =
        read(p[0], static_cast<char*>(dst) + off, static_cast<size_t>(w));
    if (rd != w) err = EFAULT;
    off += static_cast<size_t>(w);
  }
  close(p[0]);
  close(p[1]);
  return err;
}

int InitTraceLocked(Device* d, unsigned long size) {
  if (size < 2 || size > INT_MAX / sizeof(unsigned long)) return EINVAL;
  SharedLock shared(d->sh());
  // The kernel allocates before checking the mode (ENOMEM before EBUSY); a
  // memfd cannot be resized while mapped, so the mode is checked first here.
  if (d->sh()->mode.load(std::memory_order_relaxed) != kDevDisabled)
    return EBUSY;
  size_t bytes = size * sizeof(unsigned long);
  size_t map_bytes = RoundUpToPage(bytes);
  // A device's file already spans the largest area (its control page lies
  // beyond it). An adopted file (remcov_rt_adopt_area) may already be large
  // enough, with more after the area: it is only ever grown, never shrunk.
  // An area adopted at an offset (AdoptAreaAt) starts there.
  struct stat st;
  if (fstat(d->fd, &st) != 0) return ENOMEM;
  const size_t end = static_cast<size_t>(d->base) + map_bytes;
  const bool grow = static_cast<size_t>(st.st_size) < end;
  if (grow && ftruncate(d->fd, static_cast<off_t>(end)) != 0) return ENOMEM;
  void* p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
                 d->base);
  if (p == MAP_FAILED) {
    if (grow) (void)ftruncate(d->fd, st.st_size);
    return ENOMEM;
  }
  // kernel: INIT_TRACE commits the area (vmalloc_user), or fails with
  // ENOMEM. The file's pages are allocated here, so no process that maps the
  // area later can take a SIGBUS in a callback for want of memory (a page of
  // a memfd faulted in lazily can); ENABLE only fills the page tables.
  if (fallocate(d->fd, 0, d->base, static_cast<off_t>(map_bytes)) != 0) {
    munmap(p, map_bytes);
    if (grow) (void)ftruncate(d->fd, st.st_size);
    return ENOMEM;
  }
  if (d->area != nullptr) munmap(d->area, d->map_bytes);
  d->area = static_cast<uint64_t*>(p);
  d->map_bytes = map_bytes;
  d->size = size;
  d->sh()->size = size;
  d->sh()->mode.store(kDevInit, std::memory_order_relaxed);
  return 0;
}

// The main program is the first object dl_iterate_phdr reports. Computed by
// a constructor (dl_iterate_phdr takes the loader's lock: not in a handler);
// an exec'd image runs its constructors again.
constinit uintptr_t g_counter_origin = 0;
int FirstObjectBias(dl_phdr_info* info, size_t, void* out) {
  *static_cast<uintptr_t*>(out) = info->dlpi_addr;
  return 1;
}
__attribute__((constructor)) void ComputeCounterOrigin() {
  dl_iterate_phdr(FirstObjectBias, &g_counter_origin);
}

// kernel: kcov_get_mode, and remcov's counters modes (kcov_abi.h,
// REMCOV_KCOV_TRACE_COUNTERS), whose map size goes to *map_bits (0 for the
// kernel's modes).
int TraceModeFromArg(uint64_t arg, uint32_t* mode, uint32_t* map_bits) {
  *map_bits = 0;
  unsigned bits;
  int cmp;
  if (remcov_kcov_counters_mode(arg, &bits, &cmp)) {
    if (cmp && ComparisonsDisabled()) return REMCOV_ENOTSUPP;
    *mode = cmp ? kModeCountersCmp : kModeCounters;
    *map_bits = bits;
    return 0;
  }
  if (arg == REMCOV_KCOV_TRACE_PC) {
    *mode = kModeTracePc;
    return 0;
  }
  if (arg == REMCOV_KCOV_TRACE_CMP) {
    if (ComparisonsDisabled()) return REMCOV_ENOTSUPP;
    *mode = kModeTraceCmp;
    return 0;
  }
  return EINVAL;
}

// Fills this process's page tables for the area, so callbacks take no page
// fault. Best effort: the pages themselves were allocated by INIT_TRACE.
void FaultInArea(Device* d) {
#ifdef MADV_POPULATE_WRITE
  (void)madvise(d->area, d->map_bytes, MADV_POPULATE_WRITE);
#endif
}

// kernel: the checks ENABLE, UNIQUE_ENABLE and REMOTE_ENABLE open with
// (kcov_ioctl_locked): an INIT device with an area, else EINVAL; no owner
// task and a calling task that has none, else EBUSY. A dead owner in another
// process is reaped first. Maps the area into this view. REQUIRES: d->mu and
// sh->mu held.
int CheckEnableLocked(Device* d, const ThreadState& t) {
  ReapDeadOwnerLocked(d);
  if (d->sh()->mode.load(std::memory_order_relaxed) != kDevInit ||
      d->sh()->size == 0)
    return EINVAL;
  if (d->sh()->owner_pid != 0 || d->owner != nullptr || t.device != nullptr ||
      t.remote != nullptr)
    return EBUSY;
  return EnsureAreaMappedLocked(d);
}

int EnableLocked(Device* d, unsigned long arg) {
  ThreadState& t = tls_state;
  SharedLock shared(d->sh());
  if (int err = CheckEnableLocked(d, t)) return err;
  uint32_t mode;
  uint32_t map_bits;
  if (int err = TraceModeFromArg(arg, &mode, &map_bits)) return err;
  const uint64_t map_words =
      map_bits ? remcov_kcov_counters_map_words(map_bits) : 0;
  // Counters: the map, and a comparison trace of at least one record.
  if (map_bits && d->size < map_words + (mode == kModeCountersCmp ? 5 : 0))
    return EINVAL;
  EnsureThreadExitHook(t);
  FaultInArea(d);
  SetOwnerLocked(d->sh(), mode, /*remote=*/false);
  d->counter_bits = map_bits;
  if (map_bits) {
    StartCounting(t, mode, reinterpret_cast<uint8_t*>(d->area), map_bits,
                  d->area + map_words,
                  CapacityFor(kModeTraceCmp, d->size - map_words),
                  &d->sh()->overflow_entries);
  } else {
    StartTracing(t, mode, d->area, CapacityFor(mode, d->size),
                 &d->sh()->overflow_entries);
  }
  t.device = d;
  d->owner = &t;
  return 0;
}

// The proposal's check order (v4): mode and area, then busy, then the size.
int UniqueEnableLocked(Device* d, unsigned long bitmap_words) {
  ThreadState& t = tls_state;
  SharedLock shared(d->sh());
  if (int err = CheckEnableLocked(d, t)) return err;
  if (bitmap_words == 0 || bitmap_words >= d->size - 1) return EINVAL;
  EnsureThreadExitHook(t);
  FaultInArea(d);
  SetOwnerLocked(d->sh(), kModeUniquePc, /*remote=*/false);
  t.bitmap = d->area;
  t.bitmap_bits = bitmap_words * 64;
  // The trace part: its count word is word bitmap_words of the area.
  StartTracing(t, kModeUniquePc, d->area + bitmap_words,
               d->size - bitmap_words - 1, &d->sh()->overflow_entries);
  t.device = d;
  d->owner = &t;
  return 0;
}

int DisableIoctlLocked(Device* d, unsigned long arg) {
  ThreadState& t = tls_state;
  if (arg != 0 || t.device != d) return EINVAL;
  if (d->owner != &t) return EINVAL;
  DisableLocked(d, t);
  MaybeFreeViewLocked(d);
  return 0;
}

// Makes the calling thread d's remote owner with ra's registrations: the
// locked part of KCOV_REMOTE_ENABLE (after_exec false), or the new image of
// the owner's process taking the task's remote state back (after_exec true,
// AdoptIfOwned: the owner record, the saved argument, the epoch and
// `accepting` are the old image's and stand, as the kernel's task and its
// kcov_remote entries do across exec). On a failure after the registration
// began, the device is disabled (the kernel's rollback: kcov_disable).
// REQUIRES: d->mu held.
int BecomeRemoteOwnerLocked(Device* d, const remcov_kcov_remote_arg* ra,
                            bool after_exec) {
  ThreadState& t = tls_state;
  {
    SharedLock shared(d->sh());
    if (!after_exec) {
      if (int err = CheckEnableLocked(d, t)) return err;
    }
    uint32_t mode;
    uint32_t map_bits;
    if (int err = TraceModeFromArg(ra->trace_mode, &mode, &map_bits))
      return err;
    if (map_bits && d->size < remcov_kcov_counters_map_words(map_bits) +
                                  (mode == kModeCountersCmp ? 5 : 0))
      return EINVAL;
    d->counter_bits = map_bits;
    // area_size > LONG_MAX / sizeof(long) cannot happen for a u32 on 64-bit.
    if (int err = EnsureIrqPool()) return err;
    EnsureThreadExitHook(t);
    FaultInArea(d);
    if (!after_exec) {
      SetOwnerLocked(d->sh(), mode, /*remote=*/true);
      SaveRemoteArgLocked(d->sh(), ra);
    }
  }
  t.device = d;
  StoreModeRelaxed(t, kModeRemote);
  d->owner = &t;
  d->remote = true;
  d->remote_size = ra->area_size;
  // Counters: a section's area is the marker word, a comparison trace (the
  // count word and area_size words) and the private map (remote.cc,
  // RemoteArea::map).
  uint64_t words = ra->area_size;
  if (d->counter_bits != 0)
    words = 2 +
            (d->sh()->mode.load(std::memory_order_relaxed) == kModeCountersCmp
                 ? words
                 : 0) +
            remcov_kcov_counters_map_words(d->counter_bits);
  d->section_words.store(words > UINT32_MAX ? 0 : static_cast<uint32_t>(words),
                         std::memory_order_relaxed);
  if (!after_exec) SetAccepting(d, true);
  int err = RegisterRemote(d, ra->handles, ra->num_handles, ra->common_handle);
  if (err != 0) {
    DisableLocked(d, t);
    return err;
  }
  if (ra->common_handle != 0) t.common_handle = ra->common_handle;
  return 0;
}

int RemoteEnableLocked(Device* d, const remcov_kcov_remote_arg* ra) {
  return BecomeRemoteOwnerLocked(d, ra, /*after_exec=*/false);
}

// kcov_ioctl's prologue for REMOTE_ENABLE (read num_handles, bound it, copy
// the handles), then the locked part. It runs after the descriptor was found
// to be a device, as in the kernel, where the VFS resolves the descriptor
// before kcov_ioctl. The kernel copies before taking kcov->lock; here the
// copy runs under the device mutex, which only delays other ioctls on the
// same device. REQUIRES: d->mu held.
int RemoteEnableIoctlLocked(Device* d, unsigned long arg) {
  uint32_t num_handles;
  if (CopyFromUser(&num_handles,
                   arg + offsetof(remcov_kcov_remote_arg, num_handles),
                   sizeof num_handles) != 0)
    return EFAULT;
  if (num_handles > REMCOV_KCOV_REMOTE_MAX_HANDLES) return EINVAL;
  size_t bytes =
      sizeof(remcov_kcov_remote_arg) + num_handles * sizeof(uint64_t);
  RemoteArgBuffer buf;
  if (CopyFromUser(buf.bytes, arg, bytes) != 0) return EFAULT;
  remcov_kcov_remote_arg* ra = buf.arg();
  // The kernel re-checks num_handles against its first read (TOCTOU); our
  // copy is the only read, so the two can never differ.
  ra->num_handles = num_handles;
  return RemoteEnableLocked(d, ra);
}

// ---- views of other domain members' devices (domain.h) ----
// At most this many at once: a member that serves many collectors over its
// life (a server, fuzzing workers that come and go) frees the views whose
// devices no longer take sections before it attaches another.
constexpr uint32_t kMaxDomainViews = 64;

// Whether a member's device still takes sections: remote-enabled, and its
// owner's process alive. Read without the device's shared mutex (another
// process's lock: never waited for here), so only as a hint for freeing.
bool DomainViewLive(const Device* d) {
  const DeviceShared* sh = d->sh();
  if (sh->accepting.load(std::memory_order_relaxed) == 0) return false;
  return ProcessAlive(__atomic_load_n(&sh->owner_pid, __ATOMIC_RELAXED),
                      __atomic_load_n(&sh->owner_start, __ATOMIC_RELAXED));
}

// Frees the member views that no longer take sections; how many stay.
// REQUIRES: g_table_mu held.
uint32_t SweepDomainViewsLocked() {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < g_slots_used; i++) {
    Device* d = DeviceAt(i);
    std::lock_guard<std::mutex> lock(d->mu);
    if (!d->in_use || !d->domain_view) continue;
    if (DomainViewLive(d)) {
      kept++;
      continue;
    }
    // No move of this process is in the area while it is unmapped: movers
    // hold the move lock, and later ones find the view's new sequence.
    UnregisterRemote(d);  // its handles leave this process's map
    d->move_lock.Lock(&tls_state);
    const ino_t ino = d->ino;
    FreeViewLocked(d);
    d->move_lock.Unlock();
    auto it = InodeIndex().find(ino);
    if (it != InodeIndex().end() && it->second == i) InodeIndex().erase(it);
  }
  return kept;
}

// Checks a member's device for the registration r and maps its area: the
// size must be one INIT_TRACE could set and, for a counters mode, hold the
// map (its owner checked that; a member's view does not trust it).
// REQUIRES: d->mu held.
bool FinishDomainViewLocked(Device* d, const DomainRecord& r, uint32_t* slot,
                            uint32_t* sequence) {
  const uint64_t size = d->sh()->size;
  if (size < 2 || size > kControlOffset / sizeof(uint64_t)) return false;
  if (IsCountersMode(r.mode) && remcov_kcov_counters_map_words(r.map_bits) +
                                        (r.mode == kModeCountersCmp ? 5 : 0) >
                                    size)
    return false;
  if (EnsureAreaMappedLocked(d) != 0) return false;
  // The private area's size is the registrant's (REMOTE_ENABLE's area_size):
  // a view made here has none of its own.
  d->section_words.store(r.words, std::memory_order_relaxed);
  *slot = DeviceSlot(d);
  *sequence = d->sequence.load(std::memory_order_relaxed);
  return true;
}

}  // namespace

namespace {

// Where the runtime's own descriptors go: below the descriptor limit
// (F_DUPFD fails at or above it) and never far up a large one (the kernel
// would grow the process's descriptor table to the number).
int HighDescriptorBase() {
  int base = 3;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 256) {
    const rlim_t top = rl.rlim_cur < 1024 ? rl.rlim_cur : 1024;
    base = static_cast<int>(top) - 64;
  }
  return base;
}

// An owner thread id no thread has: the owner ended at exec.
constexpr int32_t kOwnerEndedAtExec = -1;

// The descriptor of d this process holds (the one its calls used, or its
// private one), or -1. REQUIRES: d->mu held.
int HeldDescriptor(const Device* d) {
  for (const int fd : {d->fd, d->domain_fd}) {
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == d->dev &&
        st.st_ino == d->ino)
      return fd;
  }
  return -1;
}

}  // namespace

int PrivateDescriptor(int fd) {
  return fcntl(fd, F_DUPFD_CLOEXEC, HighDescriptorBase());
}

namespace {

// Whether this process's exec hooks may act: not in a vfork child (it runs
// on its parent's memory and changes nothing), and not before the first
// ownership (no device to prepare).
bool ExecHooksApply(pid_t* self) {
  // Set by the first ownership (SelfPid); a vfork child sees its parent's.
  *self = g_self_pid.load(std::memory_order_acquire);
  return *self != 0 && *self == getpid();
}

}  // namespace

void PrepareExec(ThreadState& t) {
  ErrnoSaver errno_saver;
  t.exec_slots = 0;
  pid_t self;
  if (!ExecHooksApply(&self)) return;
  uint32_t used;
  {
    // Only tried: the exec may come from a signal handler that interrupted
    // the lock's holder on this thread.
    std::unique_lock<std::mutex> table(g_table_mu, std::try_to_lock);
    if (!table.owns_lock()) return;
    used = g_slots_used;
  }
  t.exec_slots = used;
  for (uint32_t i = 0; i < used; i++) {
    Device* d = DeviceAt(i);
    std::unique_lock<std::mutex> lock(d->mu, std::try_to_lock);
    if (!lock.owns_lock() || !d->in_use || d->adopted || d->owner == nullptr)
      continue;
    DeviceShared* sh = d->sh();
    const int r = pthread_mutex_trylock(&sh->mu);
    if (r == EOWNERDEAD) {
      pthread_mutex_consistent(&sh->mu);
    } else if (r != 0) {
      continue;
    }
    if (sh->owner_pid == self) {
      d->exec_prepared.store(&t, std::memory_order_relaxed);
      d->exec_saved_tid = sh->owner_tid;
      d->exec_carried_fd = -1;
      sh->owner_tid = d->owner == &t ? self : kOwnerEndedAtExec;
      // The new image finds the device by a descriptor (to go on with it, or
      // to return it to INIT): one that survives exec.
      const int fd = HeldDescriptor(d);
      if (fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0) {
        d->exec_carried_fd = fcntl(fd, F_DUPFD, HighDescriptorBase());
        if (d->exec_carried_fd >= 0)
          sh->exec_descriptor = static_cast<uint32_t>(d->exec_carried_fd) + 1;
      }
    }
    pthread_mutex_unlock(&sh->mu);
  }
}

void ExecFailed(ThreadState& t) {
  ErrnoSaver errno_saver;
  // The slots PrepareExec looked at: the table only grows, so no lock is
  // needed (one held by another thread must not leave the devices prepared
  // after a failed exec, execvp's tries of each PATH directory included).
  const uint32_t used = t.exec_slots;
  t.exec_slots = 0;
  pid_t self;
  if (!ExecHooksApply(&self)) return;
  for (uint32_t i = 0; i < used; i++) {
    Device* d = DeviceAt(i);
    // Only the devices this exec prepared are waited for: PrepareExec held
    // their locks, so no code this exec interrupted holds them.
    if (d->exec_prepared.load(std::memory_order_relaxed) != &t) continue;
    std::lock_guard<std::mutex> lock(d->mu);
    if (d->exec_prepared.load(std::memory_order_relaxed) != &t) continue;
    d->exec_prepared.store(nullptr, std::memory_order_relaxed);
    SharedLock shared(d->sh());
    DeviceShared* sh = d->sh();
    if (sh->owner_pid == self &&
        (sh->owner_tid == self || sh->owner_tid == kOwnerEndedAtExec))
      sh->owner_tid = d->exec_saved_tid;
    if (d->exec_carried_fd >= 0) {
      if (sh->exec_descriptor == static_cast<uint32_t>(d->exec_carried_fd) + 1)
        sh->exec_descriptor = 0;
      close(d->exec_carried_fd);
      d->exec_carried_fd = -1;
    }
  }
}

bool AttachDomainDevice(const DomainRecord& r, uint32_t* slot,
                        uint32_t* sequence) {
  pthread_once(&g_once, InitOnce);
  {
    // A view of the file this process has already: its own device, a fork
    // parent's, or one attached before.
    std::lock_guard<std::mutex> table(g_table_mu);
    auto it = InodeIndex().find(static_cast<ino_t>(r.ino));
    if (it != InodeIndex().end()) {
      Device* d = DeviceAt(it->second);
      std::lock_guard<std::mutex> lock(d->mu);
      if (d->in_use && !d->adopted && d->dev == static_cast<dev_t>(r.dev) &&
          d->ino == static_cast<ino_t>(r.ino))
        return FinishDomainViewLocked(d, r, slot, sequence);
    }
    if (SweepDomainViewsLocked() >= kMaxDomainViews) return false;
  }
  // The registrant's own descriptor, through /proc: the kernel lets a
  // process open another's descriptors when it may ptrace-read it (same user,
  // or privileged), on top of the domain file's own permissions.
  char path[64] = "/proc/";
  char* p = AppendDecimal(path + 6, static_cast<uint32_t>(r.pid));
  memcpy(p, "/fd/", 4);
  *AppendDecimal(p + 4, static_cast<uint32_t>(r.fd)) = '\0';
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  if (const int high = PrivateDescriptor(fd); high >= 0) {
    close(fd);  // the program's low numbers stay the program's
    fd = high;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != static_cast<dev_t>(r.dev) ||
      st.st_ino != static_cast<ino_t>(r.ino)) {
    close(fd);  // the descriptor now names another file: a stale entry
    return false;
  }
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);  // attaches a view; checks the magic
  if (d == nullptr) {
    close(fd);
    return false;
  }
  const bool ok = FinishDomainViewLocked(d, r, slot, sequence);
  if (d->domain_fd < 0 && d->owner == nullptr && !d->remote) {
    d->domain_fd = fd;  // the view's reference, closed when it is freed
    d->domain_view = true;
    g_counters.domain_attaches.fetch_add(1, std::memory_order_relaxed);
  } else {
    close(fd);  // another thread attached it meanwhile
    d->fd = d->domain_fd;
  }
  return ok;
}

void MoveLock::Lock(const ThreadState* self) {
  for (unsigned spins = 0;; spins++) {
    if (TryLock(self)) return;
    if (spins < 64) {
      __builtin_ia32_pause();
    } else {
      ErrnoSaver errno_saver;  // sched_yield cannot fail, but stay safe
      sched_yield();
    }
  }
}

void EnsureThreadExitHookInHandler(ThreadState& t) {
  // glibc keeps the first 32 keys' values in the thread descriptor
  // (PTHREAD_KEY_2NDLEVEL_SIZE): pthread_setspecific then only stores, with
  // no allocation and no lock. Beyond them it may allocate: not from a
  // handler (such a thread's handler state is then cleared at its next
  // section, not at its exit).
  constexpr pthread_key_t kKeysWithoutAllocation = 32;
  if (t.exit_hook || !g_exit_key_ready.load(std::memory_order_acquire) ||
      g_exit_key >= kKeysWithoutAllocation)
    return;
  ErrnoSaver errno_saver;
  pthread_setspecific(g_exit_key, &t);
  t.exit_hook = true;
}

void EnsureThreadExitHook(ThreadState& t) {
  if (!t.exit_hook) {
    pthread_once(&g_once, InitOnce);
    // Any non-null value makes the destructor run at thread exit.
    pthread_setspecific(g_exit_key, &t);
    t.exit_hook = true;
  }
}

}  // namespace remcov::internal

namespace remcov::internal {
namespace {

// Binds an open file to a free device slot (DISABLED). `adopted`: a
// hand-off file's area at `base` (AdoptAreaAt), found by its descriptor, with
// an anonymous shared control page (the file's layout is the tool's); else a
// file remcov_open made, found by its inode, its control page made here. -1
// with errno.
int RegisterDevice(int fd, bool adopted, off_t base) {
  pthread_once(&g_once, InitOnce);
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return -1;
  }
  std::lock_guard<std::mutex> table(g_table_mu);
  if (adopted) {
    auto it = AdoptedIndex().find(fd);
    if (it != AdoptedIndex().end()) {
      // The descriptor is adopted already: one view.
      Device* d = DeviceAt(it->second);
      std::lock_guard<std::mutex> lock(d->mu);
      if (d->in_use && d->adopted && d->fd == fd && d->ino == st.st_ino)
        return fd;
    }
  }
  if (AttachLocked(fd, st, /*create=*/true, adopted, base) == nullptr)
    return -1;
  return fd;
}

// The descriptor's device, if this task enabled it before exec: tracing
// resumes on this thread, a remote owner's registrations are made again, or
// the device returns to INIT (see below).
void AdoptIfOwned(int fd) {
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  if (d == nullptr) return;
  ThreadState& t = tls_state;
  RemoteArgBuffer buf;
  remcov_kcov_remote_arg* ra = buf.arg();
  {
    SharedLock shared(d->sh());
    DeviceShared* sh = d->sh();
    // The descriptor the old image left open for this one (PrepareExec):
    // the runtime's own from now on.
    if (sh->exec_descriptor == static_cast<uint32_t>(fd) + 1) {
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      sh->exec_descriptor = 0;
    }
    const uint32_t mode = sh->mode.load(std::memory_order_relaxed);
    if (sh->owner_pid != SelfPid() || d->owner != nullptr ||
        (sh->owner_start != 0 && sh->owner_start != SelfStart()))
      return;
    const bool leader = sh->owner_tid == SelfPid() && t.device == nullptr &&
                        EnsureAreaMappedLocked(d) == 0;
    if (leader && !sh->owner_remote &&
        (mode == kModeTracePc || mode == kModeTraceCmp)) {
      EnsureThreadExitHook(t);
      StartTracing(t, mode, d->area, CapacityFor(mode, d->size),
                   &sh->overflow_entries);
      t.device = d;
      d->owner = &t;
      return;
    }
    if (!leader || !sh->owner_remote || !LoadRemoteArgLocked(sh, ra)) {
      ClearOwnerLocked(sh);
      sh->owner_exits.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (BecomeRemoteOwnerLocked(d, ra, /*after_exec=*/true) == 0) return;
  // Not registered again (out of memory or descriptors, a handle another
  // domain member took meanwhile): the device returns to INIT, counted.
  SharedLock shared(d->sh());
  if (d->sh()->owner_pid == SelfPid()) ClearOwnerLocked(d->sh());
  d->sh()->owner_exits.fetch_add(1, std::memory_order_relaxed);
}

// kernel: exec keeps the task, and with it t->kcov: a thread that enabled a
// device and then exec'd goes on tracing into it in the new image. The new
// image finds such a device among its inherited descriptors (one that names
// a device's file and is not close-on-exec: remcov_open's descriptor is, a
// dup2 of it is not) by its owner record: this process (pid and start time,
// which exec keeps). After exec the process has one thread, the leader; an
// owner recorded under another thread id was a thread that exec ended (the
// leader or another thread called exec), so the device returns to INIT as at
// that thread's exit (counted in owner_exits). A remote owner's handles,
// registered in the old image's process-local table (and its domain), are
// registered again from the argument its REMOTE_ENABLE left in the control
// page, and the thread takes its common handle back (docs/kcov.md,
// difference 13).
void AdoptDevicesAcrossExec() {
  (void)ForEachDescriptor([](int fd, const struct stat& st) {
    if (S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) >= kControlOffset)
      AdoptIfOwned(fd);
    return false;  // every descriptor
  });
}

// At start, before main: what exec kept.
__attribute__((constructor)) void RemcovAdoptAcrossExec() {
  ErrnoSaver errno_saver;
  // A remote owner's handles go to its domain too: join it first, whichever
  // of the two constructors runs first.
  JoinDomainFromEnvironment();
  AdoptDevicesAcrossExec();
}

}  // namespace

int AdoptAreaAt(int fd, uint64_t offset) {
  if (offset % PageSize() != 0 ||
      offset > static_cast<uint64_t>(INT64_MAX) / 2) {
    errno = EINVAL;
    return -1;
  }
  return RegisterDevice(fd, /*adopted=*/true, static_cast<off_t>(offset));
}

int MarkStepsAside(int fd) {
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  if (d == nullptr || !d->adopted) {
    errno = EBADF;
    return -1;
  }
  d->steps_aside = true;
  return 0;
}

void StepAsideForProgram(ThreadState& t) {
  Device* d = t.device;
  // t.device is this thread's own field; steps_aside was set before this
  // thread enabled d, on this thread.
  if (d == nullptr || !d->steps_aside) return;
  std::lock_guard<std::mutex> lock(d->mu);
  if (t.device != d || d->owner != &t) return;
  const uint64_t handle = t.common_handle;  // the program's, inherited
  DisableLocked(d, t);
  t.common_handle = handle;
}

uintptr_t CounterOrigin() { return g_counter_origin; }

}  // namespace remcov::internal

REMCOV_EXPORT uint64_t remcov_counter_slot(uint64_t pc, unsigned bits) {
  using namespace remcov::internal;
  if (bits < REMCOV_KCOV_COUNTERS_MIN_BITS ||
      bits > REMCOV_KCOV_COUNTERS_MAX_BITS)
    return 0;
  return CounterPcSlot(pc, CounterOrigin(), 64 - bits);
}

REMCOV_EXPORT uint64_t remcov_counter_guard_slot(const uint32_t* guard,
                                                 unsigned bits) {
  using namespace remcov::internal;
  if (bits < REMCOV_KCOV_COUNTERS_MIN_BITS ||
      bits > REMCOV_KCOV_COUNTERS_MAX_BITS)
    return 0;
  return CounterGuardSlot(reinterpret_cast<uintptr_t>(guard), CounterOrigin()) &
         ((uint64_t{1} << bits) - 1);
}

namespace remcov::internal {

uint64_t RuntimeEnvNumber(const EnvNumberFlag& flag) {
  const char* text = getenv(flag.name);
  uint64_t v = 0;
  if (EnvNumber(flag, text, &v)) return v;
  // "remcov: NAME=TEXT is not NOUN in [MIN, MAX]; using DEFAULT", with
  // write(2): the runtime does not use stdio.
  char num[3][24];
  const uint64_t nums[3] = {flag.min, flag.max, flag.default_value};
  for (int i = 0; i < 3; i++) *AppendDecimal(num[i], nums[i]) = '\0';
  const char* parts[] = {"remcov: ",  flag.name, "=",    text, " is not ",
                         flag.noun,   " in [",   num[0], ", ", num[1],
                         "]; using ", num[2],    "\n"};
  ErrnoSaver errno_saver;
  for (const char* part : parts) (void)!write(2, part, strlen(part));
  return flag.default_value;
}

Device* DeviceForTesting(int fd) {
  std::unique_lock<std::mutex> lock;
  return LookupLocked(fd, &lock);
}

}  // namespace remcov::internal

using namespace remcov::internal;  // NOLINT: the C shim below

extern "C" {

REMCOV_EXPORT int remcov_open(void) {
  int fd =
      static_cast<int>(syscall(SYS_memfd_create, "remcov-kcov", MFD_CLOEXEC));
  if (fd < 0) return -1;
  // The file spans the largest area and the control page above it (sparse:
  // only pages written cost memory).
  if (ftruncate(fd, static_cast<off_t>(kControlOffset + PageSize())) != 0 ||
      RegisterDevice(fd, /*adopted=*/false, 0) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

REMCOV_EXPORT int remcov_rt_adopt_area(int fd) { return AdoptAreaAt(fd, 0); }

REMCOV_EXPORT int remcov_ioctl(int fd, unsigned long cmd, unsigned long arg) {
  ThreadState& t = tls_state;
  if (t.irq_depth > 0)  // a handler left by longjmp: its state goes first
    LeaveAbandonedSignalLevels(
        t, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  // `remcov trace`'s hand-off device yields to the program's own (before
  // the lookup: it takes that device's mutex).
  if (cmd == REMCOV_KCOV_ENABLE || cmd == REMCOV_KCOV_REMOTE_ENABLE ||
      cmd == REMCOV_KCOV_UNIQUE_ENABLE)
    StepAsideForProgram(t);
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  // Not a device: that file's own answer (EBADF when fd is not open).
  if (d == nullptr) return ioctl(fd, cmd, arg);
  int err;
  switch (cmd) {
    case REMCOV_KCOV_INIT_TRACE:
      err = InitTraceLocked(d, arg);
      break;
    case REMCOV_KCOV_ENABLE:
      err = EnableLocked(d, arg);
      break;
    case REMCOV_KCOV_DISABLE:
      err = DisableIoctlLocked(d, arg);
      break;
    case REMCOV_KCOV_REMOTE_ENABLE:
      err = RemoteEnableIoctlLocked(d, arg);
      break;
    case REMCOV_KCOV_UNIQUE_ENABLE:
      err = UniqueSupported() ? UniqueEnableLocked(d, arg) : ENOTTY;
      break;
    default:
      err = ENOTTY;
      break;
  }
  if (err != 0) {
    errno = err;
    return -1;
  }
  return 0;
}

REMCOV_EXPORT void* remcov_mmap(void* addr, size_t len, int prot, int flags,
                                int fd, off_t off) {
  // mmap(2) ignores the descriptor of an anonymous mapping.
  if (flags & MAP_ANONYMOUS) return mmap(addr, len, prot, flags, fd, off);
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  // Not a device: that file's own answer (EBADF, ENODEV, or a mapping).
  if (d == nullptr) return mmap(addr, len, prot, flags, fd, off);
  // kcov_mmap: the VMA (page-rounded) must be exactly size words, pgoff 0.
  const uint64_t size = d->sh()->size;
  if (size == 0 || off != 0 ||
      RoundUpToPage(len) != size * sizeof(unsigned long)) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  return mmap(addr, len, prot, flags, fd, d->base);
}

REMCOV_EXPORT int remcov_close(int fd) {
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  if (d == nullptr) return close(fd);
  // kernel: kcov_close runs at the last close of the file (dup'd and
  // inherited descriptors share it); the view goes once this process holds
  // neither a descriptor naming the file nor an owner thread.
  const int ret = close(fd);
  const int close_errno = errno;
  const dev_t dev = d->dev;
  const ino_t ino = d->ino;
  const bool adopted = d->adopted;
  // An adopted area is its descriptor's alone.
  if (adopted ||
      !AnyDescriptorFor(dev, ino, d->domain_view ? -1 : d->domain_fd))
    d->has_fd = false;
  if (d->has_fd || d->owner != nullptr) return ret;
  lock.unlock();
  {
    // The lock order is g_table_mu before a device's mu (remcov_open); the
    // view is re-checked: another thread may have used a new descriptor.
    std::lock_guard<std::mutex> table(g_table_mu);
    std::lock_guard<std::mutex> relock(d->mu);
    if (d->in_use && d->dev == dev && d->ino == ino && !d->has_fd &&
        d->owner == nullptr && d->adopted == adopted) {
      FreeViewLocked(d);
      if (adopted) {
        auto it = AdoptedIndex().find(fd);
        if (it != AdoptedIndex().end() && it->second == DeviceSlot(d))
          AdoptedIndex().erase(it);
      } else {
        auto it = InodeIndex().find(ino);
        if (it != InodeIndex().end() && it->second == DeviceSlot(d))
          InodeIndex().erase(it);
      }
    }
  }
  errno = close_errno;
  return ret;
}

REMCOV_EXPORT int remcov_device_stats(int fd, remcov_device_stats_t* out) {
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  if (d == nullptr) return REMCOV_E_NOTFOUND;
  auto rd = [](const std::atomic<uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  };
#define REMCOV_DEVICE_STAT(name, what) out->name = rd(d->sh()->name);
#include "remcov/stats.inc"
#undef REMCOV_DEVICE_STAT
  return REMCOV_OK;
}

REMCOV_EXPORT int remcov_runtime_stats(remcov_runtime_stats_t* out) {
  auto rd = [](const std::atomic<uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  };
#define REMCOV_RUNTIME_STAT(name, what) out->name = rd(g_counters.name);
#include "remcov/stats.inc"
#undef REMCOV_RUNTIME_STAT
  return REMCOV_OK;
}

REMCOV_EXPORT const char* remcov_strerror(int code) {
  switch (code) {
    case REMCOV_OK:
      return "success";
    case REMCOV_E_INVALID:
      return "invalid argument";
    case REMCOV_E_NOTFOUND:
      return "not a remcov device";
    case REMCOV_E_BUSY:
      return "too late: already in use";
    case REMCOV_E_NOMEM:
      return "out of memory";
    default:
      return "unknown remcov error";
  }
}

}  // extern "C"
