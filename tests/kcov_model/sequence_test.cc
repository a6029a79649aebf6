// SPDX-License-Identifier: Apache-2.0
// Random sequences over remcov's C API — open, ioctl, mmap, munmap, close,
// remote sections, traced calls, thread exits — with random arguments and bad
// pointers, run on several threads.
//
//   kcov_sequence_test --mode model   --seed S --sequences N [--ops K]
//   kcov_sequence_test --mode threads --seed S --sequences N [--ops K]
//   kcov_sequence_test --mode model --broken-model ...   (negative control)
//
// model:   one operation at a time (each on a chosen worker thread, so owner
//          checks are real); every return value and errno is compared with
//          the kernel model (kcov_model.h), and after every traced call or
//          section the area's count and remcov's overflow counters are
//          compared with the model's prediction. Exit 1 at the first
//          disagreement, printing the sequence's operations.
// threads: the same operations on all workers at once, no model: the checks
//          are no crash, no hang (a watchdog aborts after 60 s of no
//          progress), and every mapped area's count within capacity.
// A sequence ends by exiting the threads that still own a device, so the
// next starts from a clean runtime. Seeds make every run reproducible:
// sequence i of seed S is the same on every machine.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "remcov/kcov_abi.h"
#include "remcov/remcov.h"

#include "fixture.h"
#include "kcov_model/kcov_model.h"

namespace {

using remcov::model::KcovModel;
using remcov::model::Mode;
using remcov::model::Result;

constexpr int kWorkers = 3;
const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

// A thread that runs one job at a time for the driver.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Runs fn on this thread and waits for it.
  void Run(const std::function<void()>& fn) {
    std::unique_lock<std::mutex> l(mu_);
    job_ = &fn;
    cv_.notify_all();
    cv_.wait(l, [this] { return job_ == nullptr; });
  }
  // Starts fn on this thread without waiting (threads mode); Wait() joins it.
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    posted_ = std::move(fn);
    job_ = &posted_;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return job_ == nullptr; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return quit_ || job_ != nullptr; });
      if (job_ == nullptr) return;
      const std::function<void()>* job = job_;
      l.unlock();
      (*job)();
      l.lock();
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::function<void()> posted_;
  bool quit_ = false;
  std::thread thread_;
};

// The instrumented workloads and what each records (measured at start-up).
struct Workload {
  uint64_t pcs = 0, cmps = 0;
};
void RunSmall() { (void)fixture_parse("KCOV", 4); }
void RunLarge() { (void)fixture_spin(3000); }
Workload g_small, g_large;

std::atomic<uint64_t> g_progress{0};
// What the checks covered, so that a run that checked nothing shows: calls
// that succeeded, area counts compared while non-zero, and counts compared
// with a non-zero overflow.
uint64_t g_successes = 0, g_nonzero_counts = 0, g_overflow_checks = 0;

// The handles the generator draws from: valid USB and common handles, the
// zero handle, reserved bits, an unknown subsystem.
constexpr uint64_t kUsb = REMCOV_KCOV_SUBSYSTEM_USB;
const uint64_t kHandlePool[] = {
    kUsb | 1,   kUsb | 2, kUsb | 3, kUsb | 0, 1, 2, 0, kUsb | (1ull << 40),
    2ull << 56, 0x42};
const uint64_t kCommonPool[] = {0, 0, 0x11, 0x12, kUsb | 1, 0x11, 1ull << 40};

class Sequence {
 public:
  // The workers persist across sequences (a sequence ends by replacing the
  // ones that still own a device), so thread ids keep increasing.
  struct Pool {
    std::unique_ptr<Worker> workers[kWorkers];
    int tid[kWorkers] = {};
    int next_tid = 0;
  };

