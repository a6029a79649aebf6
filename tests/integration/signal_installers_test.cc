// SPDX-License-Identifier: Apache-2.0
// Every libc path that installs a signal handler is wrapped (issue 15, item
// 1), called as C code calls it in each feature-macro mode (installers/*.c:
// -std=c11, _POSIX_C_SOURCE=200809L, _XOPEN_SOURCE=600, gnu11/_GNU_SOURCE):
// * each behaves exactly as glibc's own (return values, SIG_ERR/EINVAL,
//   flags, mask, siginterrupt, SIG_HOLD), compared call by call with the
//   libc.so.6 definition;
// * a handler it installs records nothing into the interrupted thread's
//   trace (before the fix, signal() under -std=c11 leaked the handler's PCs);
// * under a signal storm, handler sections on the handle whose device the
//   interrupted thread is moving into are deferred, never refused, never
//   lost (before the fix: SIGSEGV or a self-deadlock in MoveLock::Lock).
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "remcov/remcov.h"

#include "fixture.h"
#include "installers/installers.h"
#include "test_util.h"

#if defined(__SANITIZE_THREAD__)
#define REMCOV_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REMCOV_TEST_TSAN 1
#endif
#endif

namespace remcov::testing {
namespace {

using Handler = installers_handler_t;
using InstallFn = Handler (*)(int, Handler);

enum class Kind { kBsd, kSysv, kSigset, kSigaction };

struct Installer {
  const char* name;
  InstallFn fn;
  Kind kind;
  const char* glibc_name;  // the libc.so.6 symbol it must behave like
};

const Installer kInstallers[] = {
    {"c11_signal", installers_c11_signal, Kind::kSysv, "__sysv_signal"},
    {"posix_signal", installers_posix_signal, Kind::kSysv, "__sysv_signal"},
    {"posix_sigaction", installers_posix_sigaction, Kind::kSigaction,
     "sigaction"},
    {"xopen_bsd_signal", installers_xopen_bsd_signal, Kind::kBsd, "bsd_signal"},
    {"xopen_sigset", installers_xopen_sigset, Kind::kSigset, "sigset"},
    {"default_signal", installers_default_signal, Kind::kBsd, "signal"},
    {"default_ssignal", installers_default_ssignal, Kind::kBsd, "ssignal"},
    {"gnu_sysv_signal", installers_gnu_sysv_signal, Kind::kSysv, "sysv_signal"},
    {"gnu___sysv_signal", installers_gnu___sysv_signal, Kind::kSysv,
     "__sysv_signal"},
};

void PrintTo(const Installer& i, std::ostream* os) { *os << i.name; }

// SIGURG: its default action is to ignore, so a delivery while a SysV
// handler is reset to SIG_DFL is harmless.
constexpr int kSig = SIGURG;

void* Libc() {
  static void* h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  return h;
}
template <typename F>
F LibcFn(const char* name) {
  return reinterpret_cast<F>(dlsym(Libc(), name));
}

// glibc's sigaction-based installer, for posix_sigaction's reference.
Handler LibcSigactionInstall(int sig, Handler h) {
  auto real = LibcFn<int (*)(int, const struct sigaction*, struct sigaction*)>(
      "sigaction");
  struct sigaction act = {}, old = {};
  act.sa_handler = h;
  sigemptyset(&act.sa_mask);
  if (real(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

void H1(int) {}
void H2(int) {}

// What one call returned and left behind, as the program sees it.
struct Obs {
  std::string op;
  uintptr_t ret;
  int err;
  uintptr_t handler;
  int flags;
  bool self_masked;
  bool blocked;
  bool operator==(const Obs&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Obs& o) {
  return os << o.op << ": ret=" << o.ret << " errno=" << o.err
            << " handler=" << o.handler << " flags=0x" << std::hex << o.flags
            << std::dec << " self_masked=" << o.self_masked
            << " blocked=" << o.blocked;
}

Obs Observe(const std::string& op, uintptr_t ret, int err) {
  struct sigaction a = {};
  EXPECT_EQ(sigaction(kSig, nullptr, &a), 0);  // the interposed user view
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, nullptr, &cur);
#if defined(REMCOV_TEST_TSAN)
  // TSan's sigaction answers from its own table, not the kernel's, so flags
  // and mask of what glibc installed behind its back (the reference run)
  // cannot be compared; return values, errno, handlers and the blocked set
  // still are. The other builds compare everything.
  a.sa_flags = 0;
  sigemptyset(&a.sa_mask);
#endif
  // SA_RESTORER is glibc's own business on both sides.
  return Obs{op,
             ret,
             err,
             reinterpret_cast<uintptr_t>(a.sa_handler),
             a.sa_flags & ~0x04000000,
             sigismember(&a.sa_mask, kSig) == 1,
             sigismember(&cur, kSig) == 1};
}

// The script both the installer under test and glibc's run.
std::vector<Obs> Script(InstallFn install, int (*siginterrupt_fn)(int, int),
                        Kind kind) {
  std::vector<Obs> out;
  auto call = [&](const std::string& op, int sig, Handler h) {
    errno = 0;
    Handler r = install(sig, h);
    int err = r == SIG_ERR ? errno : 0;
    out.push_back(Observe(op, reinterpret_cast<uintptr_t>(r), err));
  };
  call("H1", kSig, H1);
  call("H2", kSig, H2);
  call("IGN", kSig, SIG_IGN);
  call("DFL", kSig, SIG_DFL);
  call("H1 again", kSig, H1);
  for (int bad : {0, -1, NSIG, NSIG + 1, 32, 33, SIGKILL, SIGSTOP})
    call("sig " + std::to_string(bad), bad, H1);
  if (kind == Kind::kSigset) {
    const Handler hold = installers_sig_hold();
    call("HOLD", kSig, hold);         // blocks, returns the handler
    call("HOLD again", kSig, hold);   // already blocked: SIG_HOLD
    call("H2 while held", kSig, H2);  // unblocks, returns SIG_HOLD
    call("H1 unblocked", kSig, H1);
  } else if (kind != Kind::kSigaction) {
    call("SIG_ERR", kSig, SIG_ERR);
  }
  if (kind == Kind::kBsd) {
    // siginterrupt(sig, 1) drops SA_RESTART now and for later calls.
    out.push_back(Observe("siginterrupt 1", siginterrupt_fn(kSig, 1), 0));
    call("H2 interrupting", kSig, H2);
    out.push_back(Observe("siginterrupt 0", siginterrupt_fn(kSig, 0), 0));
    call("H1 restarting", kSig, H1);
  }
  return out;
}

class InstallerTest : public ::testing::TestWithParam<Installer> {
 protected:
  void SetUp() override {
    ASSERT_NE(Libc(), nullptr);
    auto real =
        LibcFn<int (*)(int, const struct sigaction*, struct sigaction*)>(
            "sigaction");
    ASSERT_EQ(real(kSig, nullptr, &saved_), 0);
  }
  void TearDown() override {
    // Back to the default, through the interposer (it forgets our handler).
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigaction(kSig, &dfl, nullptr);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, kSig);
    pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
  }
  struct sigaction saved_ = {};
};

TEST_P(InstallerTest, BehavesExactlyAsGlibc) {
  const Installer& in = GetParam();
  InstallFn reference = in.kind == Kind::kSigaction
                            ? &LibcSigactionInstall
                            : LibcFn<InstallFn>(in.glibc_name);
  ASSERT_NE(reference, nullptr) << in.glibc_name;
  auto libc_siginterrupt = LibcFn<int (*)(int, int)>("siginterrupt");
  ASSERT_NE(libc_siginterrupt, nullptr);
  const std::vector<Obs> want = Script(reference, libc_siginterrupt, in.kind);
  TearDown();
  const std::vector<Obs> got =
      Script(in.fn, installers_xopen_siginterrupt, in.kind);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) EXPECT_EQ(got[i], want[i]);
  // The flags are the ones the issue names.
  struct sigaction a = {};
  TearDown();
  ASSERT_NE(in.fn(kSig, H1), SIG_ERR);
  ASSERT_EQ(sigaction(kSig, nullptr, &a), 0);
  const int kRelevant = SA_RESTART | SA_RESETHAND | SA_NODEFER | SA_SIGINFO;
  switch (in.kind) {
    case Kind::kBsd:
      EXPECT_EQ(a.sa_flags & kRelevant, SA_RESTART);
      break;
    case Kind::kSysv:
      EXPECT_EQ(a.sa_flags & kRelevant, SA_RESETHAND | SA_NODEFER);
      break;
    case Kind::kSigset:
    case Kind::kSigaction:
      EXPECT_EQ(a.sa_flags & kRelevant, 0);
      break;
  }
  EXPECT_EQ(a.sa_handler, &H1);
}

std::atomic<uint64_t> g_runs{0};
std::atomic<InstallFn> g_reinstall{nullptr};

void LocalHandler(int) {
  fixture_in_handler(31);
  g_runs.fetch_add(1, std::memory_order_relaxed);
}

TEST_P(InstallerTest, HandlerCodeIsNotRecordedInTheInterruptedTrace) {
  const Installer& in = GetParam();
  ASSERT_NE(in.fn(kSig, LocalHandler), SIG_ERR);
  RawDevice d(1 << 14);
  g_runs = 0;
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  fixture_spin(1);
  raise(kSig);
  fixture_spin(1);
  ASSERT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  EXPECT_EQ(g_runs.load(), 1u);
  EXPECT_EQ(FixtureFunctions(d.Pcs()), std::set<std::string>{"fixture_spin"});
}

uint64_t Usb(uint64_t bus) {
  return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, bus);
}
const uint64_t kTaskHandle = Usb(0xa101);
const uint64_t kHandlerHandle = Usb(0xa102);

void SectionHandler(int sig) {
  remcov_remote_start(kHandlerHandle);
  fixture_in_handler(32);
  remcov_remote_stop();
  g_runs.fetch_add(1, std::memory_order_relaxed);
  // A SysV handler is reset on delivery: it reinstalls itself, as such
  // programs do (deliveries in between are ignored: SIGURG's default).
  InstallFn again = g_reinstall.load(std::memory_order_relaxed);
  if (again != nullptr) again(sig, SectionHandler);
}

#if defined(REMCOV_TEST_TSAN)
constexpr uint64_t kDeliveries = 300;  // TSan delivers at safe points only
#else
constexpr uint64_t kDeliveries = 1500;
#endif

TEST_P(InstallerTest, StormOfHandlerSectionsIntoTheDeviceBeingMovedInto) {
  const Installer& in = GetParam();
  const uint64_t per_spin = PcsOf([] { fixture_spin(2); });
  const uint64_t per_handler = PcsOf([] { fixture_in_handler(32); });
  RawDevice d(1 << 22);
  RemoteOwner owner(d.fd(), {kTaskHandle, kHandlerHandle}, 0, 1 << 12);
  g_runs = 0;
  g_reinstall = in.kind == Kind::kSysv ? in.fn : nullptr;
  ASSERT_NE(in.fn(kSig, SectionHandler), SIG_ERR);
  const remcov_runtime_stats_t before = [] {
    remcov_runtime_stats_t s{};
    remcov_runtime_stats(&s);
    return s;
  }();
  std::atomic<bool> stop{false};
  uint64_t calls = 0;
  std::thread worker([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      remcov_remote_start(kTaskHandle);
      fixture_spin(2);
      remcov_remote_stop();
      calls++;
    }
  });
  pthread_t w = worker.native_handle();
  for (uint64_t i = 0; g_runs.load() < kDeliveries && i < 100 * kDeliveries;
       i++) {
    pthread_kill(w, kSig);
    if (i % 4 == 0) std::this_thread::yield();
  }
  stop = true;
  worker.join();
  g_reinstall = nullptr;
  remcov_runtime_stats_t after{};
  remcov_runtime_stats(&after);
  const uint64_t runs = g_runs.load();
  EXPECT_GE(runs, kDeliveries);
  const remcov_device_stats_t st = d.Stats();
  const uint64_t exhausted =
      after.irq_pool_exhausted - before.irq_pool_exhausted;
  // An unwrapped handler's section would look like a nested task section.
  EXPECT_EQ(after.refused_sections, before.refused_sections);
  EXPECT_EQ(after.signal_sections - before.signal_sections, runs - exhausted);
  EXPECT_EQ(st.sections_moved + exhausted, calls + runs);
  uint64_t spin_pcs = 0, handler_pcs = 0;
  for (uint64_t pc : d.Pcs()) {
    std::string f = FixtureFunction(pc);
    if (f == "fixture_spin") spin_pcs++;
    if (f == "fixture_in_handler") handler_pcs++;
  }
  EXPECT_EQ(spin_pcs + handler_pcs + st.overflow_entries + st.garbage_entries,
            calls * per_spin + (runs - exhausted) * per_handler);
  std::printf("%s: %llu handler sections, %llu deferred, %llu skipped\n",
              in.name, static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(st.sections_deferred),
              static_cast<unsigned long long>(exhausted));
}

INSTANTIATE_TEST_SUITE_P(AllInstallers, InstallerTest,
                         ::testing::ValuesIn(kInstallers),
                         [](const ::testing::TestParamInfo<Installer>& i) {
                           return std::string(i.param.name);
                         });

}  // namespace
}  // namespace remcov::testing
