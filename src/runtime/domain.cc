// SPDX-License-Identifier: Apache-2.0
// Domains (domain.h): joining, publishing, withdrawing and finding handles.
//
// Thread safety: DomainPublish/DomainWithdraw take the file's robust mutex;
// DomainFind takes nothing. Joining is once per process (g_join_mu).
// Signal safety: DomainFind only.
#include "runtime/domain.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#include "remcov/export.h"
#include "remcov/kcov_abi.h"
#include "remcov/remcov.h"

#include "base/number.h"
#include "base/raw_check.h"
#include "runtime/device.h"
#include "runtime/open_table.h"
#include "runtime/proc_stat.h"
#include "runtime/robust_mutex.h"
#include "runtime/thread_state.h"

namespace remcov::internal {

constinit std::atomic<DomainFile*> g_domain{nullptr};
constinit std::atomic<bool> g_remote_lookaside{false};

namespace {

constexpr uint32_t kMask = kDomainSlots - 1;
// The largest private area a published registration may name: that of the
// largest shared area INIT_TRACE accepts (2^28 words). A larger one could
// not be moved whole anyway; the bound keeps a corrupt entry from making
// members allocate gigabytes.
constexpr uint32_t kMaxSectionWords = 1u << 28;

constinit std::mutex g_join_mu;  // orders joins
// The family domain's file: a close-on-exec descriptor of it and its
// identity; -1 without a family domain (written under g_join_mu; read by
// the exec and spawn interposers).
constinit std::atomic<int> g_domain_fd{-1};
constinit uint64_t g_domain_dev = 0;
constinit uint64_t g_domain_ino = 0;
// Writes fields in decimal, ':'-separated, into buf (n bytes): the length,
// or 0 when they do not fit. No allocation (vfork children call it).
template <size_t N>
size_t FormatFields(const uint64_t (&fields)[N], char* buf, size_t n) {
  char text[N * 21 + 1];
  char* p = text;
  for (size_t i = 0; i < N; i++) {
    if (i > 0) *p++ = ':';
    p = AppendDecimal(p, fields[i]);
  }
  const size_t len = static_cast<size_t>(p - text);
  if (len + 1 > n) return 0;
  memcpy(buf, text, len);
  buf[len] = '\0';
  return len;
}
// Reads what FormatFields writes: exactly N ':'-separated numbers, field i
// at most max[i], each in ParseNumber's syntax (no sign, no spaces). False
// for anything else.
template <size_t N>
bool ParseFields(const char* text, const uint64_t (&max)[N],
                 uint64_t (&out)[N]) {
  const char* p = text;
  for (size_t i = 0; i < N; i++) {
    char field[24];
    size_t len = 0;
    while (p[len] != '\0' && p[len] != ':') len++;
    if (len == 0 || len >= sizeof field) return false;
    memcpy(field, p, len);
    field[len] = '\0';
    if (!ParseNumber(field, 0, max[i], &out[i])) return false;
    p += len;
    if (i + 1 < N ? *p != ':' : *p != '\0') return false;
    p++;
  }
  return true;
}

// Whether g_domain is the family domain (guarded by g_join_mu; a fork child
// inherits it with the mapping).
constinit bool g_family = false;

// The mutex of the file: a member killed while it held it left an entry
// half written (its sequence odd); the next writer clears such entries.
class DomainLock : public RobustLock {
 public:
  explicit DomainLock(DomainFile* f)
      : RobustLock(&f->mu, [f] {
          for (uint32_t i = 0; i < kDomainSlots; i++) {
            DomainEntry& e = f->entries[i];
            if ((e.sequence.load(std::memory_order_relaxed) & 1) == 0) continue;
            const uint64_t k = e.key.load(std::memory_order_relaxed);
            if (k != 0 && k != kTableTomb) {  // a live key being rewritten
              e.key.store(kTableTomb, std::memory_order_release);
              if (f->live > 0) f->live--;
            }
            e.sequence.fetch_add(1, std::memory_order_release);
          }
        }) {}
};

// The modes a registration may carry (device.h's trace modes; counters modes
// with a map size in the ABI's range).
bool ValidMode(uint32_t mode, uint32_t map_bits) {
  if (mode == kModeTracePc || mode == kModeTraceCmp) return map_bits == 0;
  if (mode == kModeCounters || mode == kModeCountersCmp)
    return map_bits >= REMCOV_KCOV_COUNTERS_MIN_BITS &&
           map_bits <= REMCOV_KCOV_COUNTERS_MAX_BITS;
  return false;
}

// Writes an entry's fields under its sequence word. REQUIRES: the file's mu.
void WriteEntryLocked(DomainEntry& e, const DomainRecord& r) {
  e.sequence.fetch_add(1, std::memory_order_relaxed);  // odd
  std::atomic_thread_fence(std::memory_order_release);
  e.epoch.store(r.epoch, std::memory_order_relaxed);
  e.pid.store(r.pid, std::memory_order_relaxed);
  e.fd.store(r.fd, std::memory_order_relaxed);
  e.start.store(r.start, std::memory_order_relaxed);
  e.dev.store(r.dev, std::memory_order_relaxed);
  e.ino.store(r.ino, std::memory_order_relaxed);
  e.mode.store(r.mode | r.map_bits << 8, std::memory_order_relaxed);
  e.words.store(r.words, std::memory_order_relaxed);
  e.sequence.fetch_add(1, std::memory_order_release);  // even
}

// REQUIRES: the file's mu. Removes the live key at i.
void RemoveAtLocked(DomainFile* f, uint32_t i) {
  f->entries[i].key.store(kTableTomb, std::memory_order_release);
  if (f->live > 0) f->live--;
  ReclaimTombstoneRun(
      i, kMask,
      [f](uint32_t k) {
        return f->entries[k].key.load(std::memory_order_relaxed);
      },
      [f](uint32_t k) {
        f->entries[k].key.store(0, std::memory_order_release);
      });
}

// REQUIRES: the file's mu. Removes the entries of processes that ended
// without DISABLE (killed, or _exit in a fork server's child; the kernel's
// kcov_task_exit would have removed them), one /proc read per run of
// entries of one process. Returns how many went.
uint32_t SweepDeadLocked(DomainFile* f) {
  uint32_t removed = 0;
  int32_t last_pid = 0;
  uint64_t last_start = 0;
  bool last_alive = false;
  for (uint32_t i = 0; i < kDomainSlots; i++) {
    DomainEntry& e = f->entries[i];
    const uint64_t k = e.key.load(std::memory_order_relaxed);
    if (k == 0 || k == kTableTomb) continue;
    const int32_t pid = e.pid.load(std::memory_order_relaxed);
    const uint64_t start = e.start.load(std::memory_order_relaxed);
    if (pid != last_pid || start != last_start) {
      last_pid = pid;
      last_start = start;
      last_alive = ProcessAlive(pid, start);
    }
    if (!last_alive) {
      RemoveAtLocked(f, i);  // tombstones only: live entries never move
      removed++;
    }
  }
  return removed;
}

// REQUIRES: the file's mu. 0, EEXIST or ENOMEM; *inserted is set when the
// key was added (not when this process's own stale entry was rewritten).
// A full table is swept of ended processes' entries once before ENOMEM: a
// fork server's children that each publish a handle of their own and end
// without DISABLE would fill it otherwise.
int InsertLocked(DomainFile* f, uint64_t handle, const DomainRecord& r,
                 bool* inserted, bool swept = false) {
  *inserted = false;
  int64_t free_slot = -1;
  uint32_t i = TableHome(handle, kMask);
  for (uint32_t probes = 0; probes < kDomainSlots;
       probes++, i = (i + 1) & kMask) {
    DomainEntry& e = f->entries[i];
    const uint64_t k = e.key.load(std::memory_order_relaxed);
    if (k == handle) {
      const int32_t pid = e.pid.load(std::memory_order_relaxed);
      // Another live process's registration stands (the kernel's EEXIST
      // from kcov_remote_add); this process's own entries are arbitrated by
      // its handle map before it publishes.
      if (pid != r.pid &&
          ProcessAlive(pid, e.start.load(std::memory_order_relaxed)))
        return EEXIST;
      WriteEntryLocked(e, r);
      return 0;
    }
    if (k == kTableTomb && free_slot < 0) free_slot = i;
    if (k == 0) {
      if (free_slot < 0) free_slot = i;
      break;
    }
  }
  if (free_slot < 0 || f->live >= kDomainSlots / 4 * 3) {
    if (swept || SweepDeadLocked(f) == 0) return ENOMEM;
    return InsertLocked(f, handle, r, inserted, /*swept=*/true);
  }
  DomainEntry& e = f->entries[free_slot];
  WriteEntryLocked(e, r);
  e.key.store(handle, std::memory_order_release);  // pairs with DomainFind
  f->live++;
  *inserted = true;
  return 0;
}

// REQUIRES: the file's mu. Removes `handle` if it is (pid)'s.
void RemoveHandleLocked(DomainFile* f, uint64_t handle, int32_t pid) {
  uint32_t i = TableHome(handle, kMask);
  for (uint32_t probes = 0; probes < kDomainSlots;
       probes++, i = (i + 1) & kMask) {
    const uint64_t k = f->entries[i].key.load(std::memory_order_relaxed);
    if (k == 0) return;
    if (k != handle) continue;
    if (f->entries[i].pid.load(std::memory_order_relaxed) == pid)
      RemoveAtLocked(f, i);
    return;
  }
}

// Checks a mapped file's header. EINVAL when it is not a domain of this
// layout.
int CheckHeader(const DomainFile* f) {
  if (memcmp(f->magic, kDomainMagic, sizeof kDomainMagic) != 0 ||
      f->version != kDomainVersion || f->slots != kDomainSlots)
    return EINVAL;
  return 0;
}

// Maps the open file fd as a domain, making the table when the file is empty
// (under an exclusive flock, so concurrent joiners make it once). 0 or errno.
int MapDomain(int fd, DomainFile** out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EINVAL;
  while (flock(fd, LOCK_EX) != 0)
    if (errno != EINTR) return errno;
  int err = 0;
  DomainFile* f = nullptr;
  do {
    if (fstat(fd, &st) != 0) {
      err = errno;
      break;
    }
    const bool fresh = st.st_size == 0;
    if (!fresh && static_cast<uint64_t>(st.st_size) != sizeof(DomainFile)) {
      err = EINVAL;  // another file, or another layout's
      break;
    }
    if (fresh && ftruncate(fd, sizeof(DomainFile)) != 0) {
      err = errno;
      break;
    }
    void* p = mmap(nullptr, sizeof(DomainFile), PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      err = errno;
      break;
    }
    f = static_cast<DomainFile*>(p);
    if (fresh) {
      InitRobustSharedMutex(&f->mu);
      f->version = kDomainVersion;
      f->slots = kDomainSlots;
      std::atomic_thread_fence(std::memory_order_release);
      memcpy(f->magic, kDomainMagic, sizeof kDomainMagic);
    } else if ((err = CheckHeader(f)) != 0) {
      munmap(p, sizeof(DomainFile));
      f = nullptr;
    }
  } while (false);
  (void)flock(fd, LOCK_UN);
  *out = f;
  return err;
}

// Keeps a close-on-exec descriptor of the family domain's file fd
// (identity st), out of the program's low numbers, to hand on to the images
// this process starts (kFamilyDomainEnv). Without one (out of descriptors)
// the images start outside the family. REQUIRES: g_join_mu held.
void KeepDomainDescriptor(int fd, const struct stat& st) {
  const int kept = PrivateDescriptor(fd);
  if (kept >= 0) {
    g_domain_dev = static_cast<uint64_t>(st.st_dev);
    g_domain_ino = static_cast<uint64_t>(st.st_ino);
  }
  if (const int old = g_domain_fd.exchange(kept); old >= 0) close(old);
}

// A named domain replaced the family: its membership is the program's to
// give (REMCOV_DOMAIN in the environment it passes, or a descriptor), not
// handed on. REQUIRES: g_join_mu held.
void ForgetFamilyDomainDescriptor() {
  if (const int old = g_domain_fd.exchange(-1); old >= 0) close(old);
}

// Joins the domain of the open file fd: REMCOV_OK, or REMCOV_E_BUSY (another
// domain is joined), REMCOV_E_INVALID with errno (not a domain file).
// A joined domain replaces the family domain: this process's registrations
// move to it (MoveRegistrationsToDomain: withdrawn from the family's table,
// published in the new one, or all left as they were when one of them is
// another member's there: REMCOV_E_BUSY, errno EEXIST).
int JoinFd(int fd) {
  std::lock_guard<std::mutex> lock(g_join_mu);
  struct stat st;
  if (fstat(fd, &st) != 0) return REMCOV_E_INVALID;  // errno: EBADF
  DomainFile* const joined = g_domain.load(std::memory_order_relaxed);
  if (joined != nullptr && !g_family) {
    errno = EBUSY;
    return REMCOV_E_BUSY;
  }
  DomainFile* f = nullptr;
  if (int err = MapDomain(fd, &f)) {
    errno = err;
    return REMCOV_E_INVALID;
  }
  if (joined != nullptr) {
    if (int err = MoveRegistrationsToDomain(f)) {
      munmap(f, sizeof(DomainFile));
      errno = err;
      return REMCOV_E_BUSY;
    }
    g_family = false;
    ForgetFamilyDomainDescriptor();
    return REMCOV_OK;
  }
  g_domain.store(f, std::memory_order_release);
  g_remote_lookaside.store(true, std::memory_order_relaxed);
  return REMCOV_OK;
}

int JoinPath(const char* path) {
  if (path == nullptr || path[0] == '\0') {
    errno = EINVAL;
    return REMCOV_E_INVALID;
  }
  // Who may join is who may open the file read-write: its permissions (or
  // the descriptor passed) are the domain's access control. New files are
  // the creator's alone (0600).
  const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return REMCOV_E_INVALID;
  const int r = JoinFd(fd);
  const int saved = errno;
  close(fd);  // the mapping keeps the file
  errno = saved;
  return r;
}

}  // namespace

namespace {

// kFamilyDomainEnv, before main (no REMCOV_DOMAIN): the family domain of
// the process that started this image, on the descriptor it left open. A
// malformed entry, or a descriptor that is not that file, is ignored (the image
// then makes its own family at its first fork).
void JoinFamilyFromEnvironment() {
  const char* text = getenv(kFamilyDomainEnv);
  if (text == nullptr) return;
  uint64_t f[3];
  if (!ParseFields(text, {INT32_MAX, UINT64_MAX, UINT64_MAX}, f)) return;
  const int fd = static_cast<int>(f[0]);
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_dev) != f[1] ||
      static_cast<uint64_t>(st.st_ino) != f[2])
    return;
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  std::lock_guard<std::mutex> lock(g_join_mu);
  if (g_domain.load(std::memory_order_relaxed) != nullptr) return;
  DomainFile* d = nullptr;
  if (MapDomain(fd, &d) != 0) return;
  g_domain_dev = f[1];
  g_domain_ino = f[2];
  g_domain_fd.store(fd, std::memory_order_release);
  g_family = true;
  g_domain.store(d, std::memory_order_release);
  g_remote_lookaside.store(true, std::memory_order_relaxed);
}

}  // namespace