  Sequence(uint64_t seed, uint64_t index, int ops, bool model_mode, bool broken,
           int devnull, Pool* pool)
      : rng_(seed * 0x9E3779B97F4A7C15ull ^ (index + 1)),
        ops_(ops),
        model_mode_(model_mode),
        devnull_(devnull),
        workers_(pool->workers),
        tid_(pool->tid),
        next_tid_(pool->next_tid) {
    if (broken) model_.BreakForNegativeControl();
    model_.OpenForeign(devnull_);
    for (int i = 0; i < kWorkers; i++)
      if (!workers_[i]) NewWorker(i);
  }

  // Returns false at the first disagreement (the log says which).
  bool Run() {
    for (int i = 0; i < ops_ && ok_; i++) {
      const int w = static_cast<int>(Pick(kWorkers));
      if (model_mode_) {
        Step(w);
      } else {
        for (int k = 0; k < kWorkers; k++) {
          const uint64_t sub = rng_();
          workers_[k]->Post([this, k, sub] { Random(k, sub); });
        }
        for (int k = 0; k < kWorkers; k++) workers_[k]->Wait();
      }
      g_progress.fetch_add(1, std::memory_order_relaxed);
    }
    Finish();
    return ok_;
  }
  const std::string& log() const { return log_; }

 private:
  uint64_t Pick(uint64_t n) { return rng_() % n; }
  template <typename T, size_t N>
  T PickOf(const T (&a)[N]) {
    return a[Pick(N)];
  }

  void NewWorker(int slot) {
    workers_[slot] = std::make_unique<Worker>();
    tid_[slot] = next_tid_++;
  }

  // A descriptor argument: a device of this sequence (open or closed), the
  // foreign /dev/null, or -1.
  int PickFd() {
    const uint64_t r = Pick(16);
    if (r == 0) return -1;
    if (r == 1) return devnull_;
    if (fds_.empty()) return -1;
    return fds_[Pick(fds_.size())];
  }

  void Note(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_ += buf;
    log_ += '\n';
  }
  void Compare(const char* what, Result want, int ret, int err) {
    const bool same =
        (want.ret == -1) ? (ret == -1 && err == want.err) : (ret != -1);
    Note("  %s -> %d errno %d (model: %d errno %d)", what, ret,
         ret == -1 ? err : 0, want.ret, want.err);
    if (ret != -1) g_successes++;
    if (!same) {
      Note("DISAGREEMENT: %s", what);
      ok_ = false;
    }
  }

