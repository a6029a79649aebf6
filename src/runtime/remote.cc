// SPDX-License-Identifier: Apache-2.0
// KCOV Remote in the runtime: the handle map, remote sections, private area
// pools and the move into the collector's shared area (kernel/kcov.c:
// kcov_remote_start, kcov_remote_stop, kcov_move_area,
// kcov_remote_area_get/put).
//
// The lookup path of remcov_remote_start/stop takes no mutex, rwlock or shared
// mutex (the kernel takes a global spinlock): the handle map is an
// open-addressing table read lock-free; the registration mutex only orders
// writers. Moves into one device are serialized by its MoveLock; a section
// that ends in a signal handler never spins: it pushes its area onto the
// device's pending list and whoever holds (or next takes) the lock moves it.
//
// Thread safety: any thread, any time. Signal safety: remcov_remote_start,
// remcov_remote_stop and remcov_common_handle are async-signal-safe; in a
// signal handler they use only the preallocated pool and lock-free structures.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#include "remcov/remcov.h"

#include "area/shared_area.h"
#include "base/byte_lanes.h"
#include "base/env_flags.h"
#include "base/number.h"
#include "base/raw_check.h"
#include "runtime/device.h"
#include "runtime/domain.h"
#include "runtime/open_table.h"
#include "runtime/proc_stat.h"
#include "runtime/thread_state.h"

extern char** environ;