// REMCOV_DOMAIN, before main: a program started inside a domain (a server's
// worker, an exec'd image) is a member from its first instruction on. A
// domain that cannot be joined is reported on stderr; the program goes on
// without it. Called by the constructors that need it (once: the first call
// does it).
void JoinDomainFromEnvironment() {
  static bool done = false;  // constructors run on one thread, before main
  if (done) return;
  done = true;
  ErrnoSaver errno_saver;
  const char* path = getenv(REMCOV_DOMAIN_ENV);
  if (path == nullptr || path[0] == '\0') {
    JoinFamilyFromEnvironment();
  } else if (JoinPath(path) != REMCOV_OK) {
    const char* why = strerror(errno);
    const char* parts[] = {"remcov: " REMCOV_DOMAIN_ENV "=", path,
                           ": cannot join the domain: ", why,
                           "; remote handles of other processes stay unseen\n"};
    for (const char* part : parts) (void)!write(2, part, strlen(part));
  }
  // Entries of this process from before its exec: the exec ended the
  // threads that registered them (kernel: kcov_task_exit of the owner
  // removes its handles), so other members neither attach a closed
  // descriptor nor get EEXIST for them. The owner that exec'd registers its
  // own again after this (device.cc, AdoptIfOwned). A fresh process has
  // none.
  if (DomainFile* f = g_domain.load(std::memory_order_acquire))
    DomainWithdrawOwn(f);
}