  // One operation on worker w, checked against the model.
  void Step(int w) {
    const int t = tid_[w];
    // Open first when the sequence has no device yet.
    const uint64_t op = fds_.empty() && Pick(2) == 0 ? 0 : Pick(13);
    Worker& wk = *workers_[w];
    int ret = 0, err = 0;
    char what[160];
    switch (op) {
      case 0: {  // open
        wk.Run([&] {
          ret = remcov_open();
          err = errno;
        });
        snprintf(what, sizeof what, "T%d open", t);
        Compare(what, Result{}, ret, err);
        if (ret >= 0) {
          model_.Open(ret);
          fds_.push_back(ret);
        }
        break;
      }
      case 1: {  // close
        const int fd = PickFd();
        if (fd == devnull_) return;  // kept for the whole run
        wk.Run([&] {
          ret = remcov_close(fd);
          err = errno;
        });
        snprintf(what, sizeof what, "T%d close(%d)", t, fd);
        auto id = model_.DeviceOf(fd);
        Compare(what, model_.Close(fd), ret, err);
        if (id && !model_.DeviceLive(*id)) Unmap(*id);
        break;
      }
      case 2: {  // INIT_TRACE
        static const unsigned long kSizes[] = {
            0,   1,   2,    3,    64,
            512, 512, 1024, 4096, INT_MAX / sizeof(unsigned long) + 1,
            ~0ul};
        const int fd = PickFd();
        const unsigned long size = PickOf(kSizes);
        wk.Run([&] {
          ret = remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, size);
          err = errno;
        });
        snprintf(what, sizeof what, "T%d INIT_TRACE(%d, %lu)", t, fd, size);
        Compare(what, model_.Ioctl(t, fd, REMCOV_KCOV_INIT_TRACE, size), ret,
                err);
        if (ret == 0) MapForCheck(fd);
        break;
      }
      case 3: {  // mmap
        const int fd = PickFd();
        auto id = model_.DeviceOf(fd);
        const size_t exact =
            id ? model_.DeviceAt(*id).size * sizeof(unsigned long) : kPage;
        const size_t lens[] = {exact, exact, exact ? exact - 8 : 0,
                               exact + kPage, 0};
        const size_t len = PickOf(lens);
        const long offs[] = {0, 0, 0, static_cast<long>(kPage), 8};
        const long off = PickOf(offs);
        const int prot = Pick(4) == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
        void* p = nullptr;
        wk.Run([&] {
          p = remcov_mmap(nullptr, len, prot, MAP_SHARED, fd, off);
          err = errno;
        });
        ret = p == MAP_FAILED ? -1 : 0;
        snprintf(what, sizeof what, "T%d mmap(%zu, off %ld, fd %d)", t, len,
                 off, fd);
        Compare(what, model_.Mmap(fd, len, off, kPage), ret, err);
        if (p != MAP_FAILED) user_maps_.push_back({p, len});
        break;
      }
      case 4: {  // munmap a mapping made by an earlier mmap
        if (user_maps_.empty()) return;
        const size_t i = Pick(user_maps_.size());
        Note("  T%d munmap", t);
        munmap(user_maps_[i].first, user_maps_[i].second);
        user_maps_.erase(user_maps_.begin() + static_cast<long>(i));
        break;
      }
      case 5: {  // ENABLE
        static const unsigned long kModes[] = {0, 0, 1, 1, 2, ~0ul};
        const int fd = PickFd();
        const unsigned long m = PickOf(kModes);
        wk.Run([&] {
          ret = remcov_ioctl(fd, REMCOV_KCOV_ENABLE, m);
          err = errno;
        });
        snprintf(what, sizeof what, "T%d ENABLE(%d, %lu)", t, fd, m);
        Compare(what, model_.Ioctl(t, fd, REMCOV_KCOV_ENABLE, m), ret, err);
        break;
      }
      case 6: {  // DISABLE
        const int fd = PickFd();
        const unsigned long a = Pick(5) == 0 ? 1 : 0;
        wk.Run([&] {
          ret = remcov_ioctl(fd, REMCOV_KCOV_DISABLE, a);
          err = errno;
        });
        snprintf(what, sizeof what, "T%d DISABLE(%d, %lu)", t, fd, a);
        Compare(what, model_.Ioctl(t, fd, REMCOV_KCOV_DISABLE, a), ret, err);
        break;
      }
      case 7:
        RemoteEnable(w);
        break;
      case 8: {  // another command
        static const unsigned long kCmds[] = {
            REMCOV_KCOV_RESET_TRACE, REMCOV_KCOV_UNIQUE_ENABLE,
            REMCOV_KCOV_INIT_TRACE32, 0x1234, 0};
        const int fd = PickFd();
        const unsigned long cmd = PickOf(kCmds);
        wk.Run([&] {
          ret = remcov_ioctl(fd, cmd, 7);
          err = errno;
        });
        snprintf(what, sizeof what, "T%d ioctl(%d, %#lx)", t, fd, cmd);
        Compare(what, model_.Ioctl(t, fd, cmd, 7), ret, err);
        break;
      }
      case 9:
      case 10: {  // instrumented code, traced or in a remote section
        const bool large = Pick(4) == 0;
        const Workload& load = large ? g_large : g_small;
        if (op == 9) {
          wk.Run([&] { large ? RunLarge() : RunSmall(); });
          Note("  T%d runs the %s workload", t, large ? "large" : "small");
          model_.RunTraced(t, load.pcs, load.cmps);
        } else {
          if (!model_.SectionDefined(t)) return;
          const uint64_t h =
              Pick(3) == 0 ? PickOf(kCommonPool) : PickOf(kHandlePool);
          wk.Run([&] {
            remcov_remote_start(h);
            large ? RunLarge() : RunSmall();
            remcov_remote_stop();
          });
          Note("  T%d section %#llx, %s workload", t,
               static_cast<unsigned long long>(h), large ? "large" : "small");
          model_.RunSection(t, h, load.pcs, load.cmps);
        }
        CheckAreas();
        break;
      }
      case 11: {  // the thread's common handle
        uint64_t h = 0;
        wk.Run([&] { h = remcov_common_handle(); });
        snprintf(what, sizeof what, "T%d common handle %#llx", t,
                 static_cast<unsigned long long>(h));
        Note("  %s (model %#llx)", what,
             static_cast<unsigned long long>(model_.CommonHandle(t)));
        if (h != model_.CommonHandle(t)) {
          Note("DISAGREEMENT: %s", what);
          ok_ = false;
        }
        break;
      }
      case 12:  // the thread exits (kcov_task_exit); a fresh one replaces it
        Note("  T%d exits", t);
        ExitWorker(w);
        break;
    }
  }

  void RemoteEnable(int w) {
    const int t = tid_[w];
    KcovModel::RemoteArg a;
    a.trace_mode = static_cast<uint32_t>(Pick(8) == 0 ? 2 : Pick(2));
    static const uint32_t kAreas[] = {2, 3, 17, 64, 4096};
    a.area_size = PickOf(kAreas);
    static const uint32_t kNums[] = {0, 1, 1, 2, 3, 257};
    a.num_handles = PickOf(kNums);
    a.common_handle = PickOf(kCommonPool);
    const uint32_t n = a.num_handles > 256 ? 0 : a.num_handles;
    for (uint32_t i = 0; i < n; i++) a.handles.push_back(PickOf(kHandlePool));
    // Where the argument lives: whole, NULL, or running into a guard page.
    const uint64_t where = Pick(8);
    a.header_faults = where == 0;
    a.handles_fault = where == 1 && n > 0;
    const size_t bytes = sizeof(remcov_kcov_remote_arg) + n * sizeof(uint64_t);
    unsigned char* base = guard_ + kPage - bytes;   // ends at the guard page
    if (a.handles_fault) base += sizeof(uint64_t);  // last handle faults
    auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(base);
    unsigned long arg = 0;
    if (!a.header_faults) {
      ra->trace_mode = a.trace_mode;
      ra->area_size = a.area_size;
      ra->num_handles = a.num_handles;
      ra->pad = 0;
      ra->common_handle = a.common_handle;
      const size_t fit = a.handles_fault ? n - 1 : n;
      for (size_t i = 0; i < fit; i++) ra->handles[i] = a.handles[i];
      arg = reinterpret_cast<unsigned long>(ra);
    }
    const int fd = PickFd();
    int ret = 0, err = 0;
    workers_[w]->Run([&] {
      ret = remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE, arg);
      err = errno;
    });
    char what[200];
    int len = snprintf(what, sizeof what,
                       "T%d REMOTE_ENABLE(%d, mode %u, area %u, n %u, common "
                       "%#llx%s%s) handles",
                       t, fd, a.trace_mode, a.area_size, a.num_handles,
                       static_cast<unsigned long long>(a.common_handle),
                       a.header_faults ? ", NULL" : "",
                       a.handles_fault ? ", faulting handles" : "");
    for (uint64_t h : a.handles) {
      if (len > 0 && static_cast<size_t>(len) < sizeof what)
        len += snprintf(what + len, sizeof what - static_cast<size_t>(len),
                        " %#llx", static_cast<unsigned long long>(h));
    }
    Compare(what, model_.RemoteEnable(t, fd, a), ret, err);
  }

  // The driver's own mapping of a device, for reading word 0.
  void MapForCheck(int fd) {
    auto id = model_.DeviceOf(fd);
    if (!id) return;
    const size_t bytes = model_.DeviceAt(*id).size * sizeof(unsigned long);
    if (bytes % kPage != 0) return;  // never mappable (kcov_mmap's rule)
    void* p = remcov_mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      Note("DISAGREEMENT: the check mapping of fd %d failed: errno %d", fd,
           errno);
      ok_ = false;
      return;
    }
    checks_[*id] = {static_cast<unsigned long*>(p), bytes, fd};
  }
  void Unmap(int id) {
    auto it = checks_.find(id);
    if (it == checks_.end()) return;
    munmap(it->second.area, it->second.bytes);
    checks_.erase(it);
  }

  // Word 0 and remcov's counters against the model.
  void CheckAreas() {
    for (auto& [id, c] : checks_) {
      if (!model_.DeviceLive(id)) continue;
      const auto& d = model_.DeviceAt(id);
      const uint64_t count = __atomic_load_n(&c.area[0], __ATOMIC_ACQUIRE);
      if (d.count != 0) g_nonzero_counts++;
      if (count != d.count) {
        Note("DISAGREEMENT: device %d count %llu, model %llu", id,
             static_cast<unsigned long long>(count),
             static_cast<unsigned long long>(d.count));
        ok_ = false;
      }
      auto fd_id = model_.DeviceOf(c.fd);
      if (!fd_id || *fd_id != id) continue;  // no descriptor to ask
      remcov_device_stats_t st;
      if (remcov_device_stats(c.fd, &st) != REMCOV_OK) {
        Note("DISAGREEMENT: remcov_device_stats(%d) failed", c.fd);
        ok_ = false;
        continue;
      }
      if (d.overflow != 0 || d.private_overflow != 0) g_overflow_checks++;
      if (st.overflow_entries != d.overflow ||
          st.private_overflow_entries != d.private_overflow ||
          st.garbage_entries != d.garbage) {
        Note(
            "DISAGREEMENT: device %d overflow %llu private %llu garbage %llu, "
            "model %llu %llu %llu (nothing may be lost without a counter)",
            id, static_cast<unsigned long long>(st.overflow_entries),
            static_cast<unsigned long long>(st.private_overflow_entries),
            static_cast<unsigned long long>(st.garbage_entries),
            static_cast<unsigned long long>(d.overflow),
            static_cast<unsigned long long>(d.private_overflow),
            static_cast<unsigned long long>(d.garbage));
        ok_ = false;
      }
    }
  }

  void ExitWorker(int w) {
    workers_[w].reset();  // joins: the runtime's thread-exit hook has run
    model_.ThreadExit(tid_[w]);
    NewWorker(w);
  }

  // threads mode: one random operation, no model.
  void Random(int w, uint64_t r) {
    std::mt19937_64 rng(r);
    const int fd = fds_snapshot_[rng() % fds_snapshot_.size()];
    switch (rng() % 8) {
      case 0:
        (void)remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, (rng() % 2) ? 512 : 3);
        break;
      case 1:
        (void)remcov_ioctl(fd, REMCOV_KCOV_ENABLE, rng() % 3);
        break;
      case 2:
        (void)remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
        break;
      case 3: {
        alignas(8) unsigned char buf[sizeof(remcov_kcov_remote_arg) + 16];
        auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf);
        ra->trace_mode = static_cast<uint32_t>(rng() % 2);
        ra->area_size = 64;
        ra->num_handles = 2;
        ra->pad = 0;
        ra->common_handle = rng() % 2 ? 0 : 0x11 + (rng() % 2);
        ra->handles[0] = kUsb | (1 + rng() % 3);
        ra->handles[1] = kUsb | (1 + rng() % 3);
        (void)remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE,
                           reinterpret_cast<unsigned long>(ra));
        break;
      }
      case 4:
      case 5: {
        remcov_remote_start(kUsb | (1 + rng() % 3));
        rng() % 4 ? RunSmall() : RunLarge();
        remcov_remote_stop();
        break;
      }
      case 6:
        RunSmall();
        break;
      case 7: {
        void* p = remcov_mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
          const uint64_t n =
              __atomic_load_n(static_cast<unsigned long*>(p), __ATOMIC_ACQUIRE);
          if (n > 511) {
            fprintf(stderr,
                    "FAIL: count %llu beyond capacity 511 (worker %d)\n",
                    static_cast<unsigned long long>(n), w);
            abort();
          }
          munmap(p, 4096);
        }
        break;
      }
    }
  }

 public:
  // threads mode: devices shared by all workers for the whole sequence.
  void OpenShared() {
    for (int i = 0; i < 4; i++) {
      const int fd = remcov_open();
      if (fd >= 0) fds_snapshot_.push_back(fd);
    }
    fds_snapshot_.push_back(devnull_);
    fds_snapshot_.push_back(-1);
  }
  void CloseShared() {
    for (int fd : fds_snapshot_)
      if (fd >= 0 && fd != devnull_) remcov_close(fd);
  }
  void SetGuard(unsigned char* g) { guard_ = g; }

 private:
  // Ends the sequence: devices closed, owning threads exited.
  void Finish() {
    for (int fd : fds_) {
      if (model_.DeviceOf(fd)) {
        auto id = model_.DeviceOf(fd);
        (void)remcov_close(fd);
        model_.Close(fd);
        if (!model_.DeviceLive(*id)) Unmap(*id);
      }
    }
    for (int w = 0; w < kWorkers; w++) {
      if (model_.ThreadHasDevice(tid_[w]) || !model_mode_) ExitWorker(w);
    }
    for (auto& [id, c] : checks_) munmap(c.area, c.bytes);
    checks_.clear();
    for (auto& m : user_maps_) munmap(m.first, m.second);
  }

  struct Check {
    unsigned long* area;
    size_t bytes;
    int fd;
  };
  std::mt19937_64 rng_;
  int ops_;
  bool model_mode_;
  int devnull_;
  unsigned char* guard_ = nullptr;
  KcovModel model_;
  std::unique_ptr<Worker>* workers_;  // Pool::workers
  int* tid_;                          // Pool::tid
  int& next_tid_;                     // Pool::next_tid
  std::vector<int> fds_;
  std::vector<int> fds_snapshot_;
  std::vector<std::pair<void*, size_t>> user_maps_;
  std::map<int, Check> checks_;
  std::string log_;
  bool ok_ = true;
};

