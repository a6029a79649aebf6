// SPDX-License-Identifier: Apache-2.0
//
// The KCOV call-sequence catalogue. See catalogue.h for the transcript format.
// Expectations are the kernel's behaviour in Linux 6.1.192 on x86-64, from
// kernel/kcov.c: mmap rules (kcov_mmap), errors and their check order
// (kcov_ioctl, kcov_ioctl_locked), the state machine (kcov_ioctl_locked,
// kcov_disable, kcov_reset), close/exit/fork (kcov_close, kcov_task_exit,
// kcov_task_init) and remote sections (kcov_remote_start, kcov_remote_stop,
// kcov_move_area).
#include "catalogue.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "remcov/kcov_abi.h"

namespace remcov_catalogue {

const char* StatusName(Status s) {
  switch (s) {
    case Status::kPass:
      return "PASS";
    case Status::kFail:
      return "FAIL";
    case Status::kSkip:
      return "SKIP";
  }
  return "?";
}

std::string ErrnoName(int err) {
  switch (err) {
    case 0:
      return "0";
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EINTR:
      return "EINTR";
    case ENXIO:
      return "ENXIO";
    case E2BIG:
      return "E2BIG";
    case EBADF:
      return "EBADF";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case EBUSY:
      return "EBUSY";
    case EEXIST:
      return "EEXIST";
    case ENODEV:
      return "ENODEV";
    case EINVAL:
      return "EINVAL";
    case ENFILE:
      return "ENFILE";
    case EMFILE:
      return "EMFILE";
    case ENOTTY:
      return "ENOTTY";
    case ENOSPC:
      return "ENOSPC";
    case ERANGE:
      return "ERANGE";
    case ENOSYS:
      return "ENOSYS";
    case ENOBUFS:
      return "ENOBUFS";
    case EOVERFLOW:
      return "EOVERFLOW";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case REMCOV_ENOTSUPP:
      return "ENOTSUPP";
    default:
      return "E" + std::to_string(err);
  }
}

namespace {

using Word = unsigned long;  // the kernel's word; this test is built 64-bit
static_assert(sizeof(Word) == 8, "the catalogue assumes a 64-bit word");
static_assert(offsetof(remcov_kcov_remote_arg, common_handle) == 16);
static_assert(sizeof(remcov_kcov_remote_arg) == 24);

constexpr unsigned long kPc = REMCOV_KCOV_TRACE_PC;
constexpr unsigned long kCmp = REMCOV_KCOV_TRACE_CMP;
constexpr unsigned long kInit = REMCOV_KCOV_INIT_TRACE;
constexpr unsigned long kEnable = REMCOV_KCOV_ENABLE;
constexpr unsigned long kDisable = REMCOV_KCOV_DISABLE;
constexpr unsigned long kRemote = REMCOV_KCOV_REMOTE_ENABLE;
constexpr size_t kWords = 1024;          // 2 pages: the default buffer
constexpr size_t kBigWords = 64 * 1024;  // 512 KiB: remote and CMP cases

// An expected result: success (ret >= 0) or failure with this errno.
struct Expect {
  bool ok;
  int err;
};
constexpr Expect kOk{true, 0};
constexpr Expect Err(int e) { return Expect{false, e}; }

// Runs closures synchronously on its own thread. A thread's KCOV state dies
// with it (kcov_task_exit), so a Worker is also a disposable "task".
class Worker {
 public:
  Worker() : th_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    th_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Run(std::function<void()> f) {
    std::unique_lock<std::mutex> l(mu_);
    task_ = std::move(f);
    pending_ = true;
    cv_.notify_all();
    cv_.wait(l, [&] { return !pending_; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return pending_ || stop_; });
      if (pending_) {
        auto f = std::move(task_);
        l.unlock();
        f();
        l.lock();
        pending_ = false;
        cv_.notify_all();
        continue;
      }
      return;
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread th_;
};

struct Fact {
  std::string name;
  bool value;
  bool want;
};

class Case {
 public:
  Case(const KcovBackend& b, const CatalogueHooks& h, std::string name,
       int index, LineSink sink, void* sink_ctx)
      : b_(b),
        h_(h),
        name_(std::move(name)),
        index_(index),
        sink_(sink),
        sink_ctx_(sink_ctx) {}

  const KcovBackend& b() const { return b_; }
  const CatalogueHooks& h() const { return h_; }
  bool failed() const { return failed_; }
  const std::string& detail() const { return detail_; }

  // Handle instances unique per process and case: kcov.rst asks for ids that
  // differ between concurrent collectors (it suggests the pid).
  uint32_t Inst(unsigned k) const {
    return (static_cast<uint32_t>(getpid() & 0x7fff) << 16) |
           (static_cast<uint32_t>(index_) << 4) | (k & 0xf);
  }
  uint64_t Usb(unsigned k) const {
    return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, Inst(k));
  }
  uint64_t Common(unsigned k) const {
    return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON,
                                     Inst(k) | 0x8);
  }
  std::string UsbSpec(unsigned k) const {
    return "usb:" + std::to_string(Inst(k));
  }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> l(mu_);
    if (!failed_) {
      failed_ = true;
      detail_ = what;
    }
  }

  void Record(const std::string& step, long ret, int err, Expect want,
              const std::vector<Fact>& facts = {}) {
    std::string line = "STEP " + name_ + "/" + step +
                       " ret=" + std::to_string(ret) +
                       " errno=" + ErrnoName(ret < 0 ? err : 0);
    for (const Fact& f : facts)
      line += " " + f.name + "=" + (f.value ? "1" : "0");
    Emit(line);
    if (want.ok && ret < 0) {
      Fail(step + ": want success, got ret=" + std::to_string(ret) +
           " errno=" + ErrnoName(err));
    } else if (!want.ok && (ret != -1 || err != want.err)) {
      Fail(step + ": want errno=" + ErrnoName(want.err) + ", got ret=" +
           std::to_string(ret) + " errno=" + ErrnoName(ret < 0 ? err : 0));
    }
    for (const Fact& f : facts) {
      if (f.value != f.want)
        Fail(step + ": want " + f.name + "=" + (f.want ? "1" : "0") + ", got " +
             (f.value ? "1" : "0"));
    }
  }

  // A step that only observes (reads the buffer, asks a hook).
  void Observe(const std::string& step, const std::vector<Fact>& facts) {
    Record(step, 0, 0, kOk, facts);
  }

  int Open(const std::string& step, Expect want = kOk) {
    errno = 0;
    int fd = b_.open();
    int e = errno;
    Record(step, fd >= 0 ? 0 : -1, e, want);
    return fd;
  }
  long Ioctl(const std::string& step, int fd, unsigned long cmd,
             unsigned long arg, Expect want) {
    errno = 0;
    long r = b_.ioctl(fd, cmd, arg);
    int e = errno;
    Record(step, r, e, want);
    return r;
  }
  Word* Mmap(const std::string& step, int fd, size_t len, Expect want,
             int prot = PROT_READ | PROT_WRITE, off_t off = 0) {
    errno = 0;
    void* p = b_.mmap(nullptr, len, prot, MAP_SHARED, fd, off);
    int e = errno;
    Record(step, p == MAP_FAILED ? -1 : 0, e, want);
    if (p == MAP_FAILED) return nullptr;
    maps_.push_back({p, len});
    return static_cast<Word*>(p);
  }
  int Close(const std::string& step, int fd, Expect want = kOk) {
    errno = 0;
    int r = b_.close(fd);
    int e = errno;
    Record(step, r, e, want);
    return r;
  }
  // open + INIT_TRACE(words) + mmap, all expected to succeed.
  int Setup(const std::string& prefix, size_t words, Word** area) {
    int fd = Open(prefix + "open");
    Ioctl(prefix + "init", fd, kInit, words, kOk);
    *area = Mmap(prefix + "mmap", fd, words * sizeof(Word), kOk);
    return fd;
  }

  std::vector<uint64_t> RemoteArg(unsigned long mode, uint32_t area_size,
                                  const std::vector<uint64_t>& handles,
                                  uint64_t common,
                                  uint32_t num_handles = UINT32_MAX) {
    std::vector<uint64_t> buf(3 + handles.size());
    auto* arg = reinterpret_cast<remcov_kcov_remote_arg*>(buf.data());
    arg->trace_mode = static_cast<uint32_t>(mode);
    arg->area_size = area_size;
    arg->num_handles = num_handles == UINT32_MAX
                           ? static_cast<uint32_t>(handles.size())
                           : num_handles;
    arg->pad = 0;
    arg->common_handle = common;
    for (size_t i = 0; i < handles.size(); i++) buf[3 + i] = handles[i];
    return buf;
  }
  long Remote(const std::string& step, int fd, unsigned long mode,
              const std::vector<uint64_t>& handles, uint64_t common,
              Expect want, uint32_t area_size = kBigWords) {
    auto arg = RemoteArg(mode, area_size, handles, common);
    return Ioctl(step, fd, kRemote, reinterpret_cast<unsigned long>(arg.data()),
                 want);
  }

