// SPDX-License-Identifier: Apache-2.0
// The device side of the runtime: remcov_open/ioctl/mmap/close with the
// kernel's state machine, check order and errno values (kernel/kcov.c:
// kcov_open, kcov_ioctl, kcov_ioctl_locked, kcov_mmap, kcov_close,
// kcov_task_exit). Deliberate differences from the kernel are listed in
// docs/kcov.md.
//
// Not a hot path: may allocate and lock. Not async-signal-safe.
#include "runtime/device.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <unordered_map>

#include "remcov/remcov.h"

#include "base/raw_check.h"
#include "runtime/thread_state.h"

namespace remcov::internal {

constinit thread_local ThreadState tls_state;
constinit RuntimeCounters g_counters;

constinit Device g_devices[kMaxDevices];

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

std::unordered_map<int, uint32_t>& FdIndex() {  // guarded by g_table_mu
  static auto* index = new std::unordered_map<int, uint32_t>();
  return *index;
}

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
size_t RoundUpToPage(size_t n) {
  size_t p = PageSize();
  return (n + p - 1) / p * p;
}

bool ComparisonsDisabled() {
  // Emulates a kernel without CONFIG_KCOV_ENABLE_COMPARISONS (ENOTSUPP), so
  // clients can test that path in-process.
  const char* v = getenv("REMCOV_NO_COMPARISONS");
  return v != nullptr && v[0] == '1';
}

bool UniqueSupported() {
  // Emulates a kernel with the unmerged KCOV_UNIQUE_ENABLE series applied
  // (CONFIG_KCOV_UNIQUE). Off by default: released kernels answer ENOTTY,
  // and so does the runtime (docs/kcov.md).
  const char* v = getenv("REMCOV_UNIQUE_ENABLE");
  return v != nullptr && v[0] == '1';
}

void ThreadExit(void* arg);
// fork: every mutex the runtime holds is taken around fork in the lock order
// (g_table_mu, device mu, then remote.cc's), so the child never inherits one
// held by a thread that does not exist there, nor state such a thread was
// half-way through changing. The move locks (spinlocks held for one copy) are
// not taken: the child resets them (AtForkChild).
void AtForkPrepare() {
  g_table_mu.lock();
  for (uint32_t i = 0; i < g_slots_used; i++) g_devices[i].mu.lock();
  RemoteLocksForFork(true);
}
void AtForkParent() {
  RemoteLocksForFork(false);
  for (uint32_t i = g_slots_used; i-- > 0;) g_devices[i].mu.unlock();
  g_table_mu.unlock();
}
void AtForkChild();

// Set once g_exit_key exists (InitOnce); read by signal handlers.
constinit std::atomic<bool> g_exit_key_ready{false};

void InitOnce() {
  LinkInterposers();
  REMCOV_RAW_CHECK(pthread_key_create(&g_exit_key, ThreadExit) == 0);
  REMCOV_RAW_CHECK(pthread_atfork(AtForkPrepare, AtForkParent, AtForkChild) ==
                   0);
  g_exit_key_ready.store(true, std::memory_order_release);
}

void FreeDeviceLocked(Device* d) {
  if (d->area != nullptr) munmap(d->area, d->map_bytes);
  d->area = nullptr;
  d->map_bytes = 0;
  d->size = 0;
  d->mode = kDevDisabled;
  d->remote = false;
  d->owner = nullptr;
  d->ino = 0;
  d->base = 0;
  d->fd = -1;
#define REMCOV_DEVICE_STAT(name, what) \
  d->name.store(0, std::memory_order_relaxed);
#include "remcov/stats.inc"
#undef REMCOV_DEVICE_STAT
  d->in_use = false;
}

// Drops one reference; frees the slot at zero. REQUIRES: d->mu held. The slot
// stays in the table: sections still in flight find a newer sequence there.
void PutLocked(Device* d) {
  REMCOV_RAW_CHECK(d->refs > 0);
  if (--d->refs == 0) FreeDeviceLocked(d);
}

// kernel: kcov_disable = kcov_task_reset(t) + kcov_remote_reset + kcov_reset.
void DisableLocked(Device* d, ThreadState& t) {
  StopTracing(t);
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
  d->mode = kDevInit;
  d->remote = false;
  d->remote_size = 0;
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
    PutLocked(d);
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
  // Devices stay as the parent left them (a child can neither disable nor
  // re-enable a device another thread enabled, as in the kernel); their
  // handles are process-local here: see docs/kcov.md, "fork".
  ResetRemoteAfterFork();
  for (uint32_t i = 0; i < g_slots_used; i++) {
    Device* d = &g_devices[i];
    new (&d->mu) std::mutex();
    // A move lock held at fork by another thread would never be released
    // here (that thread does not exist in the child): SetAccepting would
    // spin on it for ever. The copy it guarded goes on in the parent only.
    d->move_lock.ResetAfterFork();
    if (d->in_use && d->remote) SetAccepting(d, false);
  }
}

// Finds the device behind fd and locks it; nullptr when fd is not a device
// (not open, or another file). The caller then hands the call to the real
// system call, whose answer is the kernel's: the VFS resolves the descriptor
// (EBADF) and dispatches to the file's own operations (e.g. ENOTTY from
// /dev/null's ioctl) before kcov's file operations ever run.
Device* LookupLocked(int fd, std::unique_lock<std::mutex>* lock) {
  if (fd < 0) return nullptr;
  Device* d = nullptr;
  {
    std::lock_guard<std::mutex> table(g_table_mu);
    auto it = FdIndex().find(fd);
    if (it != FdIndex().end()) d = &g_devices[it->second];
  }
  if (d == nullptr) return nullptr;
  // The inode tells a device from a file that reused its number after a plain
  // close(2); a failed fstat is a closed descriptor.
  struct stat st;
  if (fstat(fd, &st) != 0) return nullptr;
  *lock = std::unique_lock<std::mutex>(d->mu);
  if (d->in_use && d->fd == fd && d->ino == st.st_ino) return d;
  lock->unlock();
  return nullptr;
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
  // The kernel allocates before checking the mode (ENOMEM before EBUSY); a
  // memfd cannot be resized while mapped, so the mode is checked first here.
  if (d->mode != kDevDisabled) return EBUSY;
  size_t bytes = size * sizeof(unsigned long);
  size_t map_bytes = RoundUpToPage(bytes);
  // An adopted file (remcov_rt_adopt_area) may already be large enough, with
  // more after the area: it is only ever grown, never shrunk.
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
  d->area = static_cast<uint64_t*>(p);
  d->map_bytes = map_bytes;
  d->size = size;
  d->mode = kDevInit;
  return 0;
}

// kernel: kcov_get_mode.
int TraceModeFromArg(unsigned long arg, uint32_t* mode) {
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

void FaultInArea(Device* d) {
#ifdef MADV_POPULATE_WRITE
  (void)madvise(d->area, d->map_bytes, MADV_POPULATE_WRITE);
#endif
}

int EnableLocked(Device* d, unsigned long arg) {
  ThreadState& t = tls_state;
  if (d->mode != kDevInit || d->area == nullptr) return EINVAL;
  if (d->owner != nullptr || t.device != nullptr || t.remote != nullptr)
    return EBUSY;
  uint32_t mode;
  if (int err = TraceModeFromArg(arg, &mode)) return err;
  EnsureThreadExitHook(t);
  FaultInArea(d);
  d->mode = mode;
  StartTracing(t, mode, d->area, CapacityFor(mode, d->size),
               &d->overflow_entries);
  t.device = d;
  d->owner = &t;
  d->refs++;
  return 0;
}

// The proposal's check order (v4): mode and area, then busy, then the size.
int UniqueEnableLocked(Device* d, unsigned long bitmap_words) {
  ThreadState& t = tls_state;
  if (d->mode != kDevInit || d->area == nullptr) return EINVAL;
  if (d->owner != nullptr || t.device != nullptr || t.remote != nullptr)
    return EBUSY;
  if (bitmap_words == 0 || bitmap_words >= d->size - 1) return EINVAL;
  EnsureThreadExitHook(t);
  FaultInArea(d);
  d->mode = kModeUniquePc;
  t.bitmap = d->area;
  t.bitmap_bits = bitmap_words * 64;
  // The trace part: its count word is word bitmap_words of the area.
  StartTracing(t, kModeUniquePc, d->area + bitmap_words,
               d->size - bitmap_words - 1, &d->overflow_entries);
  t.device = d;
  d->owner = &t;
  d->refs++;
  return 0;
}

int DisableIoctlLocked(Device* d, unsigned long arg) {
  ThreadState& t = tls_state;
  if (arg != 0 || t.device != d) return EINVAL;
  if (d->owner != &t) return EINVAL;
  DisableLocked(d, t);
  PutLocked(d);
  return 0;
}

int RemoteEnableLocked(Device* d, const remcov_kcov_remote_arg* ra) {
  ThreadState& t = tls_state;
  if (d->mode != kDevInit || d->area == nullptr) return EINVAL;
  if (d->owner != nullptr || t.device != nullptr || t.remote != nullptr)
    return EBUSY;
  uint32_t mode;
  if (int err = TraceModeFromArg(ra->trace_mode, &mode)) return err;
  // area_size > LONG_MAX / sizeof(long) cannot happen for a u32 on 64-bit.
  if (int err = EnsureIrqPool()) return err;
  EnsureThreadExitHook(t);
  FaultInArea(d);
  d->mode = mode;
  t.device = d;
  StoreModeRelaxed(t, kModeRemote);
  d->owner = &t;
  d->remote = true;
  d->remote_size = ra->area_size;
  d->section_words.store(ra->area_size, std::memory_order_relaxed);
  SetAccepting(d, true);
  int err = RegisterRemote(d, ra->handles, ra->num_handles, ra->common_handle);
  if (err != 0) {
    DisableLocked(d, t);  // the kernel's rollback: kcov_disable
    return err;
  }
  if (ra->common_handle != 0) t.common_handle = ra->common_handle;
  d->refs++;
  return 0;
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
  alignas(
      8) unsigned char buf[sizeof(remcov_kcov_remote_arg) +
                           REMCOV_KCOV_REMOTE_MAX_HANDLES * sizeof(uint64_t)];
  if (CopyFromUser(buf, arg, bytes) != 0) return EFAULT;
  auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
  // The kernel re-checks num_handles against its first read (TOCTOU); our
  // copy is the only read, so the two can never differ.
  ra->num_handles = num_handles;
  return RemoteEnableLocked(d, ra);
}

}  // namespace

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

// Binds an open file to a free device slot (DISABLED), its area at `base`.
// -1 with errno.
int RegisterDevice(int fd, off_t base) {
  pthread_once(&g_once, InitOnce);
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return -1;
  }
  std::lock_guard<std::mutex> table(g_table_mu);
  for (uint32_t i = 0; i < kMaxDevices; i++) {
    Device* d = &g_devices[i];
    std::lock_guard<std::mutex> lock(d->mu);
    if (d->in_use) continue;
    d->in_use = true;
    d->fd = fd;
    d->ino = st.st_ino;
    d->base = base;
    d->mode = kDevDisabled;
    d->refs = 1;
    d->sequence.fetch_add(1, std::memory_order_acq_rel);
    FdIndex()[fd] = i;
    if (i >= g_slots_used) g_slots_used = i + 1;
    return fd;
  }
  errno = ENOMEM;  // the kernel's kzalloc failure
  return -1;
}

}  // namespace