// What each workload records, measured once on a device of each mode.
Workload Measure(void (*fn)()) {
  Workload w;
  std::thread([&] {
    for (unsigned long mode : {0ul, 1ul}) {
      int fd = remcov_open();
      if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, 1 << 20) != 0)
        abort();
      auto* a = static_cast<unsigned long*>(
          remcov_mmap(nullptr, (1 << 20) * sizeof(unsigned long), PROT_READ,
                      MAP_SHARED, fd, 0));
      if (a == MAP_FAILED || remcov_ioctl(fd, REMCOV_KCOV_ENABLE, mode) != 0)
        abort();
      fn();
      const uint64_t n = __atomic_load_n(&a[0], __ATOMIC_ACQUIRE);
      remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
      munmap(a, (1 << 20) * sizeof(unsigned long));
      remcov_close(fd);
      (mode == 0 ? w.pcs : w.cmps) = n;
    }
  }).join();
  return w;
}

int Usage() {
  fprintf(stderr,
          "usage: kcov_sequence_test --mode model|threads [--seed S] "
          "[--sequences N] [--ops K] [--broken-model]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "model";
  uint64_t seed = 1, sequences = 1000;
  int ops = 24;
  bool broken = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--mode") {
      mode = next();
    } else if (a == "--seed") {
      seed = strtoull(next(), nullptr, 0);
    } else if (a == "--sequences") {
      sequences = strtoull(next(), nullptr, 0);
    } else if (a == "--ops") {
      ops = atoi(next());
    } else if (a == "--broken-model") {
      broken = true;
    } else {
      return Usage();
    }
  }
  if ((mode != "model" && mode != "threads") || ops <= 0 || sequences == 0)
    return Usage();
  g_small = Measure(RunSmall);
  g_large = Measure(RunLarge);
  if (g_small.pcs == 0 || g_small.cmps == 0 || g_large.pcs <= 1024) {
    fprintf(stderr,
            "FAIL: the workloads record nothing (%llu/%llu PCs): is "
            "the fixture instrumented?\n",
            static_cast<unsigned long long>(g_small.pcs),
            static_cast<unsigned long long>(g_large.pcs));
    return 1;
  }
  const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  // A readable page followed by an inaccessible one: arguments placed at the
  // end of the first run into the second (the kernel's EFAULT).
  auto* guard = static_cast<unsigned char*>(
      mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (devnull < 0 || guard == MAP_FAILED ||
      mprotect(guard + kPage, kPage, PROT_NONE) != 0) {
    perror("setup");
    return 1;
  }
  // Watchdog: no progress for 60 s is a hang.
  std::thread([] {
    uint64_t last = ~0ull;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(60));
      const uint64_t now = g_progress.load(std::memory_order_relaxed);
      if (now == last) {
        fprintf(stderr, "FAIL: no progress for 60 s (a hang)\n");
        abort();
      }
      last = now;
    }
  }).detach();
  uint64_t ops_run = 0;
  Sequence::Pool pool;
  for (uint64_t i = 0; i < sequences; i++) {
    Sequence s(seed, i, ops, mode == "model", broken, devnull, &pool);
    s.SetGuard(guard);
    if (mode == "threads") s.OpenShared();
    const bool ok = s.Run();
    if (mode == "threads") s.CloseShared();
    ops_run += static_cast<uint64_t>(ops);
    if (!ok) {
      printf("FAIL: model disagreement in sequence %llu of seed %llu:\n%s",
             static_cast<unsigned long long>(i),
             static_cast<unsigned long long>(seed), s.log().c_str());
      return 1;
    }
  }
  if (mode == "model" &&
      (g_successes == 0 || g_nonzero_counts == 0 || g_overflow_checks == 0)) {
    fprintf(stderr,
            "FAIL: the run checked too little (%llu successful "
            "calls, %llu non-zero counts, %llu overflow checks)\n",
            static_cast<unsigned long long>(g_successes),
            static_cast<unsigned long long>(g_nonzero_counts),
            static_cast<unsigned long long>(g_overflow_checks));
    return 1;
  }
  if (mode == "threads") {
    printf(
        "PASS: %llu sequences (%llu operations on %d threads at once, seed "
        "%llu): 0 crashes, 0 hangs, every count within capacity\n",
        static_cast<unsigned long long>(sequences),
        static_cast<unsigned long long>(ops_run * kWorkers), kWorkers,
        static_cast<unsigned long long>(seed));
    return 0;
  }
  printf(
      "PASS: %llu sequences (%llu operations, mode %s, seed %llu): "
      "0 disagreements, 0 crashes, 0 hangs; checked %llu successful "
      "calls, %llu non-zero counts, %llu overflow counters; workloads "
      "%llu/%llu PCs, %llu/%llu comparisons\n",
      static_cast<unsigned long long>(sequences),
      static_cast<unsigned long long>(ops_run), mode.c_str(),
      static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(g_successes),
      static_cast<unsigned long long>(g_nonzero_counts),
      static_cast<unsigned long long>(g_overflow_checks),
      static_cast<unsigned long long>(g_small.pcs),
      static_cast<unsigned long long>(g_large.pcs),
      static_cast<unsigned long long>(g_small.cmps),
      static_cast<unsigned long long>(g_large.cmps));
  return 0;
}