  int Trigger(const std::string& step, const char* context,
              const std::string& handle, Expect want = kOk) {
    errno = 0;
    int r = h_.remote_trigger(context, handle.c_str());
    int e = errno;
    Record(step, r, e, want);
    return r;
  }

  void Emit(const std::string& line) {
    std::lock_guard<std::mutex> l(mu_);
    sink_(line, sink_ctx_);
  }

  void UnmapAll() {
    for (auto& m : maps_) {
      if (h_.munmap)
        h_.munmap(m.first, m.second);
      else
        ::munmap(m.first, m.second);
    }
    maps_.clear();
  }

 private:
  const KcovBackend& b_;
  const CatalogueHooks& h_;
  std::string name_;
  int index_;
  LineSink sink_;
  void* sink_ctx_;
  std::mutex mu_;
  bool failed_ = false;
  std::string detail_;
  std::vector<std::pair<void*, size_t>> maps_;
};

// ---- buffer readers ----
Word LoadCount(const Word* area) {
  return __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
}
void ResetCount(Word* area) { __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED); }

struct PcFacts {
  Word count = 0;
  bool nonzero = true;  // every recorded PC is non-zero
  size_t hits[5] = {};  // PCs inside target a..e
};
PcFacts ReadPcs(const Case& c, const Word* area, size_t words) {
  PcFacts f;
  f.count = LoadCount(area);
  Word n = f.count < words ? f.count : static_cast<Word>(words - 1);
  for (Word i = 0; i < n; i++) {
    uint64_t pc = __atomic_load_n(&area[1 + i], __ATOMIC_RELAXED);
    if (pc == 0) f.nonzero = false;
    if (c.h().pc_in_target)
      for (int t = 0; t < 5; t++)
        if (c.h().pc_in_target(pc, static_cast<char>('a' + t))) f.hits[t]++;
  }
  return f;
}

struct CmpFacts {
  uint64_t records = 0;
  bool types_valid = true;  // every type <= 7 (KCOV_CMP_CONST | KCOV_CMP_MASK)
  bool ips_nonzero = true;
};
CmpFacts ReadCmps(const uint64_t* area, size_t words) {
  CmpFacts f;
  f.records = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
  uint64_t cap = (words - 1) / 4;
  uint64_t n = f.records < cap ? f.records : cap;
  for (uint64_t i = 0; i < n; i++) {
    if (area[1 + 4 * i] > 7) f.types_valid = false;
    if (area[4 + 4 * i] == 0) f.ips_nonzero = false;
  }
  return f;
}

void Exercise(Case& c, unsigned rounds) { c.h().exercise(rounds); }

// ============================ cases ============================
// Each case runs on a fresh thread; it may create Workers (more threads).

void CaseInitTraceSizes(Case& c) {
  const struct {
    const char* label;
    unsigned long size;
    Expect want;
  } rows[] = {
      {"size0", 0, Err(EINVAL)},
      {"size1", 1, Err(EINVAL)},
      {"size2", 2, kOk},  // smallest valid buffer: room for one PC
      {"size_int_max_div_word_plus1", INT_MAX / sizeof(Word) + 1, Err(EINVAL)},
      {"size_ulong_max", ~0ul, Err(EINVAL)},
      {"size1024", kWords, kOk},
  };
  for (const auto& r : rows) {
    int fd = c.Open(std::string(r.label) + "_open");
    c.Ioctl(std::string(r.label) + "_init", fd, kInit, r.size, r.want);
    c.Close(std::string(r.label) + "_close", fd);
  }
}

void CaseInitTraceTwice(Case& c) {
  int fd = c.Open("open");
  c.Ioctl("init", fd, kInit, kWords, kOk);
  c.Ioctl("init_again", fd, kInit, kWords, Err(EBUSY));
  c.Ioctl("init_again_other_size", fd, kInit, 2 * kWords, Err(EBUSY));
  c.Close("close", fd);
}

void CaseMmapBeforeInit(Case& c) {
  int fd = c.Open("open");
  c.Mmap("mmap", fd, kWords * sizeof(Word), Err(EINVAL));
  c.Close("close", fd);
}