__attribute__((constructor)) static void JoinFromEnvironment() {
  JoinDomainFromEnvironment();
  // A process that forks before the runtime's own fork handler exists (no
  // device used yet) makes its family domain here; registered first, this
  // prepare handler runs after the runtime's (POSIX: prepare handlers run in
  // the reverse order), which makes the domain itself before it takes its
  // locks, so this one then finds it made.
  (void)pthread_atfork(EnsureFamilyDomain, nullptr, nullptr);
}

void EnsureFamilyDomain() {
  if (g_domain.load(std::memory_order_acquire) != nullptr) return;
  ErrnoSaver errno_saver;
  std::lock_guard<std::mutex> lock(g_join_mu);
  if (g_domain.load(std::memory_order_relaxed) != nullptr) return;
  const int fd = static_cast<int>(
      syscall(SYS_memfd_create, "remcov-family-domain", MFD_CLOEXEC));
  DomainFile* f = nullptr;
  const int err = fd < 0 ? errno : MapDomain(fd, &f);
  if (err != 0) {
    if (fd >= 0) close(fd);
    g_counters.family_domain_failures.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) == 0) KeepDomainDescriptor(fd, st);
  close(fd);  // the mapping keeps the file
  g_family = true;
  if (PublishRegistrationsInFamilyDomain(f) != 0)
    g_counters.family_domain_failures.fetch_add(1, std::memory_order_relaxed);
  g_remote_lookaside.store(true, std::memory_order_relaxed);
}