namespace remcov::internal {

struct RemoteArea {
  RemoteArea* next = nullptr;  // free list (task pool) or pending list link
  uint32_t words = 0;          // capacity of data[], in words
  bool irq = false;            // belongs to the signal-handler pool
  std::atomic<uint32_t> in_use{0};  // signal-handler pool slot flag
  // The registration the area is bound to, snapshot from the handle map at
  // section start (kernel: t->kcov, t->kcov_sequence, t->kcov_mode). A task
  // area keeps its binding between sections (ThreadState::cached_area).
  Device* device = nullptr;
  uint32_t sequence = 0;  // the view's (Device::sequence)
  uint32_t epoch = 0;     // the device's (DeviceShared::epoch)
  uint32_t mode = 0;
  uint64_t capacity = 0;  // in entries of `mode`: CapacityFor(mode, words)
  std::atomic<uint64_t> overflow{0};  // entries that did not fit this area
  uint64_t* data = nullptr;           // word 0 = count
  // Counters modes (BindCounters): data[0] = 1 (so that the stop always
  // moves), data[1] the comparison trace's count, its records, then the map
  // of 2^map_bits counters. INVARIANT: outside a section, a non-null map is
  // all zero (the move or the drop clears it), so a section that binds the
  // same map need not clear it first.
  uint8_t* map = nullptr;
  uint32_t map_bits = 0;
};

namespace {

using Area = SharedArea<StdPublishPolicy>;

// ---- handle validation (kernel: kcov_check_handle) ----
bool CheckHandle(uint64_t handle, bool common_valid, bool uncommon_valid,
                 bool zero_valid) {
  if (handle & ~(REMCOV_KCOV_SUBSYSTEM_MASK | REMCOV_KCOV_INSTANCE_MASK))
    return false;
  switch (handle & REMCOV_KCOV_SUBSYSTEM_MASK) {
    case REMCOV_KCOV_SUBSYSTEM_COMMON:
      return (handle & REMCOV_KCOV_INSTANCE_MASK) ? common_valid : zero_valid;
    case REMCOV_KCOV_SUBSYSTEM_USB:
      return uncommon_valid;
    default:
      return false;
  }
}

// ---- the handle map ----
// Keys: 0 = empty, kTomb = removed (both invalid handles). Values pack the
// device slot, the view's sequence at registration and the trace mode; the
// slot's second word is the device's epoch at registration. A section
// snapshots all four with one lookup (the kernel reads them under
// kcov_remote_lock).
//
// The map is this process's. A child made by fork keeps its parent's map as
// it was at the fork (ResetRemoteAfterFork does not clear it), so the child's
// sections with an inherited handle reach the parent's device through the
// view the child inherited: the view's area is a shared mapping of the
// device's file, and the move lock, `accepting` and the epoch are in the
// device's control page (device_shared.h). A registration made after the
// fork, by the parent or by a child, is not in the other's map: it reaches
// them through the family domain (domain.h, EnsureFamilyDomain), which the
// miss path consults as it does a joined domain (docs/kcov.md, difference 7).
constexpr uint32_t kMapSlots = 1u << 13;
constexpr uint32_t kMapMaxLive = kMapSlots / 4 * 3;
constexpr uint64_t kTomb = kTableTomb;

// 32 bytes: a power of two, so a lookup's index is one shift.
struct alignas(32) MapSlot {
  std::atomic<uint64_t> key{0};
  std::atomic<uint64_t> value{0};
  std::atomic<uint32_t> epoch{0};
};
static_assert(sizeof(MapSlot) == 32);
constinit MapSlot g_map[kMapSlots];
constinit std::mutex g_reg_mu;      // orders writers; readers never take it
constinit uint32_t g_map_live = 0;  // guarded by g_reg_mu

// A registration: the view's slot and sequence, its task mode (kModeTracePc
// and up, in 3 bits: modes are below 8) and, for counters modes, the map's
// log2 size.
uint64_t PackValue(uint32_t slot, uint32_t seq, uint32_t mode,
                   uint32_t map_bits) {
  return static_cast<uint64_t>(seq) | static_cast<uint64_t>(slot) << 32 |
         static_cast<uint64_t>(mode & 7) << 48 |
         static_cast<uint64_t>(map_bits) << 52;
}
uint32_t ValueSlot(uint64_t v) {
  return static_cast<uint32_t>(v >> 32) & 0xffff;
}
uint32_t ValueSeq(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t ValueMode(uint64_t v) { return (v >> 48) & 7; }
uint32_t ValueMapBits(uint64_t v) { return (v >> 52) & 0xff; }

uint32_t HashHandle(uint64_t h) { return TableHome(h, kMapSlots - 1); }

// Lock-free lookup. The key is re-read after the value (value is stored
// before the key on insert, key is overwritten on removal), so a value is only
// returned while its key was present.
// kCountProbes (HandleProbesForTesting only) counts the slots examined into
// *slots_read; the hot path instantiates it without.
template <bool kCountProbes>
__attribute__((always_inline)) inline bool MapFind(uint64_t handle,
                                                   uint64_t* value,
                                                   uint32_t* epoch,
                                                   uint32_t* slots_read) {
  uint32_t i = HashHandle(handle);
  for (uint32_t probes = 0; probes < kMapSlots;
       probes++, i = (i + 1) & (kMapSlots - 1)) {
    if constexpr (kCountProbes) *slots_read = probes + 1;
    // Acquire pairs with the release store of the key in MapInsertLocked.
    uint64_t k = g_map[i].key.load(std::memory_order_acquire);
    if (k == 0) return false;
    if (k != handle) continue;
    uint64_t v = g_map[i].value.load(std::memory_order_acquire);
    uint32_t e = g_map[i].epoch.load(std::memory_order_acquire);
    if (g_map[i].key.load(std::memory_order_acquire) != handle) return false;
    *value = v;
    *epoch = e;
    return true;
  }
  return false;
}
__attribute__((always_inline)) inline bool MapLookup(uint64_t handle,
                                                     uint64_t* value,
                                                     uint32_t* epoch) {
  return MapFind<false>(handle, value, epoch, nullptr);
}

// Whether a binding (a registration, or a section bound to one) still holds
// in d: the device accepts sections, was not disabled since (epoch, in any
// process) and the view is the one it was bound to (sequence: not freed or
// reused since). By pointer: a section's stop compares with its area's
// fields in memory, each read only when the check before it passed (the
// empty registered section's instruction count, docs/performance.md).
__attribute__((always_inline)) inline bool BindingStands(
    const Device* d, const uint32_t* sequence, const uint32_t* epoch) {
  return d->sh()->accepting.load(std::memory_order_relaxed) != 0 &&
         d->sh()->epoch.load(std::memory_order_relaxed) == *epoch &&
         d->sequence.load(std::memory_order_relaxed) == *sequence;
}

// Whether a registration still stands. A child's map holds its parent's
// registrations as they were at the fork; the ones that no longer stand are
// replaced by new registrations.
__attribute__((always_inline)) inline bool RegistrationStands(uint64_t value,
                                                              uint32_t epoch) {
  const uint32_t sequence = ValueSeq(value);
  return BindingStands(DeviceAt(ValueSlot(value)), &sequence, &epoch);
}

void MapRemoveAtLocked(uint32_t i);

// REQUIRES: g_reg_mu. 0, EEXIST or ENOMEM.
int MapInsertLocked(uint64_t handle, uint64_t value, uint32_t epoch) {
  uint32_t i = HashHandle(handle);
  int64_t free_slot = -1;
  for (uint32_t probes = 0; probes < kMapSlots;
       probes++, i = (i + 1) & (kMapSlots - 1)) {
    uint64_t k = g_map[i].key.load(std::memory_order_relaxed);
    if (k == handle) {
      if (RegistrationStands(g_map[i].value.load(std::memory_order_relaxed),
                             g_map[i].epoch.load(std::memory_order_relaxed)))
        return EEXIST;
      MapRemoveAtLocked(i);  // a registration inherited across fork, gone
      return MapInsertLocked(handle, value, epoch);
    }
    if (k == kTomb && free_slot < 0) free_slot = i;
    if (k == 0) {
      if (free_slot < 0) free_slot = i;
      break;
    }
  }
  if (free_slot < 0 || g_map_live >= kMapMaxLive) return ENOMEM;
  MapSlot& s = g_map[free_slot];
  s.value.store(value, std::memory_order_relaxed);
  s.epoch.store(epoch, std::memory_order_relaxed);
  s.key.store(handle, std::memory_order_release);  // pairs with MapLookup
  g_map_live++;
  return 0;
}

// REQUIRES: g_reg_mu. The tombstone just written at `i`: open_table.h.
void MapReclaimRunLocked(uint32_t i) {
  ReclaimTombstoneRun(
      i, kMapSlots - 1,
      [](uint32_t k) { return g_map[k].key.load(std::memory_order_relaxed); },
      [](uint32_t k) { g_map[k].key.store(0, std::memory_order_release); });
}

// REQUIRES: g_reg_mu. Removes the live key at `i`.
void MapRemoveAtLocked(uint32_t i) {
  g_map[i].key.store(kTomb, std::memory_order_release);
  g_map_live--;
  MapReclaimRunLocked(i);
}

// REQUIRES: g_reg_mu. Removes every handle of the device in `slot`.
void MapRemoveSlotLocked(uint32_t slot) {
  for (uint32_t i = 0; i < kMapSlots; i++) {
    uint64_t k = g_map[i].key.load(std::memory_order_relaxed);
    if (k == 0 || k == kTomb) continue;
    if (ValueSlot(g_map[i].value.load(std::memory_order_relaxed)) != slot)
      continue;
    MapRemoveAtLocked(i);
  }
}

// Maps a handle of another domain member to this process's view (slot,
// sequence) of its device. 0 or ENOMEM.
int MapDomainHandle(uint64_t handle, uint32_t slot, uint32_t sequence,
                    const DomainRecord& r) {
  std::lock_guard<std::mutex> lock(g_reg_mu);
  const int err = MapInsertLocked(
      handle, PackValue(slot, sequence, r.mode, r.map_bits), r.epoch);
  return err == EEXIST ? 0 : err;  // another thread of ours mapped it first
}

// ---- private areas ----
RemoteArea* AllocateArea(uint32_t words, bool irq) {
  ErrnoSaver errno_saver;  // remote sections leave errno untouched
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t header = (sizeof(RemoteArea) + page - 1) / page * page;
  size_t bytes =
      header + (static_cast<size_t>(words) * 8 + page - 1) / page * page;
  // MAP_POPULATE: areas are pre-faulted, so sections never fault in them.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* a = new (p) RemoteArea();
  a->words = words;
  a->irq = irq;
  a->data = reinterpret_cast<uint64_t*>(static_cast<char*>(p) + header);
  return a;
}

// Task pool: areas keyed by exact size, never freed (as the kernel's).
constinit std::mutex g_pool_mu;
constinit RemoteArea* g_pool = nullptr;  // guarded by g_pool_mu

// An area of exactly `words` words from the pool, or a new one; nullptr when
// allocation fails. Task context only (mutex, mmap).
RemoteArea* TaskAreaGet(uint32_t words) {
  {
    ErrnoSaver errno_saver;
    std::lock_guard<std::mutex> lock(g_pool_mu);
    for (RemoteArea** p = &g_pool; *p != nullptr; p = &(*p)->next) {
      if ((*p)->words == words) {
        RemoteArea* a = *p;
        *p = a->next;
        a->next = nullptr;
        return a;
      }
    }
  }
  return AllocateArea(words, false);
}

void TaskAreaPut(RemoteArea* a) {
  ErrnoSaver errno_saver;
  std::lock_guard<std::mutex> lock(g_pool_mu);
  a->next = g_pool;
  g_pool = a;
}

// Signal-handler pool (the kernel's softirq pool): preallocated, lock-free.
constexpr uint32_t kMaxIrqAreas = 256;
constinit RemoteArea* g_irq_areas[kMaxIrqAreas] = {};
constinit std::atomic<uint32_t> g_irq_count{0};  // set once, then read-only
constinit uint32_t g_irq_cfg_areas = 4;
constinit uint32_t g_irq_cfg_words = 0x10000;
constinit std::mutex g_irq_mu;
constinit bool g_irq_done = false;        // guarded by g_irq_mu
constinit bool g_irq_configured = false;  // set by remcov_config_irq_pool

RemoteArea* IrqAreaGet() {
  uint32_t n = g_irq_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n; i++) {
    RemoteArea* a = g_irq_areas[i];
    uint32_t expected = 0;
    if (a->in_use.compare_exchange_strong(
            expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return a;
  }
  return nullptr;
}

// Only signal-handler areas are ever released after a section: a task area
// stays attached to its thread (ThreadState::cached_area).
void IrqAreaRelease(RemoteArea* a) {
  a->in_use.store(0, std::memory_order_release);  // pairs with IrqAreaGet
}

// ---- the move lock ----
// Two halves: the view's MoveLock orders this process's threads and signal
// handlers (device.h), and its holder then takes the control page's
// `move_holder`, which orders the processes that move into the device (a
// fork child moving into its parent's device). Only one thread per process
// ever waits for the second half, and never a thread of the process that
// holds it, so a handler may wait for it: the holder is another process,
// which either finishes its move or dies.

// This thread's identity in `move_holder`: (pid << 32 | tid), computed once
// per thread (the child side of fork clears it: ResetMoveIdentity).
uint64_t MoveIdentity(ThreadState& t) {
  if (t.move_identity == 0) {
    ErrnoSaver errno_saver;
    const uint64_t pid = static_cast<uint32_t>(syscall(SYS_getpid));
    const uint64_t tid = static_cast<uint32_t>(syscall(SYS_gettid));
    t.move_identity = pid << 32 | tid;
  }
  return t.move_identity;
}

// Whether the thread `holder` (a move_holder value) no longer runs: it exited,
// or its process died and was not yet reaped (a zombie's threads are gone
// but its leader is still found by tgkill: /proc tells). Async-signal-safe
// (system calls only). A holder whose tid was reused meanwhile is taken for
// alive: the wait goes on until that thread ends too.
bool HolderGone(uint64_t holder) {
  ErrnoSaver errno_saver;
  const auto pid = static_cast<uint32_t>(holder >> 32);
  const auto tid = static_cast<uint32_t>(holder);
  if (syscall(SYS_tgkill, pid, tid, 0) != 0) return errno == ESRCH;
  char state = 0;
  uint64_t start_time;
  int error = 0;
  if (!ReadTaskStat(pid, tid, &state, &start_time, &error))
    return error == ENOENT;
  return state == 'Z' || state == 'X';
}

// How long a waiter waits for a holder that is alive: a move copies one
// section (microseconds), so a holder that keeps the lock this long is stuck
// or hostile (a domain member may be either). The waiter then gives up: its
// section is dropped and counted (move_lock_timeouts), and a DISABLE goes on.
constexpr int64_t kMoveWaitLimitNs = 2'000'000'000;

int64_t MonotonicNs() {
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// REQUIRES: d->move_lock held by t. Takes the cross-process half, and says
// so in d->shared_held; false (not taken) when an alive holder kept it past
// kMoveWaitLimitNs.
bool LockMoveShared(Device* d, ThreadState& t) {
  std::atomic<uint64_t>& word = d->sh()->move_holder;
  const uint64_t self = MoveIdentity(t);
  int64_t since = 0;
  for (uint32_t spins = 0;; spins++) {
    uint64_t holder = 0;
    // Acquire pairs with the release in UnlockMoveShared: the previous
    // holder's copy and count are visible to ours.
    if (word.compare_exchange_strong(holder, self, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      d->shared_held = true;
      return true;
    }
    if (spins < 64) {
      __builtin_ia32_pause();
      continue;
    }
    {
      ErrnoSaver errno_saver;
      sched_yield();
    }
    // Now and then: is the holder still there? A process killed in its move
    // leaves the lock held for ever; its section is lost (never partial: the
    // count it had not published does not cover what it copied).
    if (spins % 256 == 0) {
      if (HolderGone(holder) &&
          word.compare_exchange_strong(holder, self, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        d->sh()->move_holders_died.fetch_add(1, std::memory_order_relaxed);
        d->shared_held = true;
        return true;
      }
      ErrnoSaver errno_saver;
      const int64_t now = MonotonicNs();
      if (since == 0) since = now;
      if (now - since > kMoveWaitLimitNs) {
        d->sh()->move_lock_timeouts.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    }
  }
}

void UnlockMoveShared(Device* d) {
  if (!d->shared_held) return;
  d->shared_held = false;
  d->sh()->move_holder.store(0, std::memory_order_release);
}

// Both halves, for task context (spins).
void LockMove(Device* d, ThreadState& t) {
  d->move_lock.Lock(&t);
  LockMoveShared(d, t);
}

// Whether the section bound in `a` may still be moved into d.
__attribute__((always_inline)) inline bool SectionStands(const Device* d,
                                                         const RemoteArea* a) {
  return BindingStands(d, &a->sequence, &a->epoch);
}

// ---- the move ----
// The counters-mode part of MoveOneLocked: adds the section's private map
// into the device's (which starts its area) and clears it, then appends the
// comparison records to the trace after the map. A section that straddled
// DISABLE is dropped and counted as in the PC and CMP modes: its records, and
// one entry per counter it set.
void MoveCountersLocked(Device* d, RemoteArea* a) {
  const uint64_t map_words = remcov_kcov_counters_map_words(a->map_bits);
  auto* src = reinterpret_cast<uint64_t*>(a->map);
  const uint64_t n = a->data[1];
  const uint64_t private_over = a->overflow.load(std::memory_order_relaxed);
  if (!d->shared_held || !SectionStands(d, a)) {
    uint64_t hits = 0;
    for (uint64_t b = 0; b < map_words; b += kLaneBlockWords) {
      if (BlockIsZero(src + b)) continue;
      for (uint64_t i = b; i < b + kLaneBlockWords; i++) {
        hits += NonzeroBytes(src[i]);
        src[i] = 0;
      }
    }
    g_counters.sequence_dropped_sections.fetch_add(1,
                                                   std::memory_order_relaxed);
    g_counters.sequence_dropped_entries.fetch_add(n + private_over + hits,
                                                  std::memory_order_relaxed);
    d->sh()->sections_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Relaxed word accesses: the collector may read the map meanwhile (it
  // sees each counter old or new; the owner never writes a remote map).
  static_assert((1u << REMCOV_KCOV_COUNTERS_MIN_BITS) / 8 % kLaneBlockWords ==
                0);  // a map is whole blocks
  for (uint64_t b = 0; b < map_words; b += kLaneBlockWords) {
    if (BlockIsZero(src + b)) continue;
    for (uint64_t i = b; i < b + kLaneBlockWords; i++) {
      const uint64_t v = src[i];
      if (v == 0) continue;
      src[i] = 0;
      std::atomic_ref<uint64_t> w(d->area[i]);
      w.store(SaturatingAdd8(w.load(std::memory_order_relaxed), v),
              std::memory_order_relaxed);
    }
  }
  if (a->mode == kModeCountersCmp && d->size > map_words) {
    uint64_t* trace = d->area + map_words;
    MoveResult r = Area::Move(trace[0], trace,
                              CapacityFor(kModeTraceCmp, d->size - map_words),
                              4, a->data + 2, n);
    if (r.garbage) {
      d->sh()->garbage_counts.fetch_add(1, std::memory_order_relaxed);
      d->sh()->garbage_entries.fetch_add(n, std::memory_order_relaxed);
    } else if (r.dropped) {
      d->sh()->overflow_entries.fetch_add(r.dropped, std::memory_order_relaxed);
    }
    if (r.retries)
      d->sh()->move_retries.fetch_add(r.retries, std::memory_order_relaxed);
  }
  if (private_over)
    d->sh()->private_overflow_entries.fetch_add(private_over,
                                                std::memory_order_relaxed);
  d->sh()->sections_moved.fetch_add(1, std::memory_order_relaxed);
}

// REQUIRES: d's move lock held (and its cross-process half, unless the wait
// for it gave up: d->shared_held), d == a->device. Moves one
// finished section (kernel: kcov_move_area under kcov->lock, after the
// sequence check).
void MoveOneLocked(Device* d, RemoteArea* a) {
  if (a->map != nullptr) return MoveCountersLocked(d, a);
  // The area's count was written by the thread that ran the section: ours, or
  // (for a deferred area) a handler whose push pairs with our pop.
  uint64_t n = a->data[0];
  uint64_t private_over = a->overflow.load(std::memory_order_relaxed);
  if (!d->shared_held || !SectionStands(d, a)) {
    // Straddled DISABLE (or the device is gone), or the wait for the move
    // lock's cross-process half gave up: dropped, counted.
    g_counters.sequence_dropped_sections.fetch_add(1,
                                                   std::memory_order_relaxed);
    g_counters.sequence_dropped_entries.fetch_add(n + private_over,
                                                  std::memory_order_relaxed);
    d->sh()->sections_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  size_t entry_words = a->mode == kModeTraceCmp ? 4 : 1;
  uint64_t cap = CapacityFor(a->mode, d->size);
  MoveResult r =
      Area::Move(d->area[0], d->area, cap, entry_words, a->data + 1, n);
  if (r.garbage) {
    d->sh()->garbage_counts.fetch_add(1, std::memory_order_relaxed);
    d->sh()->garbage_entries.fetch_add(n, std::memory_order_relaxed);
  } else if (r.dropped) {
    d->sh()->overflow_entries.fetch_add(r.dropped, std::memory_order_relaxed);
  }
  if (private_over)
    d->sh()->private_overflow_entries.fetch_add(private_over,
                                                std::memory_order_relaxed);
  if (r.retries)
    d->sh()->move_retries.fetch_add(r.retries, std::memory_order_relaxed);
  d->sh()->sections_moved.fetch_add(1, std::memory_order_relaxed);
}

// REQUIRES: both halves of d's move lock held. Moves every deferred area.
void DrainPendingLocked(Device* d) {
  // seq_cst: pairs with the push in DeferMove (store-buffer pattern with the
  // lock word: either the pusher sees the lock free or we see its area).
  RemoteArea* list = d->pending.exchange(nullptr, std::memory_order_seq_cst);
  // The list is LIFO; reverse it so sections land in the order they ended.
  RemoteArea* rev = nullptr;
  while (list != nullptr) {
    RemoteArea* next = list->next;
    list->next = rev;
    rev = list;
    list = next;
  }
  while (rev != nullptr) {
    RemoteArea* next = rev->next;
    rev->next = nullptr;
    MoveOneLocked(d, rev);
    IrqAreaRelease(rev);  // only handler sections are deferred
    rev = next;
  }
}

// Releases both halves of the move lock and moves what was deferred
// meanwhile.
void UnlockAndDrain(Device* d, ThreadState* t) {
  for (;;) {
    // Relaxed: only spares the exchange when nothing is pending; a push this
    // load misses is found by the seq_cst load after the unlock.
    if (d->pending.load(std::memory_order_relaxed) != nullptr)
      DrainPendingLocked(d);
    UnlockMoveShared(d);
    d->move_lock.Unlock();  // seq_cst: see MoveLock
    if (d->pending.load(std::memory_order_seq_cst) == nullptr) return;
    if (!d->move_lock.TryLock(t)) return;  // the holder drains it
    LockMoveShared(d, *t);
  }
}

// From a signal handler: never spins.
void DeferMove(Device* d, ThreadState& t, RemoteArea* a) {
  RemoteArea* head = d->pending.load(std::memory_order_relaxed);
  do {
    a->next = head;
  } while (!d->pending.compare_exchange_weak(head, a, std::memory_order_seq_cst,
                                             std::memory_order_relaxed));
  if (d->move_lock.TryLock(&t)) {
    LockMoveShared(d, t);
    UnlockAndDrain(d, &t);
  } else {
    d->sh()->sections_deferred.fetch_add(1, std::memory_order_relaxed);
  }
}

// Ends the signal-handler section of a level that was left without returning
// (longjmp, thread exit): restores the context it interrupted, except the mode
// (the caller's), and moves what it recorded as remcov_remote_stop would.
void EndAbandonedSection(ThreadState& t) {
  RemoteArea* a = t.remote;
  StopTracing(t, kModeInIrq);
  t.remote = t.saved.remote;
  t.area = t.saved.area;
  t.capacity = t.saved.capacity;
  t.overflow = t.saved.overflow;
  t.map = t.saved.map;
  t.map_mask = t.saved.map_mask;
  t.map_shift = t.saved.map_shift;
  t.saved = TraceContext{};
  t.softirq_active = 0;
  t.softirq_depth = 0;
  if (a != nullptr && a->irq) DeferMove(a->device, t, a);
}

// Blocks every signal for the lifetime of the object (the level bookkeeping
// below must not be interleaved with a handler on this thread).
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  ErrnoSaver errno_saver_;
  sigset_t old_;
};

// Whether level `l`'s frames enclose stack position sp, on the stack sp is
// on: an alternate-stack level encloses only deeper positions on that stack; a
// thread-stack level encloses deeper positions and the alternate stack (a
// handler delivered there while it ran).
bool Encloses(const IrqLevel& l, uintptr_t sp, uintptr_t alt_lo,
              uintptr_t alt_hi) {
  const bool sp_on_alt = alt_hi != 0 && sp >= alt_lo && sp < alt_hi;
  return l.on_alt ? sp_on_alt && sp < l.frame : sp_on_alt || sp < l.frame;
}

// Drops the handler levels the caller is no longer inside; whether it is
// still in a handler. The frame is this function's, one below the caller's:
// it is inside exactly the levels the caller is inside.
__attribute__((noinline)) bool StillInHandler(ThreadState& t) {
  LeaveAbandonedSignalLevels(
      t, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  return t.irq_depth > 0;
}

// Binds an area to the registration found in the map. False when a
// counters-mode registration's map does not fit the area (a signal-handler
// pool area smaller than the map).
bool BindArea(RemoteArea* a, uint64_t value, uint32_t epoch) {
  a->device = DeviceAt(ValueSlot(value));
  a->sequence = ValueSeq(value);
  a->epoch = epoch;
  a->mode = ValueMode(value);
  if (!IsCountersMode(a->mode)) {
    a->map = nullptr;  // the PCs or records will overwrite it
    a->capacity = CapacityFor(a->mode, a->words);
    return true;
  }
  const uint32_t bits = ValueMapBits(value);
  const uint64_t map_words = remcov_kcov_counters_map_words(bits);
  if (a->words < 2 + map_words) return false;
  const uint64_t trace_words = a->words - 1 - map_words;  // count + records
  uint64_t* map = a->data + 1 + trace_words;
  if (a->map != reinterpret_cast<uint8_t*>(map) || a->map_bits != bits) {
    for (uint64_t i = 0; i < map_words; i++) map[i] = 0;
  }
  a->map = reinterpret_cast<uint8_t*>(map);
  a->map_bits = bits;
  a->capacity =
      a->mode == kModeCountersCmp ? CapacityFor(kModeTraceCmp, trace_words) : 0;
  return true;
}

// Starts tracing into a bound area: its trace, or (counters modes) its map
// and comparison trace after the marker word.
void StartSection(ThreadState& t, RemoteArea* a) {
  a->overflow.store(0, std::memory_order_relaxed);
  t.remote = a;
  if (a->map == nullptr) {
    a->data[0] = 0;
    t.map = nullptr;  // a handler's section: the interrupted map is saved
    StartTracing(t, a->mode, a->data, a->capacity, &a->overflow);
    return;
  }
  a->data[0] = 1;  // the stop always moves: the map may hold counts
  a->data[1] = 0;
  StartCounting(t, a->mode, a->map, a->map_bits, a->data + 1, a->capacity,
                &a->overflow);
}

// Restores an interrupted context saved by a handler's section.
void RestoreContext(ThreadState& t, const TraceContext& c) {
  t.remote = c.remote;
  t.map = c.map;
  t.map_mask = c.map_mask;
  t.map_shift = c.map_shift;
  StartTracing(t, c.mode, c.area, c.capacity, c.overflow);
}

void RemoteStartSlow(ThreadState& t, uint64_t handle);
void StartBoundSection(ThreadState& t, uint64_t handle, uint64_t value,
                       uint32_t epoch, bool in_irq);

// The common handle this program image came with across exec, and the
// registration it names (domain.h, kInheritedHandleEnv); set before main.
constinit uint64_t g_inherited_handle = 0;
constinit DomainRecord g_inherited_record;

// A handle this process has no standing registration for: another member of
// the process's domain may have registered it (domain.h), or it is the
// common handle this image came with across exec. Attaches that
// member's device (task context: it opens and maps files), maps the handle
// to it and starts the section. Out of line: without a domain or an
// inherited handle a miss costs one load and test more (RemoteLookaside).
__attribute__((noinline)) void SectionFromDomain(ThreadState& t,
                                                 uint64_t handle, bool in_irq) {
  DomainRecord r;
  if (handle == g_inherited_handle && handle != 0) {
    r = g_inherited_record;  // the common handle this image came with
  } else if (!DomainFind(handle, &r) ||
             r.pid == static_cast<int32_t>(getpid())) {
    // This process's own registrations are in its map (a miss there is
    // final).
    return;
  }
  if (in_irq) {
    g_counters.domain_handler_misses.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Busy while attaching: an unwrapped handler's section is refused
  // meanwhile (it would wait for the mutexes we hold).
  StoreModeRelaxed(t, kModeBusy);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  uint32_t slot = 0;
  uint32_t sequence = 0;
  bool ok;
  {
    ErrnoSaver errno_saver;
    // The signal-handler pool too: this process may have made no
    // REMOTE_ENABLE of its own, and its handlers' sections with the handle
    // need areas (a fork child inherits its parent's pool).
    ok = AttachDomainDevice(r, &slot, &sequence) &&
         MapDomainHandle(handle, slot, sequence, r) == 0 &&
         EnsureIrqPool() == 0;
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  StoreModeRelaxed(t, kModeDisabled);
  uint64_t value;
  uint32_t epoch;
  if (!ok || !MapLookup(handle, &value, &epoch) ||
      !RegistrationStands(value, epoch)) {
    // The member's device could not be reached, or it was disabled or
    // re-registered meanwhile (its entry names an older epoch).
    g_counters.domain_attach_failures.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  StartBoundSection(t, handle, value, epoch, false);
}

// A section that cannot start on this thread: task sections do not nest and
// are refused in tracing or owner threads; one signal-handler section per
// thread at a time (the kernel WARNs). Counted. Except that a thread `remcov
// trace` traces into its hand-off yields it to the program's own section
// (device.h, StepAsideForProgram), and the section starts after all. Out of
// line, and a tail call: the paths that start no section keep their code.
__attribute__((noinline)) void RefuseSection(ThreadState& t, uint64_t handle) {
  // Task context: no handler level is recorded (StillInHandler has run).
  if (t.irq_depth == 0 && t.device != nullptr) {
    StepAsideForProgram(t);
    if (LoadModeRelaxed(t) == kModeDisabled && t.remote == nullptr)
      return RemoteStartSlow(t, handle);
  }
  g_counters.refused_sections.fetch_add(1, std::memory_order_relaxed);
}

// Everything remcov_remote_start's fast path does not handle: invalid and
// refused sections, map lookups, signal-handler sections, area (re)binding.
__attribute__((noinline)) void RemoteStartSlow(ThreadState& t,
                                               uint64_t handle) {
  if (!CheckHandle(handle, true, true, true)) {
    g_counters.invalid_handles.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Drops handler levels left by longjmp. Out of line and re-reading the
  // depth, so that task sections (the measured unregistered-handle path
  // included) pay nothing for it.
  if (t.irq_depth > 0) StillInHandler(t);
  const bool in_irq = t.irq_depth > 0;
  if (in_irq ? t.softirq_active != 0
             : (LoadModeRelaxed(t) != kModeDisabled || t.remote != nullptr)) {
    return RefuseSection(t, handle);
  }
  uint64_t value;
  uint32_t epoch;
  // Nobody collects (the common case), or the registration was the
  // parent's at fork and its device was disabled since.
  if (!MapLookup(handle, &value, &epoch) || !RegistrationStands(value, epoch)) {
    if (RemoteLookaside()) SectionFromDomain(t, handle, in_irq);
    return;
  }
  StartBoundSection(t, handle, value, epoch, in_irq);
}

// The rest of RemoteStartSlow, for a registration that stands.
void StartBoundSection(ThreadState& t, uint64_t handle, uint64_t value,
                       uint32_t epoch, bool in_irq) {
  RemoteArea* a;
  if (in_irq) {
    a = IrqAreaGet();
    if (a == nullptr) {
      g_counters.irq_pool_exhausted.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Clears the handler state at thread exit, should the handler never
    // return (pthread_exit, cancellation, a jump out and then exit).
    EnsureThreadExitHookInHandler(t);
  } else {
    // Busy until StartTracing: an unwrapped handler's section is refused
    // meanwhile (it would reuse the area or take the pool mutex we hold).
    StoreModeRelaxed(t, kModeBusy);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const uint32_t words = DeviceAt(ValueSlot(value))
                               ->section_words.load(std::memory_order_relaxed);
    // Counters-mode sections keep their own area, never bound to a handle
    // (the fast path would not set the map fields).
    const bool counters = IsCountersMode(ValueMode(value));
    RemoteArea** kept = counters ? &t.counters_area : &t.cached_area;
    a = *kept;
    if (a == nullptr || a->words != words) {
      // Another size: swap the thread's area. A failed allocation keeps the
      // old area and its binding.
      RemoteArea* fresh = words == 0 ? nullptr : TaskAreaGet(words);
      if (fresh == nullptr) {
        g_counters.area_alloc_failures.fetch_add(1, std::memory_order_relaxed);
        StoreModeRelaxed(t, kModeDisabled);
        return;
      }
      EnsureThreadExitHook(t);             // returns the area at thread exit
      if (!counters) t.cached_handle = 0;  // keeps the invariant meanwhile
      *kept = fresh;
      if (a != nullptr) TaskAreaPut(a);
      a = fresh;
    }
  }
  if (!BindArea(a, value, epoch)) {
    // A counters map larger than the signal-handler pool's areas
    // (REMCOV_IRQ_AREA_WORDS): the section cannot be recorded.
    g_counters.area_alloc_failures.fetch_add(1, std::memory_order_relaxed);
    if (in_irq) {
      IrqAreaRelease(a);
    } else {
      StoreModeRelaxed(t, kModeDisabled);
    }
    return;
  }
  if (!in_irq && a->map == nullptr) t.cached_handle = handle;
  a->device->sh()->sections_started.fetch_add(1, std::memory_order_relaxed);
  if (in_irq) {
    // Park the interrupted context (kernel: kcov_remote_softirq_start).
    t.saved.mode = LoadModeRelaxed(t);
    t.saved.area = t.area;
    t.saved.capacity = t.capacity;
    t.saved.overflow = t.overflow;
    t.saved.remote = t.remote;
    t.saved.map = t.map;
    t.saved.map_mask = t.map_mask;
    t.saved.map_shift = t.map_shift;
    t.softirq_active = 1;
    t.softirq_depth = t.irq_depth;
    g_counters.signal_sections.fetch_add(1, std::memory_order_relaxed);
  }
  StartSection(t, a);
}

void StopTaskSection(ThreadState& t);

// remcov_remote_stop in a signal handler: ends the handler's own section, if
// it has one at this depth, and defers or does its move.
__attribute__((noinline)) void RemoteStopInHandler(ThreadState& t) {
  if (!StillInHandler(t)) return StopTaskSection(t);  // all were left
  if (!t.softirq_active || t.softirq_depth != t.irq_depth) return;
  RemoteArea* a = t.remote;
  if (a == nullptr) return;
  StopTracing(t, kModeInIrq);
  // Restore the interrupted context (kernel: kcov_remote_softirq_stop).
  RestoreContext(t, t.saved);
  t.saved = TraceContext{};
  t.softirq_active = 0;
  DeferMove(a->device, t, a);
}

// A task section that recorded something: the move under the device's move
// lock. The area stays attached to the thread.
__attribute__((noinline)) void RemoteStopMove(ThreadState& t, RemoteArea* a) {
  t.map = nullptr;  // ThreadState::map's invariant: null when not counting
  Device* d = a->device;
  // Busy: an unwrapped handler's section is refused while we move `a`.
  StoreModeRelaxed(t, kModeBusy);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (!d->move_lock.TryLock(&t)) {
    if (d->move_lock.HeldBy(&t)) {
      // Only a handler the runtime did not wrap (raw rt_sigaction) gets here:
      // it interrupted this thread's own move. Waiting would never end.
      g_counters.refused_sections.fetch_add(1, std::memory_order_relaxed);
      StoreModeRelaxed(t, kModeDisabled);
      return;
    }
    d->move_lock.Lock(&t);  // spins
  }
  LockMoveShared(d, t);
  MoveOneLocked(d, a);
  UnlockAndDrain(d, &t);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  StoreModeRelaxed(t, kModeDisabled);
}

// remcov_remote_stop in task context (also reached from a handler level that
// turned out to be abandoned).
__attribute__((always_inline)) inline void StopTaskSection(ThreadState& t) {
  RemoteArea* a = t.remote;
  if (a == nullptr) return;  // start found no handle
  StopTracing(t);
  t.remote = nullptr;
  // The area is ours (no other writer after StopTracing): plain reads.
  if (a->data[0] != 0 || a->overflow.load(std::memory_order_relaxed) != 0)
    return RemoteStopMove(t, a);
  // Nothing to move, so no move lock and no CAS. The section is still
  // counted as MoveOneLocked would count it; the relaxed reads may classify
  // a section that ends concurrently with KCOV_DISABLE either way (it
  // carries no entries, so nothing is published or lost either way).
  Device* d = a->device;
  if (SectionStands(d, a)) {
    d->sh()->sections_moved.fetch_add(1, std::memory_order_relaxed);
  } else {
    g_counters.sequence_dropped_sections.fetch_add(1,
                                                   std::memory_order_relaxed);
    d->sh()->sections_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

// remcov_common_handle with handler levels recorded: 0 in a handler (the
// kernel's in_task() check), the handle once the levels turn out to be left.
__attribute__((noinline)) uint64_t CommonHandleInHandler(ThreadState& t) {
  return StillInHandler(t) ? 0 : t.common_handle;
}

// Replaces (or, value == nullptr, removes) the kInheritedHandleEnv entry of
// `environ`. Only in a fork child, whose one thread is the caller: no other
// thread reads the environment, so the array is swapped without glibc's
// environment lock (which another thread of the parent may have held at the
// fork). The old array and strings are left as they are (the parent's
// memory; it may still use them, and the child execs soon).
void SetInheritedHandleEnvironment(const char* value) {
  const size_t name_len = sizeof kInheritedHandleEnv - 1;
  size_t n = 0;
  bool present = false;
  for (char** e = environ; e != nullptr && *e != nullptr; e++, n++)
    present = present || (strncmp(*e, kInheritedHandleEnv, name_len) == 0 &&
                          (*e)[name_len] == '=');
  if (!present && value == nullptr) return;
  char** fresh = static_cast<char**>(malloc((n + 2) * sizeof(char*)));
  if (fresh == nullptr) return;
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    char* e = environ[i];
    if (strncmp(e, kInheritedHandleEnv, name_len) == 0 && e[name_len] == '=')
      continue;
    fresh[out++] = e;
  }
  if (value != nullptr) {
    const size_t len = strlen(value);
    char* entry = static_cast<char*>(malloc(name_len + 1 + len + 1));
    if (entry == nullptr) {
      free(fresh);
      return;
    }
    memcpy(entry, kInheritedHandleEnv, name_len);
    entry[name_len] = '=';
    memcpy(entry + name_len + 1, value, len + 1);
    fresh[out++] = entry;
  }
  fresh[out] = nullptr;
  environ = fresh;
}

}  // namespace

size_t CommonHandleEntryValue(const ThreadState& t, bool new_process, char* buf,
                              size_t n) {
  ErrnoSaver errno_saver;
  const uint64_t handle = t.common_handle;
  if (handle == 0) return 0;
  DomainRecord r;
  if (handle == g_inherited_handle) {
    r = g_inherited_record;  // came with this image
  } else {
    uint64_t value;
    uint32_t epoch;
    if (!MapLookup(handle, &value, &epoch) || !RegistrationStands(value, epoch))
      return 0;
    const Device* d = DeviceAt(ValueSlot(value));
    r.pid = __atomic_load_n(&d->sh()->owner_pid, __ATOMIC_RELAXED);
    r.start = __atomic_load_n(&d->sh()->owner_start, __ATOMIC_RELAXED);
    r.fd = d->domain_fd;
    r.dev = d->dev;
    r.ino = d->ino;
    r.epoch = epoch;
    r.mode = ValueMode(value);
    r.map_bits = ValueMapBits(value);
    r.words = d->section_words.load(std::memory_order_relaxed);
  }
  // This process's own registration, and no new process: exec ends the
  // threads, the owner among them, and with it the registration (the
  // owner's own image takes it back from the device, device.cc,
  // AdoptIfOwned).
  if (!new_process && r.pid == static_cast<int32_t>(getpid())) return 0;
  if (!ValidRecord(r)) return 0;
  return FormatInheritedHandle(handle, r, buf, n);
}

void ExportCommonHandle(ThreadState& t) {
  ErrnoSaver errno_saver;
  // Came with the image: the entry is in the environment already.
  if (t.common_handle != 0 && t.common_handle == g_inherited_handle) return;
  char text[kInheritedHandleTextMax];
  SetInheritedHandleEnvironment(
      CommonHandleEntryValue(t, true, text, sizeof text) != 0 ? text : nullptr);
}

// At start, before main: a common handle that came across exec. The main
// thread takes it (kernel: exec keeps current->kcov_handle); its sections,
// and those of the threads it creates, attach the registrant's device on
// their first use, as a domain member's do. A malformed entry is ignored
// (the image then has no common handle, as without the entry). A remote
// owner that exec'd has its own REMOTE_ENABLE's common handle back already
// (device.cc, AdoptIfOwned, when that constructor ran first): that one is
// the task's kcov_handle, and the entry is ignored.
__attribute__((constructor)) void AdoptInheritedCommonHandle() {
  ErrnoSaver errno_saver;
  if (tls_state.common_handle != 0) return;
  const char* text = getenv(kInheritedHandleEnv);
  uint64_t handle;
  DomainRecord r;
  if (text == nullptr || !ParseInheritedHandle(text, &handle, &r)) return;
  g_inherited_record = r;
  g_inherited_handle = handle;
  g_remote_lookaside.store(true, std::memory_order_relaxed);
  tls_state.common_handle = handle;
}

int EnsureIrqPool() {
  std::lock_guard<std::mutex> lock(g_irq_mu);
  if (g_irq_done) return 0;
  // The API call wins over the environment.
  static_assert(kIrqPoolAreas.max == kMaxIrqAreas);
  if (!g_irq_configured) {
    g_irq_cfg_areas = static_cast<uint32_t>(RuntimeEnvNumber(kIrqPoolAreas));
    g_irq_cfg_words = static_cast<uint32_t>(RuntimeEnvNumber(kIrqAreaWords));
  }
  uint32_t made = 0;
  for (; made < g_irq_cfg_areas; made++) {
    RemoteArea* a = AllocateArea(g_irq_cfg_words, true);
    if (a == nullptr) break;
    g_irq_areas[made] = a;
  }
  if (made == 0) return ENOMEM;
  g_irq_count.store(made, std::memory_order_release);  // pairs with IrqAreaGet
  g_irq_done = true;
  return 0;
}

// What a domain entry says of this process's device d.
DomainRecord PublishedRecord(const Device* d, uint32_t epoch, uint32_t mode,
                             uint32_t map_bits) {
  DomainRecord r;
  r.fd = d->domain_fd;
  r.dev = d->dev;
  r.ino = d->ino;
  r.epoch = epoch;
  r.mode = mode;
  r.map_bits = map_bits;
  r.words = d->section_words.load(std::memory_order_relaxed);
  return r;
}

// REQUIRES: g_reg_mu. Publishes in the joined domain each standing
// registration of this process's own devices (not a fork parent's, not
// another member's device mapped here): 0 or the first error.
int PublishOwnRegistrationsLocked() {
  const pid_t self = SelfPid();
  for (uint32_t i = 0; i < kMapSlots; i++) {
    const uint64_t k = g_map[i].key.load(std::memory_order_relaxed);
    if (k == 0 || k == kTomb) continue;
    const uint64_t v = g_map[i].value.load(std::memory_order_relaxed);
    const uint32_t e = g_map[i].epoch.load(std::memory_order_relaxed);
    if (!RegistrationStands(v, e)) continue;
    const Device* d = DeviceAt(ValueSlot(v));
    // The owner first: a view of another process's device is written under
    // its own mutex only.
    if (__atomic_load_n(&d->sh()->owner_pid, __ATOMIC_RELAXED) != self)
      continue;
    if (d->domain_fd < 0) {  // no descriptor was left at REMOTE_ENABLE
      g_counters.family_domain_failures.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (int err = DomainPublish(
            &k, 1, 0, PublishedRecord(d, e, ValueMode(v), ValueMapBits(v))))
      return err;
  }
  return 0;
}

int PublishRegistrationsInFamilyDomain(DomainFile* f) {
  std::lock_guard<std::mutex> lock(g_reg_mu);
  g_domain.store(f, std::memory_order_release);
  return PublishOwnRegistrationsLocked();
}

int MoveRegistrationsToDomain(DomainFile* f) {
  std::lock_guard<std::mutex> lock(g_reg_mu);
  DomainFile* const family = g_domain.load(std::memory_order_relaxed);
  DomainWithdrawOwn(family);
  g_domain.store(f, std::memory_order_release);
  const int err = PublishOwnRegistrationsLocked();
  if (err != 0) {
    DomainWithdrawOwn(f);
    g_domain.store(family, std::memory_order_release);
    (void)PublishOwnRegistrationsLocked();  // they were there a moment ago
  }
  return err;
}

int RegisterRemote(Device* d, const uint64_t* handles, uint32_t n,
                   uint64_t common) {
  std::lock_guard<std::mutex> lock(g_reg_mu);
  uint32_t slot = DeviceSlot(d);
  const uint32_t mode = d->sh()->mode.load(std::memory_order_relaxed);
  uint64_t value = PackValue(slot, d->sequence.load(std::memory_order_relaxed),
                             mode, d->counter_bits);
  const uint32_t epoch = d->sh()->epoch.load(std::memory_order_relaxed);
  int err = 0;
  for (uint32_t i = 0; i < n && err == 0; i++) {
    if (!CheckHandle(handles[i], false, true, false)) {
      err = EINVAL;
    } else {
      err = MapInsertLocked(handles[i], value, epoch);
    }
  }
  if (err == 0 && common != 0) {
    err = CheckHandle(common, true, false, false)
              ? MapInsertLocked(common, value, epoch)
              : EINVAL;
  }
  // Then the domain's table, where the handles must be unique among its
  // members (kcov_remote_add's EEXIST, system-wide in the kernel). Other
  // members reach the device through a descriptor of this process's own.
  // A common handle may also be carried across exec (ExportCommonHandle):
  // the new image reaches the device through the same descriptor.
  // Every registration keeps one: a domain made later (the family domain,
  // at the first fork) publishes it then, when d->fd no longer names the
  // device.
  if (err == 0 && d->domain_fd < 0) d->domain_fd = PrivateDescriptor(d->fd);
  if (err == 0 && DomainJoined()) {
    if (d->domain_fd < 0) {
      err = ENOMEM;  // out of descriptors: the registration cannot be shared
    } else {
      err = DomainPublish(handles, n, common,
                          PublishedRecord(d, epoch, mode, d->counter_bits));
    }
  }
  if (err != 0) {
    MapRemoveSlotLocked(slot);
    if (d->domain_fd >= 0) {
      close(d->domain_fd);
      d->domain_fd = -1;
    }
  }
  return err;
}

void UnregisterRemote(Device* d) {
  std::lock_guard<std::mutex> lock(g_reg_mu);
  MapRemoveSlotLocked(DeviceSlot(d));
  if (d->domain_fd >= 0 && !d->domain_view) {
    DomainWithdraw(d->dev, d->ino);
    close(d->domain_fd);
    d->domain_fd = -1;
  }
}

void SetAccepting(Device* d, bool on) {
  ThreadState& t = tls_state;
  LockMove(d, t);
  if (!on) d->sh()->epoch.fetch_add(1, std::memory_order_relaxed);
  d->sh()->accepting.store(on ? 1 : 0, std::memory_order_relaxed);
  // Deferred sections of the old epoch are dropped here (counted), and their
  // areas go back to their pools.
  UnlockAndDrain(d, &t);
}

std::mutex& RegistrationMutexForTesting() { return g_reg_mu; }

void HoldMoveLockForTesting(Device* d) { LockMove(d, tls_state); }

uint32_t HandleProbesForTesting(uint64_t handle) {
  uint64_t value;
  uint32_t epoch;
  uint32_t slots_read = 0;
  (void)MapFind<true>(handle, &value, &epoch, &slots_read);
  return slots_read;
}

void RemoteLocksForFork(bool lock) {
  // The lock order: the registration lock and the signal-handler pool's are
  // taken under a device mutex (REMOTE_ENABLE); the task pool's under none.
  if (lock) {
    g_reg_mu.lock();
    g_irq_mu.lock();
    g_pool_mu.lock();
  } else {
    g_pool_mu.unlock();
    g_irq_mu.unlock();
    g_reg_mu.unlock();
  }
}

void ResetRemoteAfterFork() {
  new (&g_reg_mu) std::mutex();
  new (&g_pool_mu) std::mutex();
  new (&g_irq_mu) std::mutex();
  // The handle map stays: the child's sections with its parent's handles
  // reach the parent's devices (see "the handle map" above).
  tls_state.move_identity = 0;
  ExportCommonHandle(tls_state);
}

void ReleaseThreadAreas(ThreadState& t) {
  if (RemoteArea* c = t.counters_area; c != nullptr && c != t.remote) {
    t.counters_area = nullptr;
    TaskAreaPut(c);
  }
  RemoteArea* a = t.cached_area;
  // A section still open at thread exit keeps its area (never reused): a
  // later remcov_remote_stop from another thread-exit hook may still move it.
  if (a == nullptr || a == t.remote) return;
  t.cached_area = nullptr;
  t.cached_handle = 0;
  TaskAreaPut(a);
}

void LeaveSignalLevelsAbove(ThreadState& t, uint32_t keep) {
  if (t.irq_depth <= keep) return;
  SignalsBlocked blocked;
  if (t.softirq_active && t.softirq_depth > keep) EndAbandonedSection(t);
  const uint32_t old_depth = t.irq_depth;
  t.irq_depth = keep;
  if (keep < kMaxIrqLevels && keep < old_depth) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    StoreModeRelaxed(t, t.irq_levels[keep].mode);
  }
}

void LeaveAbandonedSignalLevels(ThreadState& t, uintptr_t sp) {
  const uint32_t depth = t.irq_depth;
  if (depth == 0 || depth > kMaxIrqLevels) return;  // nothing, or unknown
  // Walk down from sp: a level is live when it encloses the innermost live
  // position above it (sp, then the frame of the live level above). Reading
  // the records needs no blocking: a handler that interrupts us only writes
  // levels above `depth` and restores irq_depth before it returns.
  const uintptr_t alt_lo = t.irq_levels[depth - 1].alt_lo;
  const uintptr_t alt_hi = t.irq_levels[depth - 1].alt_hi;
  uint32_t live = 0;  // bit d: level d + 1 is live
  uintptr_t pos = sp;
  for (uint32_t d = depth; d-- > 0;) {
    if (Encloses(t.irq_levels[d], pos, alt_lo, alt_hi)) {
      live |= 1u << d;
      pos = t.irq_levels[d].frame;
    }
  }
  if (live == (1u << depth) - 1) return;  // the common case: all live
  SignalsBlocked blocked;
  // Compact the live levels downwards. A live level above abandoned ones
  // interrupted the state they left behind: it resumes the mode the lowest
  // of them interrupted.
  uint32_t out = 0;
  bool have_mode = false;
  uint32_t resume_mode = 0;
  for (uint32_t d = 0; d < depth; d++) {
    if (live & (1u << d)) {
      IrqLevel l = t.irq_levels[d];
      if (have_mode) l.mode = resume_mode;
      have_mode = false;
      if (t.softirq_active && t.softirq_depth == d + 1)
        t.softirq_depth = out + 1;
      t.irq_levels[out++] = l;
    } else {
      if (!have_mode) resume_mode = t.irq_levels[d].mode;
      have_mode = true;
      if (t.softirq_active && t.softirq_depth == d + 1) EndAbandonedSection(t);
    }
  }
  t.irq_depth = out;
  // The innermost levels were left: the code running now is the innermost
  // live level (or task context) and resumes the mode they interrupted.
  if (have_mode) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    StoreModeRelaxed(t, resume_mode);
  }
}

void EndSignalSection(ThreadState& t) {
  if (t.softirq_active && t.softirq_depth == t.irq_depth) remcov_remote_stop();
}

}  // namespace remcov::internal

using namespace remcov::internal;  // NOLINT: the C entry points below

extern "C" {

// errno: the fast paths make no calls that set it; the slow paths that do
// (area allocation, lock back-off) save and restore it themselves.
//
// Fast paths (docs/design.md, "Remote sections: the fast path"): a task
// section with the handle of the thread's previous task section reuses the
// thread's area and its binding after relaxed checks of the view's sequence
// and the device's epoch, and a section that recorded nothing ends without the
// move lock. Everything else is in the out-of-line slow paths below, so the
// fast paths need no callee-saved registers.
REMCOV_EXPORT void remcov_remote_start(uint64_t handle) {
  ThreadState& t = tls_state;
  RemoteArea* a = t.cached_area;
  // Mode 0 means task context (a signal handler has kModeInIrq or its
  // section's trace mode), not tracing, not owning a device and no section
  // open (a section's mode is a trace mode). cached_handle was found in the
  // map (so it is valid) and `a` is bound to its registration; the relaxed
  // checks only avoid starting sections that the check under the move lock at
  // stop would drop: a DISABLE in any process (which unregisters the handle)
  // bumps the device's epoch, and freeing or reusing the view bumps its
  // sequence.
  if (LoadModeRelaxed(t) == kModeDisabled && handle == t.cached_handle &&
      a != nullptr &&
      a->device->sequence.load(std::memory_order_relaxed) == a->sequence &&
      a->device->sh()->epoch.load(std::memory_order_relaxed) == a->epoch) {
    a->device->sh()->sections_started.fetch_add(1, std::memory_order_relaxed);
    a->overflow.store(0, std::memory_order_relaxed);
    a->data[0] = 0;
    t.remote = a;
    StartTracing(t, a->mode, a->data, a->capacity, &a->overflow);
    return;
  }
  RemoteStartSlow(t, handle);
}

REMCOV_EXPORT void remcov_remote_stop(void) {
  ThreadState& t = tls_state;
  if (t.irq_depth > 0) return RemoteStopInHandler(t);
  StopTaskSection(t);
}

REMCOV_EXPORT uint64_t remcov_common_handle(void) {
  ThreadState& t = tls_state;
  return t.irq_depth > 0 ? CommonHandleInHandler(t) : t.common_handle;
}

REMCOV_EXPORT int remcov_prepare_remote(void) {
  return EnsureIrqPool() == 0 ? REMCOV_OK : REMCOV_E_NOMEM;
}

REMCOV_EXPORT int remcov_config_irq_pool(uint32_t areas, uint32_t words) {
  if (areas < kIrqPoolAreas.min || areas > kIrqPoolAreas.max ||
      words < kIrqAreaWords.min || words > kIrqAreaWords.max)
    return REMCOV_E_INVALID;
  std::lock_guard<std::mutex> lock(g_irq_mu);
  if (g_irq_done) return REMCOV_E_BUSY;
  g_irq_cfg_areas = areas;
  g_irq_cfg_words = words;
  g_irq_configured = true;
  return REMCOV_OK;
}

}  // extern "C"