int AdoptAreaAt(int fd, uint64_t offset) {
  if (offset % PageSize() != 0 ||
      offset > static_cast<uint64_t>(INT64_MAX) / 2) {
    errno = EINVAL;
    return -1;
  }
  return RegisterDevice(fd, static_cast<off_t>(offset));
}

}  // namespace remcov::internal

using namespace remcov::internal;  // NOLINT: the C shim below

extern "C" {

REMCOV_EXPORT int remcov_open(void) {
  int fd =
      static_cast<int>(syscall(SYS_memfd_create, "remcov-kcov", MFD_CLOEXEC));
  if (fd < 0) return -1;
  if (RegisterDevice(fd, 0) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

REMCOV_EXPORT int remcov_rt_adopt_area(int fd) { return RegisterDevice(fd, 0); }

REMCOV_EXPORT int remcov_ioctl(int fd, unsigned long cmd, unsigned long arg) {
  ThreadState& t = tls_state;
  if (t.irq_depth > 0)  // a handler left by longjmp: its state goes first
    LeaveAbandonedSignalLevels(
        t, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
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
  if (d->area == nullptr || off != 0 ||
      RoundUpToPage(len) != d->size * sizeof(unsigned long)) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  return mmap(addr, len, prot, flags, fd, d->base);
}

REMCOV_EXPORT int remcov_close(int fd) {
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  if (d != nullptr) {
    const uint32_t slot = DeviceSlot(d);
    d->fd = -1;  // lookups by this descriptor fail from here on
    PutLocked(d);
    lock.unlock();
    // The lock order is g_table_mu before a device's mu (remcov_open).
    std::lock_guard<std::mutex> table(g_table_mu);
    auto it = FdIndex().find(fd);
    if (it != FdIndex().end() && it->second == slot) FdIndex().erase(it);
  }
  return close(fd);
}

REMCOV_EXPORT int remcov_device_stats(int fd, remcov_device_stats_t* out) {
  std::unique_lock<std::mutex> lock;
  Device* d = LookupLocked(fd, &lock);
  if (d == nullptr) return REMCOV_E_NOTFOUND;
  auto rd = [](const std::atomic<uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  };
#define REMCOV_DEVICE_STAT(name, what) out->name = rd(d->name);
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