void CaseMmapRules(Case& c) {
  int fd = c.Open("open");
  c.Ioctl("init", fd, kInit, kWords, kOk);
  size_t len = kWords * sizeof(Word);
  c.Mmap("mmap_short", fd, len / 2, Err(EINVAL));
  c.Mmap("mmap_long", fd, len * 2, Err(EINVAL));
  c.Mmap("mmap_offset", fd, len, Err(EINVAL), PROT_READ | PROT_WRITE, 4096);
  Word* ro = c.Mmap("mmap_prot_read", fd, len, kOk, PROT_READ);
  Word* rw = c.Mmap("mmap_rw", fd, len, kOk);
  Word* rw2 = c.Mmap("mmap_rw_second", fd, len, kOk);
  bool alias = false;
  if (ro && rw && rw2) {
    __atomic_store_n(&rw[kWords - 1], 0x5a5au, __ATOMIC_RELAXED);
    alias = __atomic_load_n(&ro[kWords - 1], __ATOMIC_RELAXED) == 0x5a5au &&
            __atomic_load_n(&rw2[kWords - 1], __ATOMIC_RELAXED) == 0x5a5au;
    __atomic_store_n(&rw[kWords - 1], 0u, __ATOMIC_RELAXED);
  }
  c.Observe("mappings_alias", {{"aliased", alias, true}});
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseEnableBeforeInit(Case& c) {
  int fd = c.Open("open");
  c.Ioctl("enable_pc", fd, kEnable, kPc, Err(EINVAL));
  c.Ioctl("enable_cmp", fd, kEnable, kCmp, Err(EINVAL));
  c.Close("close", fd);
}

void CaseEnableBadMode(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Ioctl("enable_mode2", fd, kEnable, 2, Err(EINVAL));
  c.Ioctl("enable_mode_ulong_max", fd, kEnable, ~0ul, Err(EINVAL));
  c.Ioctl("enable_pc_after_bad", fd, kEnable, kPc,
          kOk);  // the fd stayed in INIT
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseEnableTwiceSameFd(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  // mode != INIT is checked first: EINVAL, not EBUSY (kernel/kcov.c,
  // kcov_ioctl_locked, KCOV_ENABLE).
  c.Ioctl("enable_again", fd, kEnable, kPc, Err(EINVAL));
  c.Ioctl("enable_again_cmp", fd, kEnable, kCmp, Err(EINVAL));
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseEnableSecondFdSameThread(Case& c) {
  Word *a1 = nullptr, *a2 = nullptr;
  int fd1 = c.Setup("fd1_", kWords, &a1);
  int fd2 = c.Setup("fd2_", kWords, &a2);
  c.Ioctl("fd1_enable", fd1, kEnable, kPc, kOk);
  c.Ioctl("fd2_enable", fd2, kEnable, kPc, Err(EBUSY));  // current->kcov is fd1
  c.Ioctl("fd1_disable", fd1, kDisable, 0, kOk);
  c.Ioctl("fd2_enable_after_fd1_disabled", fd2, kEnable, kPc, kOk);
  c.Ioctl("fd2_disable", fd2, kDisable, 0, kOk);
  c.Close("fd1_close", fd1);
  c.Close("fd2_close", fd2);
  c.UnmapAll();
}

void CaseEnableFromTwoThreads(Case& c) {
  Worker a, b;
  Word *area = nullptr, *area2 = nullptr;
  int fd = -1, fd2 = -1;
  a.Run([&] {
    fd = c.Setup("a_", kWords, &area);
    c.Ioctl("a_enable", fd, kEnable, kPc, kOk);
  });
  b.Run([&] {
    c.Ioctl("b_enable_same_fd", fd, kEnable, kPc, Err(EINVAL));
    fd2 = c.Setup("b_", kWords, &area2);
    c.Ioctl("b_enable_own_fd", fd2, kEnable, kPc, kOk);
  });
  if (!area || !area2) return c.Fail("setup failed");
  a.Run([&] {
    ResetCount(area);
    Exercise(c, 4);
  });
  b.Run([&] {
    ResetCount(area2);
    Exercise(c, 4);
  });
  c.Observe("both_collect", {{"a_count_positive", LoadCount(area) > 0, true},
                             {"b_count_positive", LoadCount(area2) > 0, true}});
  a.Run([&] { c.Ioctl("a_disable", fd, kDisable, 0, kOk); });
  b.Run([&] { c.Ioctl("b_disable", fd2, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.Close("close2", fd2);
  c.UnmapAll();
}

void CaseDisableArgNonzero(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  c.Ioctl("disable_arg1", fd, kDisable, 1, Err(EINVAL));
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseDisableFromOtherThread(Case& c) {
  Worker a, b;
  Word* area = nullptr;
  int fd = -1;
  a.Run([&] {
    fd = c.Setup("a_", kWords, &area);
    c.Ioctl("a_enable", fd, kEnable, kPc, kOk);
  });
  b.Run([&] { c.Ioctl("b_disable", fd, kDisable, 0, Err(EINVAL)); });
  a.Run([&] { c.Ioctl("a_disable", fd, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseDisableNotEnabled(Case& c) {
  int fd = c.Open("open");
  c.Ioctl("disable_before_init", fd, kDisable, 0, Err(EINVAL));
  c.Ioctl("init", fd, kInit, kWords, kOk);
  c.Ioctl("disable_after_init", fd, kDisable, 0, Err(EINVAL));
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Ioctl("disable_again", fd, kDisable, 0, Err(EINVAL));
  c.Close("close", fd);
}

void CaseReenableFromOtherThread(Case& c) {
  Worker a, b;
  Word* area = nullptr;
  int fd = -1;
  a.Run([&] {
    fd = c.Setup("a_", kWords, &area);
    c.Ioctl("a_enable", fd, kEnable, kPc, kOk);
    c.Ioctl("a_disable", fd, kDisable, 0, kOk);
  });
  if (!area) return c.Fail("setup failed");
  b.Run([&] {
    c.Ioctl("b_enable", fd, kEnable, kPc, kOk);
    ResetCount(area);
    Exercise(c, 4);
    c.Observe("b_collects", {{"count_positive", LoadCount(area) > 0, true}});
    c.Ioctl("b_disable", fd, kDisable, 0, kOk);
  });
  a.Run([&] {
    c.Ioctl("a_enable_again", fd, kEnable, kCmp,
            kOk);  // another mode: also fine
    c.Ioctl("a_disable_again", fd, kDisable, 0, kOk);
  });
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseCloseWhileEnabled(Case& c) {
  Word* area = nullptr;
  {
    Worker a;
    a.Run([&] {
      int fd = c.Setup("", kWords, &area);
      c.Ioctl("enable", fd, kEnable, kPc, kOk);
      c.Close("close_while_enabled", fd);
      if (!area) return;
      ResetCount(area);
      Exercise(c, 4);
      // The task holds a reference: collection continues after close
      // (kernel/kcov.c, kcov_close only calls kcov_put).
      c.Observe("after_close", {{"count_positive", LoadCount(area) > 0, true}});
    });
  }  // the worker thread exits: kcov_task_exit disables and drops the last ref
  if (!area) return c.Fail("setup failed");
  ResetCount(area);
  Exercise(c, 4);
  c.Observe("after_thread_exit", {{"count_zero", LoadCount(area) == 0, true}});
  c.UnmapAll();
}

void CasePcMode(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  if (area) {
    ResetCount(area);
    Exercise(c, 2);
    PcFacts f = ReadPcs(c, area, kWords);
    c.Observe("collect", {{"count_positive", f.count > 0, true},
                          {"count_le_cap", f.count <= kWords - 1, true},
                          {"pcs_nonzero", f.nonzero, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  if (area) {
    ResetCount(area);
    Exercise(c, 2);
    c.Observe("after_disable", {{"count_zero", LoadCount(area) == 0, true}});
  }
  c.Close("close", fd);
  c.UnmapAll();
}

void CasePcCapacity(Case& c) {
  constexpr size_t kSmall = 512;  // one page; at most 511 PCs fit
  Word* area = nullptr;
  int fd = c.Setup("", kSmall, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  if (area) {
    ResetCount(area);
    Exercise(c, 200);
    Word n = LoadCount(area);
    c.Observe("saturate", {{"count_eq_size_minus_1", n == kSmall - 1, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseCmpMode(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Ioctl("enable_cmp", fd, kEnable, kCmp, kOk);
  if (area) {
    ResetCount(area);
    Exercise(c, 2);
    CmpFacts f = ReadCmps(reinterpret_cast<uint64_t*>(area), kBigWords);
    c.Observe("collect",
              {{"records_positive", f.records > 0, true},
               {"records_le_cap", f.records <= (kBigWords - 1) / 4, true},
               {"types_le_7", f.types_valid, true},
               {"ips_nonzero", f.ips_nonzero, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseCmpCapacity(Case& c) {
  constexpr size_t kSmall = 512;  // floor(511 / 4) = 127 records fit
  Word* area = nullptr;
  int fd = c.Setup("", kSmall, &area);
  c.Ioctl("enable_cmp", fd, kEnable, kCmp, kOk);
  if (area) {
    ResetCount(area);
    Exercise(c, 200);
    CmpFacts f = ReadCmps(reinterpret_cast<uint64_t*>(area), kSmall);
    c.Observe("saturate",
              {{"records_eq_127", f.records == (kSmall - 1) / 4, true},
               {"types_le_7", f.types_valid, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseUnknownIoctl(Case& c) {
  int fd = c.Open("open");
  c.Ioctl("io_c_99", fd, REMCOV_IOC(REMCOV_IOC_NONE, 'c', 99, 0), 0,
          Err(ENOTTY));
  c.Ioctl("cmd_0", fd, 0, 0, Err(ENOTTY));
  // A 64-bit kernel only knows the 64-bit encoding of INIT_TRACE: any other
  // cmd reaches the default case of kernel/kcov.c, kcov_ioctl_locked.
  c.Ioctl("init_trace32_encoding", fd, REMCOV_KCOV_INIT_TRACE32, kWords,
          Err(ENOTTY));
  c.Ioctl("init", fd, kInit, kWords, kOk);
  c.Ioctl("io_c_99_after_init", fd, REMCOV_IOC(REMCOV_IOC_NONE, 'c', 99, 0), 0,
          Err(ENOTTY));
  c.Close("close", fd);
}

void CaseResetTraceProbe(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  // The KCOV_RESET_TRACE and KCOV_UNIQUE_ENABLE proposals (unmerged;
  // docs/kcov.md): absent on 6.1.
  c.Ioctl("reset_trace", fd, REMCOV_KCOV_RESET_TRACE, 0, Err(ENOTTY));
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Ioctl("unique_enable", fd, REMCOV_KCOV_UNIQUE_ENABLE, 64, Err(ENOTTY));
  c.Close("close", fd);
  c.UnmapAll();
}

// ---- KCOV_REMOTE_ENABLE argument checks (no remote sections needed) ----

void CaseRemoteValidUsb(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, 0, kOk);
  if (area && c.h().exercise) {
    // The owner is in KCOV_MODE_REMOTE: it does not trace its own syscalls.
    ResetCount(area);
    Exercise(c, 4);
    c.Observe("owner_does_not_trace",
              {{"count_zero", LoadCount(area) == 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteBadHandles(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Remote("common_in_handles", fd, kPc, {c.Common(0)}, 0, Err(EINVAL));
  c.Remote("zero_handle", fd, kPc, {0}, 0, Err(EINVAL));
  c.Remote("reserved_bits", fd, kPc, {c.Usb(0) | (1ull << 40)}, 0, Err(EINVAL));
  c.Remote("unknown_subsystem", fd, kPc, {(0x02ull << 56) | c.Inst(0)}, 0,
           Err(EINVAL));
  c.Remote("bad_after_good", fd, kPc, {c.Usb(1), 0}, 0, Err(EINVAL));
  // Every failure rolled back: the fd is still in INIT and usb(1) is free.
  c.Remote("valid_after_rollback", fd, kPc, {c.Usb(1)}, 0, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteNumHandles(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  std::vector<uint64_t> h257;
  for (unsigned i = 0; i < 257; i++)
    h257.push_back(remcov_kcov_remote_handle(
        REMCOV_KCOV_SUBSYSTEM_USB, (c.Inst(0) & 0xffff0000u) + 0x8000u + i));
  c.Remote("num_handles_257", fd, kPc, h257, 0, Err(EINVAL));
  std::vector<uint64_t> h256(h257.begin(), h257.begin() + 256);
  c.Remote("num_handles_256", fd, kPc, h256, 0, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Remote("num_handles_0", fd, kPc, {}, 0,
           kOk);  // nothing to collect, but valid
  c.Ioctl("disable_again", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteDuplicateInCall(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Remote("duplicate", fd, kPc, {c.Usb(0), c.Usb(0)}, 0, Err(EEXIST));
  c.Remote("retry_single", fd, kPc, {c.Usb(0)}, 0, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteHandleOwnedByOtherFd(Case& c) {
  Worker a, b;
  Word *a1 = nullptr, *a2 = nullptr;
  int fd1 = -1, fd2 = -1;
  a.Run([&] {
    fd1 = c.Setup("a_", kWords, &a1);
    c.Remote("a_remote", fd1, kPc, {c.Usb(0)}, 0, kOk);
  });
  b.Run([&] {
    fd2 = c.Setup("b_", kWords, &a2);
    c.Remote("b_same_handle", fd2, kPc, {c.Usb(0)}, 0, Err(EEXIST));
    c.Remote("b_other_and_same", fd2, kPc, {c.Usb(1), c.Usb(0)}, 0,
             Err(EEXIST));
    c.Remote("b_no_handles", fd2, kPc, {}, 0, kOk);  // no conflict
    c.Ioctl("b_disable", fd2, kDisable, 0, kOk);
  });
  a.Run([&] { c.Ioctl("a_disable", fd1, kDisable, 0, kOk); });
  b.Run([&] {
    c.Remote("b_after_a_released", fd2, kPc, {c.Usb(0)}, 0, kOk);
    c.Ioctl("b_disable2", fd2, kDisable, 0, kOk);
  });
  c.Close("close1", fd1);
  c.Close("close2", fd2);
  c.UnmapAll();
}

void CaseRemoteBadCommon(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Remote("common_is_usb", fd, kPc, {}, c.Usb(0), Err(EINVAL));
  c.Remote("common_reserved_bits", fd, kPc, {}, c.Common(0) | (1ull << 33),
           Err(EINVAL));
  c.Remote("common_unknown_subsystem", fd, kPc, {}, (0x02ull << 56) | 5,
           Err(EINVAL));
  c.Remote("common_bad_with_good_usb", fd, kPc, {c.Usb(1)}, c.Usb(2),
           Err(EINVAL));
  c.Remote("common_valid", fd, kPc, {c.Usb(1)}, c.Common(0), kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteCommonOwnedByOtherFd(Case& c) {
  Worker a, b;
  Word *a1 = nullptr, *a2 = nullptr;
  int fd1 = -1, fd2 = -1;
  a.Run([&] {
    fd1 = c.Setup("a_", kWords, &a1);
    c.Remote("a_remote", fd1, kPc, {}, c.Common(0), kOk);
  });
  b.Run([&] {
    fd2 = c.Setup("b_", kWords, &a2);
    c.Remote("b_same_common", fd2, kPc, {c.Usb(3)}, c.Common(0), Err(EEXIST));
    c.Remote("b_usb_after_rollback", fd2, kPc, {c.Usb(3)}, 0, kOk);
    c.Ioctl("b_disable", fd2, kDisable, 0, kOk);
  });
  a.Run([&] { c.Ioctl("a_disable", fd1, kDisable, 0, kOk); });
  c.Close("close1", fd1);
  c.Close("close2", fd2);
  c.UnmapAll();
}

void CaseRemoteTwiceSameFd(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Remote("remote", fd, kPc, {c.Usb(0)}, 0, kOk);
  c.Remote("remote_again", fd, kPc, {c.Usb(1)}, 0, Err(EINVAL));
  c.Ioctl("enable_on_remote_fd", fd, kEnable, kPc, Err(EINVAL));
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseEnableWhileRemoteOwner(Case& c) {
  Word *a1 = nullptr, *a2 = nullptr;
  int fd1 = c.Setup("fd1_", kWords, &a1);
  int fd2 = c.Setup("fd2_", kWords, &a2);
  c.Remote("fd1_remote", fd1, kPc, {c.Usb(0)}, 0, kOk);
  c.Ioctl("fd2_enable", fd2, kEnable, kPc, Err(EBUSY));
  c.Remote("fd2_remote", fd2, kPc, {c.Usb(1)}, 0, Err(EBUSY));
  c.Ioctl("fd1_disable", fd1, kDisable, 0, kOk);
  c.Ioctl("fd2_enable_after", fd2, kEnable, kPc, kOk);
  c.Remote("fd1_remote_while_local", fd1, kPc, {c.Usb(0)}, 0, Err(EBUSY));
  c.Ioctl("fd2_disable", fd2, kDisable, 0, kOk);
  c.Close("fd1_close", fd1);
  c.Close("fd2_close", fd2);
  c.UnmapAll();
}

void CaseRemoteBeforeInitAndBadMode(Case& c) {
  int fd = c.Open("open");
  c.Remote("remote_before_init", fd, kPc, {c.Usb(0)}, 0, Err(EINVAL));
  c.Ioctl("init", fd, kInit, kWords, kOk);
  c.Remote("remote_mode2", fd, 2, {c.Usb(0)}, 0, Err(EINVAL));
  c.Remote("remote_after_bad_mode", fd, kPc, {c.Usb(0)}, 0, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
}

// ---- remote sections (need the test module / remote_trigger) ----

// Owner registers a USB handle; the section runs in `context`; its PCs, from
// the module's target for that context, arrive in the owner's buffer.
void RemoteUsbSection(Case& c, const char* context, char target,
                      unsigned long mode) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Remote("remote_enable", fd, mode, {c.Usb(0)}, 0, kOk);
  if (area) {
    ResetCount(area);
    c.Trigger(std::string("trigger_") + context, context, c.UsbSpec(0));
    if (mode == kPc) {
      PcFacts f = ReadPcs(c, area, kBigWords);
      c.Observe("collect", {{"count_positive", f.count > 0, true},
                            {"pcs_nonzero", f.nonzero, true},
                            {std::string("target_") + target + "_hit",
                             f.hits[target - 'a'] > 0, true}});
    } else {
      CmpFacts f = ReadCmps(reinterpret_cast<uint64_t*>(area), kBigWords);
      c.Observe("collect", {{"records_positive", f.records > 0, true},
                            {"types_le_7", f.types_valid, true}});
    }
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  if (area) {
    ResetCount(area);
    c.Trigger("trigger_after_disable", context, c.UsbSpec(0));
    c.Observe("after_disable", {{"count_zero", LoadCount(area) == 0, true}});
  }
  c.Close("close", fd);
  c.UnmapAll();
}
void CaseRemoteKthreadUsb(Case& c) { RemoteUsbSection(c, "kthread", 'a', kPc); }
void CaseRemoteWorkUsb(Case& c) { RemoteUsbSection(c, "work", 'b', kPc); }
void CaseRemoteSoftirqUsb(Case& c) { RemoteUsbSection(c, "softirq", 'c', kPc); }
void CaseRemoteTimerUsb(Case& c) { RemoteUsbSection(c, "timer", 'e', kPc); }
void CaseRemoteKthreadCmp(Case& c) {
  RemoteUsbSection(c, "kthread", 'a', kCmp);
}

// The seed patch's scenario: a reader polls the count (acquire) while remote
// sections are merged; every entry below the count must already be written.
// The buffer starts zeroed and the count is never reset, so a stale entry reads
// as 0. (On x86 the kernel's ordering is TSO either way; on a weakly ordered
// CPU this is where a missing smp_wmb() would show.)
void CaseRemoteConcurrentReader(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, 0, kOk);
  if (area) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> stale{0}, polls{0};
    std::thread reader([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        Word n = LoadCount(area);
        if (n > kBigWords - 1) n = kBigWords - 1;
        for (Word i = 0; i < n; i++)
          if (__atomic_load_n(&area[1 + i], __ATOMIC_RELAXED) == 0) stale++;
        polls++;
      }
    });
    const char* contexts[] = {"work", "kthread", "softirq"};
    int failures = 0;
    std::string spec = c.UsbSpec(0);
    for (int i = 0; i < 30; i++)
      if (c.h().remote_trigger(contexts[i % 3], spec.c_str()) != 0) failures++;
    stop = true;
    reader.join();
    c.Observe("concurrent", {{"triggers_ok", failures == 0, true},
                             {"count_positive", LoadCount(area) > 0, true},
                             {"reader_polled", polls.load() > 0, true},
                             {"no_stale_entries", stale.load() == 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// area_size sizes only the private area of task-context sections; softirq
// sections always use CONFIG_KCOV_IRQ_AREA_SIZE (kernel/kcov.c,
// kcov_remote_start). With area_size 2 a task-context section has room for
// exactly one PC.
void CaseRemoteAreaSizeLimits(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Remote("remote_enable_area2", fd, kPc, {c.Usb(0)}, 0, kOk, 2);
  if (area) {
    ResetCount(area);
    c.Trigger("trigger_kthread", "kthread", c.UsbSpec(0));
    c.Observe("kthread_section", {{"count_eq_1", LoadCount(area) == 1, true}});
    ResetCount(area);
    c.Trigger("trigger_work", "work", c.UsbSpec(0));
    c.Observe("work_section", {{"count_eq_1", LoadCount(area) == 1, true}});
    ResetCount(area);
    c.Trigger("trigger_softirq", "softirq", c.UsbSpec(0));
    PcFacts f = ReadPcs(c, area, kBigWords);
    c.Observe("softirq_section", {{"count_gt_1", f.count > 1, true},
                                  {"target_c_hit", f.hits[2] > 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// kcov_move_area appends at most up to the user buffer's capacity (size-1 PCs),
// then drops; a count above the capacity makes it drop the whole section
// (kernel/kcov.c, kcov_move_area).
void CaseRemoteBufferLimits(Case& c) {
  constexpr size_t kSmall = 512;
  Word* area = nullptr;
  int fd = c.Setup("", kSmall, &area);
  c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, 0, kOk);
  if (area) {
    ResetCount(area);
    int failures = 0;
    Word prev = 0;
    bool monotonic = true;
    std::string spec = c.UsbSpec(0);
    for (int i = 0; i < 200 && LoadCount(area) < kSmall - 1; i++) {
      if (c.h().remote_trigger("work", spec.c_str()) != 0) failures++;
      Word n = LoadCount(area);
      if (n < prev) monotonic = false;
      prev = n;
    }
    // One more section once full: nothing moves.
    if (c.h().remote_trigger("work", spec.c_str()) != 0) failures++;
    c.Observe("saturate",
              {{"triggers_ok", failures == 0, true},
               {"count_monotonic", monotonic, true},
               {"count_eq_size_minus_1", LoadCount(area) == kSmall - 1, true}});
    // A garbage count (above the capacity) drops whole sections.
    __atomic_store_n(&area[0], static_cast<Word>(kSmall * 4), __ATOMIC_RELAXED);
    __atomic_store_n(&area[1], static_cast<Word>(0), __ATOMIC_RELAXED);
    c.Trigger("trigger_with_garbage_count", "work", spec);
    c.Observe("garbage_count",
              {{"count_unchanged", LoadCount(area) == kSmall * 4, true},
               {"entry1_untouched", area[1] == 0, true}});
    // A count of 0 again: sections are appended from the start.
    ResetCount(area);
    c.Trigger("trigger_after_reset", "work", spec);
    c.Observe("after_reset",
              {{"count_positive", LoadCount(area) > 0, true},
               {"target_b_hit", ReadPcs(c, area, kSmall).hits[1] > 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// A section that spans DISABLE (and a re-enable) is dropped at its end: the
// kcov's sequence changed (kernel/kcov.c, kcov_remote_stop: the sequence
// check before kcov_move_area).
void CaseRemoteSectionSpanningDisable(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, 0, kOk);
  if (area) {
    std::string spec = c.UsbSpec(0);
    ResetCount(area);
    c.Trigger("control_hold", "hold", spec);
    c.Trigger("control_release", "release", spec);
    c.Observe("control", {{"count_positive", LoadCount(area) > 0, true},
                          {"target_b_hit",
                           ReadPcs(c, area, kBigWords).hits[1] > 0, true}});
    ResetCount(area);
    c.Trigger("hold", "hold", spec);
    c.Ioctl("disable_during_section", fd, kDisable, 0, kOk);
    c.Remote("reenable_during_section", fd, kPc, {c.Usb(0)}, 0, kOk);
    c.Trigger("release", "release", spec);
    c.Observe("spanning_reenable",
              {{"count_zero", LoadCount(area) == 0, true}});
    c.Trigger("hold2", "hold", spec);
    c.Ioctl("disable_during_section2", fd, kDisable, 0, kOk);
    c.Trigger("release2", "release", spec);
    c.Observe("spanning_disable", {{"count_zero", LoadCount(area) == 0, true}});
    c.Remote("reenable_after", fd, kPc, {c.Usb(0)}, 0, kOk);
    c.Trigger("after_work", "work", spec);
    c.Observe("after", {{"count_positive", LoadCount(area) > 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteUsbFromOtherThread(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, 0, kOk);
  if (area) {
    ResetCount(area);
    Worker other;  // USB handles are global: any task may trigger the section
    other.Run(
        [&] { c.Trigger("other_thread_trigger_work", "work", c.UsbSpec(0)); });
    PcFacts f = ReadPcs(c, area, kBigWords);
    c.Observe("collect", {{"count_positive", f.count > 0, true},
                          {"target_b_hit", f.hits[1] > 0, true}});
    ResetCount(area);
    c.Trigger("unregistered_handle", "work", c.UsbSpec(1));
    c.Observe("no_cross_talk", {{"count_zero", LoadCount(area) == 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteCommonKthread(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Observe("common_handle_before",
            {{"is_zero", c.h().common_handle() == 0, true}});
  c.Remote("remote_enable_common", fd, kPc, {}, c.Common(0), kOk);
  c.Observe("common_handle_set",
            {{"matches", c.h().common_handle() == c.Common(0), true}});
  if (area) {
    for (const char* ctx : {"kthread", "work"}) {
      ResetCount(area);
      c.Trigger(std::string("trigger_") + ctx, ctx, "common");
      PcFacts f = ReadPcs(c, area, kBigWords);
      char t = ctx[0] == 'k' ? 'a' : 'b';
      c.Observe(
          std::string("collect_") + ctx,
          {{"count_positive", f.count > 0, true},
           {std::string("target_") + t + "_hit", f.hits[t - 'a'] > 0, true}});
    }
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  // kcov_task_reset clears the owner's kcov_handle.
  c.Observe("common_handle_after_disable",
            {{"is_zero", c.h().common_handle() == 0, true}});
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseRemoteCommonInheritedByChild(Case& c) {
  Word* area = nullptr;
  int fd = -1;
  Worker owner;
  owner.Run([&] {
    fd = c.Setup("", kBigWords, &area);
    c.Remote("remote_enable_common", fd, kPc, {}, c.Common(0), kOk);
  });
  if (!area) return c.Fail("setup failed");
  ResetCount(area);
  owner.Run([&] {
    // pthread_create from the owner: the child inherits kcov_handle
    // (kernel/kcov.c, kcov_task_init).
    std::thread child([&] {
      c.Observe("child_common_handle",
                {{"matches", c.h().common_handle() == c.Common(0), true}});
      c.Trigger("child_trigger_work", "work", "common");
    });
    child.join();
  });
  PcFacts f = ReadPcs(c, area, kBigWords);
  c.Observe("collect", {{"count_positive", f.count > 0, true},
                        {"target_b_hit", f.hits[1] > 0, true}});
  // The case thread existed before REMOTE_ENABLE and is not a child of the
  // owner.
  ResetCount(area);
  c.Observe("unrelated_thread_common_handle",
            {{"is_zero", c.h().common_handle() == 0, true}});
  c.Trigger("unrelated_trigger_work", "work", "common");
  c.Observe("unrelated_no_coverage",
            {{"count_zero", LoadCount(area) == 0, true}});
  owner.Run([&] { c.Ioctl("disable", fd, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.UnmapAll();
}

// fork() from the owner: the child process inherits the common handle (but not
// coverage), and its remote sections feed the owner's buffer (kernel/kcov.c,
// kcov_task_init copies kcov_handle).
// The child reports through its exit status only (no transcript lines).
void CaseRemoteCommonInheritedByFork(Case& c) {
  Word* area = nullptr;
  int fd = -1;
  Worker owner;
  owner.Run([&] {
    fd = c.Setup("", kBigWords, &area);
    c.Remote("remote_enable_common", fd, kPc, {}, c.Common(0), kOk);
  });
  if (!area) return c.Fail("setup failed");
  ResetCount(area);
  int status = -1;
  const uint64_t want =
      c.Common(0);  // Inst() uses getpid(): compute before fork
  owner.Run([&] {
    pid_t pid = fork();
    if (pid == 0) {
      int code = 0;
      if (c.h().common_handle() == want) code |= 1;
      if (c.h().remote_trigger("work", "common") == 0) code |= 2;
      _exit(code);
    }
    if (pid > 0) waitpid(pid, &status, 0);
  });
  bool exited = WIFEXITED(status);
  int code = exited ? WEXITSTATUS(status) : 0;
  PcFacts f = ReadPcs(c, area, kBigWords);
  c.Observe("child_process",
            {{"exited", exited, true},
             {"child_common_handle_matches", (code & 1) != 0, true},
             {"child_trigger_ok", (code & 2) != 0, true}});
  c.Observe("collect", {{"count_positive", f.count > 0, true},
                        {"target_b_hit", f.hits[1] > 0, true}});
  owner.Run([&] { c.Ioctl("disable", fd, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.UnmapAll();
}

// A forked child's own task runs remote sections (kcov_remote_start_common
// with its inherited kcov_handle, then kcov_remote_start with a handle the
// parent registered): both land in the parent's buffer. kernel/fork.c:
// copy_process -> kcov_task_init copies kcov_handle; the remote handle table
// is global (kernel/kcov.c: kcov_remote_find).
void CaseRemoteTaskInForkedChild(Case& c) {
  Word* area = nullptr;
  int fd = -1;
  Worker owner;
  owner.Run([&] {
    fd = c.Setup("", kBigWords, &area);
    c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, c.Common(0), kOk);
  });
  if (!area) return c.Fail("setup failed");
  const std::string usb = c.UsbSpec(0);
  for (const char* spec : {"common", "usb"}) {
    ResetCount(area);
    int status = -1;
    const std::string handle = spec[0] == 'c' ? "common" : usb;
    owner.Run([&] {
      pid_t pid = fork();
      if (pid == 0)
        _exit(c.h().remote_trigger("task", handle.c_str()) == 0 ? 0 : 1);
      if (pid > 0) waitpid(pid, &status, 0);
    });
    PcFacts f = ReadPcs(c, area, kBigWords);
    c.Observe(
        std::string("child_task_") + spec,
        {{"exited", WIFEXITED(status), true},
         {"trigger_ok", WIFEXITED(status) && WEXITSTATUS(status) == 0, true},
         {"count_positive", f.count > 0, true},
         {"target_d_hit", f.hits[3] > 0, true}});
  }
  owner.Run([&] { c.Ioctl("disable", fd, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.UnmapAll();
}

// dup and fcntl(F_DUPFD) name the same device: one struct kcov per open file
// (kernel/kcov.c: kcov_open; the VFS shares the file between descriptors).
void CaseDupNamesOneDevice(Case& c) {
  int fd = c.Open("open");
  const int d1 = dup(fd);
  const int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
  c.Observe("dup", {{"dup_ok", d1 >= 0, true}, {"dupfd_ok", d2 >= 0, true}});
  c.Ioctl("init_via_dup", d1, kInit, kWords, kOk);
  c.Ioctl("init_via_original", fd, kInit, kWords, Err(EBUSY));
  Word* area = c.Mmap("mmap_via_dupfd", d2, kWords * sizeof(Word), kOk);
  c.Ioctl("enable_via_original", fd, kEnable, kPc, kOk);
  c.Ioctl("enable_via_dup", d1, kEnable, kPc, Err(EINVAL));
  if (area) {
    ResetCount(area);
    Exercise(c, 2);
    c.Observe("collect", {{"count_positive", LoadCount(area) > 0, true}});
  }
  c.Ioctl("disable_via_dupfd", d2, kDisable, 0, kOk);
  c.Close("close_original", fd);
  // The file lives on in the other descriptors: still INIT.
  c.Ioctl("init_after_close", d1, kInit, kWords, Err(EBUSY));
  c.Ioctl("enable_after_close", d1, kEnable, kPc, kOk);
  c.Ioctl("disable_after_close", d1, kDisable, 0, kOk);
  c.Close("close_dup", d1);
  c.Close("close_dupfd", d2);
  c.UnmapAll();
}

// Runs child() in a forked child and returns its exit code (-1 when it did
// not exit). The child reports through its exit status only.
template <typename F>
int ForkAndWait(F child) {
  pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

// A child enables the device its parent initialized, records, and exits
// without DISABLE: the parent sees what it recorded, and kcov_task_exit
// returned the device to INIT for the parent's own ENABLE.
void CaseEnableInForkedChild(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  if (!area) return c.Fail("setup failed");
  ResetCount(area);
  const int code = ForkAndWait([&] {
    if (c.b().ioctl(fd, kEnable, kPc) != 0) return 1;
    c.h().exercise(2);
    return 0;
  });
  c.Observe("child", {{"exited", code >= 0, true},
                      {"child_enable_ok", code == 0, true}});
  c.Observe("collect", {{"count_positive", LoadCount(area) > 0, true}});
  c.Ioctl("enable_after_child_exit", fd, kEnable, kPc, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// The parent enabled the device: in the child (a new task, kcov_task_init)
// ENABLE finds the mode no longer INIT and DISABLE a device that is not the
// task's: both EINVAL; the parent still owns it.
void CaseEnableInChildOfOwner(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  const int code = ForkAndWait([&] {
    int bits = 0;
    errno = 0;
    if (c.b().ioctl(fd, kEnable, kPc) == -1 && errno == EINVAL) bits |= 1;
    errno = 0;
    if (c.b().ioctl(fd, kDisable, 0) == -1 && errno == EINVAL) bits |= 2;
    return bits;
  });
  c.Observe("child", {{"exited", code >= 0, true},
                      {"child_enable_einval", code >= 0 && (code & 1), true},
                      {"child_disable_einval", code >= 0 && (code & 2), true}});
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// The owner's process is killed: kcov_task_exit runs for it, and the device
// is INIT again for the parent.
void CaseOwnerKilled(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  int p[2];
  if (pipe(p) != 0) return c.Fail("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    char ok = c.b().ioctl(fd, kEnable, kPc) == 0 ? 'e' : 'x';
    if (write(p[1], &ok, 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(p[1]);
  char got = 0;
  const bool ready = pid > 0 && read(p[0], &got, 1) == 1 && got == 'e';
  close(p[0]);
  c.Observe("child_enabled", {{"ok", ready, true}});
  c.Ioctl("enable_while_child_owns", fd, kEnable, kPc, Err(EINVAL));
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  c.Ioctl("enable_after_kill", fd, kEnable, kPc, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// The remote handle table is global (kernel/kcov.c: kcov_remote_map), so a
// registration made after a fork reaches the processes forked before it: a
// child forked first runs a section in its own task (the module's `task`
// context) with a USB handle its parent registers afterwards, and it lands
// in the parent's buffer.
void CaseRemoteRegisteredAfterFork(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  if (!area) return c.Fail("setup failed");
  ResetCount(area);
  int go[2];
  if (pipe(go) != 0) return c.Fail("pipe");
  const std::string usb = c.UsbSpec(0);
  const pid_t pid = fork();
  if (pid == 0) {
    char b = 0;
    if (read(go[0], &b, 1) != 1) _exit(2);
    _exit(c.h().remote_trigger("task", usb.c_str()) == 0 ? 0 : 1);
  }
  Worker owner;
  owner.Run([&] { c.Remote("remote_enable", fd, kPc, {c.Usb(0)}, 0, kOk); });
  int status = -1;
  if (pid > 0) {
    (void)!write(go[1], "g", 1);
    waitpid(pid, &status, 0);
  }
  close(go[0]);
  close(go[1]);
  PcFacts f = ReadPcs(c, area, kBigWords);
  c.Observe(
      "child_task_section",
      {{"exited", WIFEXITED(status), true},
       {"trigger_ok", WIFEXITED(status) && WEXITSTATUS(status) == 0, true},
       {"count_positive", f.count > 0, true},
       {"target_d_hit", f.hits[3] > 0, true}});
  owner.Run([&] { c.Ioctl("disable", fd, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.UnmapAll();
}

// And a child's registration reaches its parent: the child opens a device
// and registers a USB handle; a section the parent has a worker run with it
// lands in the child's buffer (the child reports through its exit status).
void CaseRemoteChildRegistrationSeenByParent(Case& c) {
  int ready[2], done[2];
  if (pipe(ready) != 0 || pipe(done) != 0) return c.Fail("pipe");
  const uint64_t handle = c.Usb(0);
  const pid_t pid = fork();
  if (pid == 0) {
    const KcovBackend& b = c.b();
    const int fd = b.open();
    if (fd < 0 || b.ioctl(fd, kInit, kBigWords) != 0) _exit(10);
    void* p = b.mmap(nullptr, kBigWords * sizeof(Word), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) _exit(11);
    Word* area = static_cast<Word*>(p);
    const auto arg = c.RemoteArg(kPc, kBigWords, {handle}, 0);
    if (b.ioctl(fd, kRemote, reinterpret_cast<unsigned long>(arg.data())) != 0)
      _exit(12);
    ResetCount(area);
    char x = 'r';
    if (write(ready[1], &x, 1) != 1 || read(done[0], &x, 1) != 1) _exit(13);
    int bits = LoadCount(area) > 0 ? 1 : 0;
    if (b.ioctl(fd, kDisable, 0) == 0) bits |= 2;
    _exit(bits);
  }
  char x = 0;
  const bool registered = pid > 0 && read(ready[0], &x, 1) == 1;
  c.Observe("child_registered", {{"ok", registered, true}});
  if (registered) c.Trigger("trigger_work", "work", c.UsbSpec(0));
  (void)!write(done[1], "d", 1);
  int status = -1;
  if (pid > 0) waitpid(pid, &status, 0);
  for (int* p : {ready, done}) {
    close(p[0]);
    close(p[1]);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  c.Observe("child",
            {{"exited", code >= 0 && code < 10, true},
             {"section_landed", code >= 0 && code < 10 && (code & 1), true},
             {"disable_ok", code >= 0 && code < 10 && (code & 2), true}});
}

// ---- exec ----
// exec keeps the task (fs/exec.c replaces the image, not the task_struct), so
// it keeps t->kcov, t->kcov_handle and every descriptor without close-on-exec.
// A forked child execs this very binary (/proc/self/exe) with kExecChildArg,
// a role, a descriptor and the common handle it should have; the new image
// runs RunExecChild's part for the role and reports through its exit status
// (bits, below). Nothing of the new image's reaches the transcript.
enum ExecBits : int {
  kExecHandleMatches = 1,   // hooks.common_handle() is the one passed in
  kExecTriggerOk = 2,       // a section with the common handle ran
  kExecEnableOk = 4,        // the role's ENABLE / mmap succeeded
  kExecTraced = 8,          // its area's count grew in the new image
  kExecDisableOk = 16,      // DISABLE from the new image succeeded (owner)
  kExecHandleCleared = 32,  // the common handle is 0 after that DISABLE
};

// Forks; the child makes `fd` survive exec, runs before_exec() (false: exit
// 100) and execs this binary in `role`. Returns the new image's exit code, -1
// when it did not exit.
template <typename F>
int ForkExec(const char* role, int fd, uint64_t handle, F before_exec) {
  const std::string fd_arg = std::to_string(fd);
  char handle_arg[32];
  snprintf(handle_arg, sizeof handle_arg, "%llx",
           static_cast<unsigned long long>(handle));
  pid_t pid = fork();
  if (pid == 0) {
    if (fcntl(fd, F_SETFD, 0) != 0 || !before_exec()) _exit(100);
    const char* argv[] = {"kcov-catalogue", kExecChildArg, role,
                          fd_arg.c_str(),   handle_arg,    nullptr};
    execv("/proc/self/exe", const_cast<char* const*>(argv));
    _exit(101);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

// A child forked by a remote owner inherits its kcov_handle (kcov_task_init)
// and exec keeps it: the exec'd program's own sections with it land in the
// owner's buffer; a device inherited without close-on-exec can be enabled
// there.
void CaseExecKeepsCommonHandle(Case& c) {
  Word* area = nullptr;
  Word* traced = nullptr;
  int fd = -1;
  Worker owner;
  owner.Run([&] {
    fd = c.Setup("", kBigWords, &area);
    c.Remote("remote_enable_common", fd, kPc, {}, c.Common(0), kOk);
  });
  const int fd2 = c.Setup("second_", kBigWords, &traced);
  if (!area || !traced) return c.Fail("setup failed");
  ResetCount(area);
  ResetCount(traced);
  int code = -1;
  const uint64_t want = c.Common(0);
  owner.Run([&] { code = ForkExec("handle", fd2, want, [] { return true; }); });
  auto bit = [&](int b) { return code >= 0 && (code & b) != 0; };
  c.Observe("exec_child",
            {{"exited", code >= 0 && code < 100, true},
             {"common_handle_matches", bit(kExecHandleMatches), true},
             {"trigger_ok", bit(kExecTriggerOk), true},
             {"enable_second_ok", bit(kExecEnableOk), true},
             {"disable_second_ok", bit(kExecDisableOk), true}});
  c.Observe("collect", {{"section_landed", LoadCount(area) > 0, true},
                        {"second_traced", LoadCount(traced) > 0, true}});
  owner.Run([&] { c.Ioctl("disable", fd, kDisable, 0, kOk); });
  c.Close("close", fd);
  c.Close("second_close", fd2);
  c.UnmapAll();
}

// A task that enabled a device and then execs goes on tracing into it: the
// new image maps it, sees its count grow, and may DISABLE it (kcov->t is
// still the task). Then the device is INIT for the parent.
void CaseExecKeepsEnabledDevice(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  if (!area) return c.Fail("setup failed");
  const int code = ForkExec("traced", fd, 0,
                            [&] { return c.b().ioctl(fd, kEnable, kPc) == 0; });
  auto bit = [&](int b) { return code >= 0 && (code & b) != 0; };
  c.Observe("exec_child", {{"exited", code >= 0 && code < 100, true},
                           {"mmap_ok", bit(kExecEnableOk), true},
                           {"traced_after_exec", bit(kExecTraced), true},
                           {"disable_ok", bit(kExecDisableOk), true}});
  c.Ioctl("enable_after_child", fd, kEnable, kPc, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// The same with the task's only descriptor close-on-exec: exec closes it,
// but the task keeps t->kcov (and the struct kcov its reference), so the
// new image, which knows no descriptor of the device, is still traced into
// the area the parent maps. The device is INIT for the parent once the
// child ended (kcov_task_exit).
void CaseExecKeepsDeviceWithoutDescriptor(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kWords, &area);
  if (!area) return c.Fail("setup failed");
  const int code = ForkExec("blind", fd, 0, [&] {
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        c.b().ioctl(fd, kEnable, kPc) != 0)
      return false;
    ResetCount(area);
    return true;
  });
  c.Observe("exec_child", {{"exited", code == 0, true},
                           {"traced_after_exec", LoadCount(area) > 0, true}});
  c.Ioctl("enable_after_child", fd, kEnable, kPc, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// A remote owner that execs stays the owner: its handle registrations and
// kcov_handle belong to the task, so a section with the common handle that
// the new image has a worker run lands in the buffer, and its DISABLE ends
// remote mode (and clears kcov_handle, kcov_task_reset).
void CaseExecKeepsRemoteOwner(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  if (!area) return c.Fail("setup failed");
  ResetCount(area);
  const uint64_t want = c.Common(0);
  const auto arg = c.RemoteArg(kPc, kBigWords, {c.Usb(0)}, want);
  const int code = ForkExec("remote_owner", fd, want, [&] {
    return c.b().ioctl(fd, kRemote,
                       reinterpret_cast<unsigned long>(arg.data())) == 0;
  });
  auto bit = [&](int b) { return code >= 0 && (code & b) != 0; };
  c.Observe("exec_child",
            {{"exited", code >= 0 && code < 100, true},
             {"common_handle_matches", bit(kExecHandleMatches), true},
             {"trigger_ok", bit(kExecTriggerOk), true},
             {"disable_ok", bit(kExecDisableOk), true},
             {"common_handle_cleared", bit(kExecHandleCleared), true}});
  c.Observe("collect", {{"section_landed", LoadCount(area) > 0, true}});
  c.Remote("remote_enable_after_child", fd, kPc, {c.Usb(0)}, want, kOk);
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

void CaseModuleDirectLocal(Case& c) {
  Word* area = nullptr;
  int fd = c.Setup("", kBigWords, &area);
  c.Ioctl("enable", fd, kEnable, kPc, kOk);
  if (area) {
    ResetCount(area);
    c.Trigger("trigger_direct", "direct", "usb:0");
    PcFacts f = ReadPcs(c, area, kBigWords);
    c.Observe("collect", {{"count_positive", f.count > 0, true},
                          {"target_d_hit", f.hits[3] > 0, true}});
  }
  c.Ioctl("disable", fd, kDisable, 0, kOk);
  c.Close("close", fd);
  c.UnmapAll();
}

// ---- registry ----
enum Need : unsigned {
  kNeedExercise = 1,
  kNeedRemote = 2,       // remote_trigger + pc_in_target
  kNeedCommon = 4,       // common_handle
  kNeedFork = 8,         // hooks.supports_fork
  kNeedDeviceFork = 16,  // hooks.devices_survive_fork
  kNeedExec = 32,        // hooks.supports_exec
};

struct Entry {
  const char* name;
  void (*fn)(Case&);
  unsigned needs;
};

const Entry kCases[] = {
    {"init_trace_sizes", CaseInitTraceSizes, 0},
    {"init_trace_twice", CaseInitTraceTwice, 0},
    {"mmap_before_init", CaseMmapBeforeInit, 0},
    {"mmap_rules", CaseMmapRules, 0},
    {"enable_before_init", CaseEnableBeforeInit, 0},
    {"enable_bad_mode", CaseEnableBadMode, 0},
    {"enable_twice_same_fd", CaseEnableTwiceSameFd, 0},
    {"enable_second_fd_same_thread", CaseEnableSecondFdSameThread, 0},
    {"enable_from_two_threads", CaseEnableFromTwoThreads, kNeedExercise},
    {"disable_arg_nonzero", CaseDisableArgNonzero, 0},
    {"disable_from_other_thread", CaseDisableFromOtherThread, 0},
    {"disable_not_enabled", CaseDisableNotEnabled, 0},
    {"reenable_from_other_thread", CaseReenableFromOtherThread, kNeedExercise},
    {"close_while_enabled", CaseCloseWhileEnabled, kNeedExercise},
    {"pc_mode", CasePcMode, kNeedExercise},
    {"pc_capacity", CasePcCapacity, kNeedExercise},
    {"cmp_mode", CaseCmpMode, kNeedExercise},
    {"cmp_capacity", CaseCmpCapacity, kNeedExercise},
    {"unknown_ioctl", CaseUnknownIoctl, 0},
    {"reset_trace_probe", CaseResetTraceProbe, 0},
    {"remote_valid_usb", CaseRemoteValidUsb, 0},
    {"remote_bad_handles", CaseRemoteBadHandles, 0},
    {"remote_num_handles", CaseRemoteNumHandles, 0},
    {"remote_duplicate_in_call", CaseRemoteDuplicateInCall, 0},
    {"remote_handle_owned_by_other_fd", CaseRemoteHandleOwnedByOtherFd, 0},
    {"remote_bad_common", CaseRemoteBadCommon, 0},
    {"remote_common_owned_by_other_fd", CaseRemoteCommonOwnedByOtherFd, 0},
    {"remote_twice_same_fd", CaseRemoteTwiceSameFd, 0},
    {"enable_while_remote_owner", CaseEnableWhileRemoteOwner, 0},
    {"remote_before_init_bad_mode", CaseRemoteBeforeInitAndBadMode, 0},
    {"module_direct_local", CaseModuleDirectLocal, kNeedRemote},
    {"remote_kthread_usb", CaseRemoteKthreadUsb, kNeedRemote},
    {"remote_work_usb", CaseRemoteWorkUsb, kNeedRemote},
    {"remote_softirq_usb", CaseRemoteSoftirqUsb, kNeedRemote},
    {"remote_timer_usb", CaseRemoteTimerUsb, kNeedRemote},
    {"remote_kthread_cmp", CaseRemoteKthreadCmp, kNeedRemote},
    {"remote_usb_from_other_thread", CaseRemoteUsbFromOtherThread, kNeedRemote},
    {"remote_concurrent_reader", CaseRemoteConcurrentReader, kNeedRemote},
    {"remote_area_size_limits", CaseRemoteAreaSizeLimits, kNeedRemote},
    {"remote_buffer_limits", CaseRemoteBufferLimits, kNeedRemote},
    {"remote_section_spanning_disable", CaseRemoteSectionSpanningDisable,
     kNeedRemote},
    {"remote_common_kthread_work", CaseRemoteCommonKthread,
     kNeedRemote | kNeedCommon},
    {"remote_common_inherited_by_child", CaseRemoteCommonInheritedByChild,
     kNeedRemote | kNeedCommon},
    {"remote_common_inherited_by_fork", CaseRemoteCommonInheritedByFork,
     kNeedRemote | kNeedCommon | kNeedFork},
    {"remote_task_in_forked_child", CaseRemoteTaskInForkedChild,
     kNeedRemote | kNeedCommon | kNeedFork},
    {"dup_names_one_device", CaseDupNamesOneDevice, kNeedExercise},
    {"enable_in_forked_child", CaseEnableInForkedChild,
     kNeedExercise | kNeedDeviceFork},
    {"enable_in_child_of_owner", CaseEnableInChildOfOwner, kNeedDeviceFork},
    {"owner_killed", CaseOwnerKilled, kNeedDeviceFork},
    {"remote_registered_after_fork", CaseRemoteRegisteredAfterFork,
     kNeedRemote | kNeedFork | kNeedDeviceFork},
    {"remote_child_registration_seen_by_parent",
     CaseRemoteChildRegistrationSeenByParent,
     kNeedRemote | kNeedFork | kNeedDeviceFork},
    {"exec_keeps_common_handle", CaseExecKeepsCommonHandle,
     kNeedExercise | kNeedRemote | kNeedCommon | kNeedExec},
    {"exec_keeps_enabled_device", CaseExecKeepsEnabledDevice,
     kNeedExercise | kNeedExec},
    {"exec_keeps_remote_owner", CaseExecKeepsRemoteOwner,
     kNeedRemote | kNeedCommon | kNeedExec},
    {"exec_keeps_device_without_descriptor",
     CaseExecKeepsDeviceWithoutDescriptor, kNeedExercise | kNeedExec},
};

std::string MissingHook(const CatalogueHooks& h, unsigned needs) {
  if ((needs & kNeedExercise) && !h.exercise) return "exercise";
  if ((needs & kNeedRemote) && (!h.remote_trigger || !h.pc_in_target))
    return "remote_trigger/pc_in_target";
  if ((needs & kNeedCommon) && !h.common_handle) return "common_handle";
  if ((needs & kNeedFork) && !h.supports_fork) return "supports_fork";
  if ((needs & kNeedDeviceFork) && !h.devices_survive_fork)
    return "devices_survive_fork";
  if ((needs & kNeedExec) && !h.supports_exec) return "supports_exec";
  return "";
}

}  // namespace

std::vector<std::string> CaseNames() {
  std::vector<std::string> v;
  for (const Entry& e : kCases) v.push_back(e.name);
  return v;
}

std::vector<CaseResult> RunCatalogue(const KcovBackend& backend,
                                     const CatalogueHooks& hooks, LineSink sink,
                                     void* sink_ctx, const char* filter) {
  std::vector<CaseResult> results;
  int index = 0;
  for (const Entry& e : kCases) {
    index++;
    if (filter && *filter && !strstr(e.name, filter)) continue;
    CaseResult r;
    r.name = e.name;
    std::string missing = MissingHook(hooks, e.needs);
    if (!missing.empty()) {
      r.status = Status::kSkip;
      r.detail = "backend has no " + missing + " hook";
    } else {
      auto c =
          std::make_shared<Case>(backend, hooks, e.name, index, sink, sink_ctx);
      auto done = std::make_shared<std::promise<void>>();
      std::future<void> fut = done->get_future();
      std::thread th([c, done, fn = e.fn] {
        try {
          fn(*c);
        } catch (const std::exception& ex) {
          c->Fail(std::string("exception: ") + ex.what());
        }
        done->set_value();
      });
      if (fut.wait_for(std::chrono::seconds(hooks.case_timeout_s)) !=
          std::future_status::ready) {
        th.detach();  // cannot be reclaimed; stop the run here
        r.status = Status::kFail;
        r.detail =
            "timeout after " + std::to_string(hooks.case_timeout_s) + "s";
        c->Emit("CASE " + r.name + " FAIL " + r.detail);
        results.push_back(r);
        return results;
      }
      th.join();
      r.status = c->failed() ? Status::kFail : Status::kPass;
      r.detail = c->failed() ? c->detail() : "ok";
    }
    sink("CASE " + r.name + " " + StatusName(r.status) + " " + r.detail,
         sink_ctx);
    results.push_back(r);
  }
  return results;
}

int RunExecChild(const KcovBackend& b, const CatalogueHooks& h, int argc,
                 char** argv) {
  if (argc < 5 || strcmp(argv[1], kExecChildArg) != 0) return 2;
  const std::string role = argv[2];
  const int fd = atoi(argv[3]);
  const uint64_t want = strtoull(argv[4], nullptr, 16);
  const auto has = [&](uint64_t handle) {
    return h.common_handle != nullptr && h.common_handle() == handle;
  };
  const auto task_section = [&] {
    return h.remote_trigger != nullptr &&
           h.remote_trigger("task", "common") == 0;
  };
  int bits = 0;
  if (role == "handle") {
    if (has(want)) bits |= kExecHandleMatches;
    if (task_section()) bits |= kExecTriggerOk;
    if (b.ioctl(fd, kEnable, kPc) == 0) bits |= kExecEnableOk;
    if (h.exercise) h.exercise(2);
    if (b.ioctl(fd, kDisable, 0) == 0) bits |= kExecDisableOk;
  } else if (role == "traced") {
    void* p = b.mmap(nullptr, kWords * sizeof(Word), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      bits |= kExecEnableOk;
      Word* area = static_cast<Word*>(p);
      ResetCount(area);
      if (h.exercise) h.exercise(2);
      if (LoadCount(area) > 0) bits |= kExecTraced;
    }
    if (b.ioctl(fd, kDisable, 0) == 0) bits |= kExecDisableOk;
  } else if (role == "blind") {
    // No descriptor of the device: only work for the tracer to see.
    if (h.exercise) h.exercise(2);
  } else if (role == "remote_owner") {
    if (has(want)) bits |= kExecHandleMatches;
    // In a worker, not in this task: the owner's own task must not run a
    // section (Linux 6.1.192 dereferences NULL in kcov_remote_stop).
    if (h.remote_trigger != nullptr && h.remote_trigger("work", "common") == 0)
      bits |= kExecTriggerOk;
    if (b.ioctl(fd, kDisable, 0) == 0) bits |= kExecDisableOk;
    if (has(0)) bits |= kExecHandleCleared;
  } else {
    return 102;
  }
  return bits;
}

}  // namespace remcov_catalogue