int FamilyDomainDescriptor() {
  return g_domain_fd.load(std::memory_order_acquire);
}

size_t FamilyDomainEntryValue(char* buf, size_t n) {
  const int fd = g_domain_fd.load(std::memory_order_acquire);
  if (fd < 0) return 0;
  const uint64_t fields[] = {static_cast<uint64_t>(fd), g_domain_dev,
                             g_domain_ino};
  return FormatFields(fields, buf, n);
}

namespace {

// Removes this process's entries of f that `match` accepts.
template <typename Match>
void WithdrawOwnIf(DomainFile* f, Match match) {
  const int32_t self = SelfPid();
  DomainLock lock(f);
  for (uint32_t i = 0; i < kDomainSlots; i++) {
    DomainEntry& e = f->entries[i];
    const uint64_t k = e.key.load(std::memory_order_relaxed);
    if (k == 0 || k == kTableTomb) continue;
    if (e.pid.load(std::memory_order_relaxed) == self && match(e))
      RemoveAtLocked(f, i);
  }
}

}  // namespace

void DomainWithdrawOwn(DomainFile* f) {
  WithdrawOwnIf(f, [](const DomainEntry&) { return true; });
}

int DomainPublish(const uint64_t* handles, uint32_t n, uint64_t common,
                  const DomainRecord& device) {
  DomainFile* f = g_domain.load(std::memory_order_acquire);
  if (f == nullptr) return 0;
  DomainRecord r = device;
  r.pid = SelfPid();
  r.start = SelfStart();  // 0 when /proc is unreadable: the pid alone counts
  DomainLock lock(f);
  uint64_t added[REMCOV_KCOV_REMOTE_MAX_HANDLES + 1];
  uint32_t n_added = 0;
  int err = 0;
  for (uint32_t i = 0; i <= n && err == 0; i++) {
    const uint64_t h = i < n ? handles[i] : common;
    if (h == 0) continue;
    bool inserted = false;
    err = InsertLocked(f, h, r, &inserted);
    if (err == 0 && inserted) added[n_added++] = h;
  }
  if (err != 0) {
    for (uint32_t i = 0; i < n_added; i++)
      RemoveHandleLocked(f, added[i], r.pid);
  }
  return err;
}

void DomainWithdraw(uint64_t dev, uint64_t ino) {
  DomainFile* f = g_domain.load(std::memory_order_acquire);
  if (f == nullptr) return;
  WithdrawOwnIf(f, [dev, ino](const DomainEntry& e) {
    return e.dev.load(std::memory_order_relaxed) == dev &&
           e.ino.load(std::memory_order_relaxed) == ino;
  });
}

bool DomainFind(uint64_t handle, DomainRecord* out) {
  DomainFile* f = g_domain.load(std::memory_order_acquire);
  if (f == nullptr) return false;
  uint32_t i = TableHome(handle, kMask);
  // At most one pass over the table, whatever a member wrote into it.
  for (uint32_t probes = 0; probes < kDomainSlots;
       probes++, i = (i + 1) & kMask) {
    DomainEntry& e = f->entries[i];
    const uint64_t k = e.key.load(std::memory_order_acquire);
    if (k == 0) return false;
    if (k != handle) continue;
    for (int tries = 0; tries < 4; tries++) {
      const uint32_t s1 = e.sequence.load(std::memory_order_acquire);
      if (s1 & 1) continue;
      DomainRecord r;
      r.epoch = e.epoch.load(std::memory_order_relaxed);
      r.pid = e.pid.load(std::memory_order_relaxed);
      r.fd = e.fd.load(std::memory_order_relaxed);
      r.start = e.start.load(std::memory_order_relaxed);
      r.dev = e.dev.load(std::memory_order_relaxed);
      r.ino = e.ino.load(std::memory_order_relaxed);
      const uint32_t mode = e.mode.load(std::memory_order_relaxed);
      r.words = e.words.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (e.sequence.load(std::memory_order_relaxed) != s1 ||
          e.key.load(std::memory_order_relaxed) != handle)
        continue;
      r.mode = mode & 0xff;
      r.map_bits = mode >> 8;
      if (!ValidRecord(r)) return false;
      *out = r;
      return true;
    }
    return false;  // being rewritten: a miss, as before the registration
  }
  return false;
}

bool ValidRecord(const DomainRecord& r) {
  return r.pid > 0 && r.fd >= 0 && r.fd < (1 << 24) &&
         ValidMode(r.mode, r.map_bits) && r.words >= 2 &&
         r.words <= kMaxSectionWords;
}

size_t FormatInheritedHandle(uint64_t handle, const DomainRecord& r, char* buf,
                             size_t n) {
  const uint64_t fields[] = {handle,
                             static_cast<uint64_t>(r.pid),
                             static_cast<uint64_t>(r.fd),
                             r.start,
                             r.dev,
                             r.ino,
                             r.epoch,
                             r.mode,
                             r.map_bits,
                             r.words};
  return FormatFields(fields, buf, n);
}

bool ParseInheritedHandle(const char* text, uint64_t* handle, DomainRecord* r) {
  uint64_t f[10];
  if (!ParseFields(text,
                   {UINT64_MAX, INT32_MAX, INT32_MAX, UINT64_MAX, UINT64_MAX,
                    UINT64_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX},
                   f))
    return false;
  DomainRecord out;
  out.pid = static_cast<int32_t>(f[1]);
  out.fd = static_cast<int32_t>(f[2]);
  out.start = f[3];
  out.dev = f[4];
  out.ino = f[5];
  out.epoch = static_cast<uint32_t>(f[6]);
  out.mode = static_cast<uint32_t>(f[7]);
  out.map_bits = static_cast<uint32_t>(f[8]);
  out.words = static_cast<uint32_t>(f[9]);
  if (f[0] == 0 || !ValidRecord(out)) return false;
  *handle = f[0];
  *r = out;
  return true;
}

}  // namespace remcov::internal

using namespace remcov::internal;  // NOLINT: the C entry points below

extern "C" {

REMCOV_EXPORT int remcov_domain_join(const char* path) {
  return JoinPath(path);
}

REMCOV_EXPORT int remcov_domain_join_fd(int fd) { return JoinFd(fd); }

}  // extern "C"
