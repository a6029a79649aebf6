// SPDX-License-Identifier: Apache-2.0
// Interposed libc functions: signal-handler installation (sigaction,
// __sigaction, signal, bsd_signal, ssignal, __sysv_signal, sysv_signal, sigset,
// and siginterrupt, which signal() consults) and thread creation
// (pthread_create).
//
// * Handlers are wrapped in a trampoline that folds "in a signal handler" into
//   the thread's mode word (kModeInIrq) for the handler's duration, so code in
//   a handler records nothing unless it opens a remote section, as the kernel
//   records nothing in interrupt context. The trampoline also ends a section a
//   handler left open, and records each level (frame, stack, interrupted
//   mode) so that a handler left by longjmp or thread exit can be cleared
//   later (remote.cc, LeaveAbandonedSignalLevels).
// * Threads created by a thread that holds a common handle inherit it, as the
//   kernel copies kcov_handle at fork: plain pthread_create and std::thread in
//   code that includes no remcov header get it. A thread-start hook
//   (thread_hook.h; `remcov trace --in-process --threads`) runs first on
//   every new thread once it is set.
//
// The real implementations (RealSigaction, RealPthreadCreate) are found as
// interpose.h says: the sanitizer's interceptor; in a statically linked
// program glibc's definitions under their internal names,
// __pthread_create_2_1 (what libc.a's weak pthread_create aliases) and
// __libc_sigaction (what its __sigaction calls after refusing glibc's
// internal signals), since the runtime's definitions below take the public
// names and dlsym(RTLD_NEXT) has nothing to find there; libc.a's
// pthread_create.o, which defines __pthread_create_2_1 and itself calls
// __libc_sigaction, is linked because the static runtime's link options
// (cmake/RemcovHelpers.cmake, remcov_static_runtime_link_options) hold
// -Wl,--undefined=__pthread_create; the static runtime references a marker
// symbol that only those options define, so a program linked without them
// fails at link time with "undefined reference to `<marker>'"
// (docs/design.md, "Statically linked programs"); else dlsym(RTLD_NEXT).
// None found (not glibc): the functions fail with ENOSYS, never abort.
//
// Thread safety: all entry points are thread-safe. Signal safety: the
// trampoline is; the installers are as async-signal-safe as glibc's
// (sigaction, signal); pthread_create is not (as in libc).
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <ucontext.h>

#include <atomic>

#include "remcov/export.h"

#include "runtime/device.h"
#include "runtime/interpose.h"
#include "runtime/thread_hook.h"
#include "runtime/thread_state.h"

extern "C" {
// The sanitizers' interceptors (LLVM <= 16 and gcc 12 naming); null without
// one.
int __interceptor_sigaction(int, const struct sigaction*, struct sigaction*)
    __attribute__((weak));
int __interceptor_pthread_create(pthread_t*, const pthread_attr_t*,
                                 void* (*)(void*), void*) __attribute__((weak));
// glibc's internal names, defined only in a static program (see above).
int __libc_sigaction(int, const struct sigaction*, struct sigaction*)
    __attribute__((weak, visibility("hidden")));
int __pthread_create_2_1(pthread_t*, const pthread_attr_t*, void* (*)(void*),
                         void*) __attribute__((weak, visibility("hidden")));
#ifdef REMCOV_STATIC_LINK_MARKER
// Defined by the static runtime's link options only (-Wl,--defsym); its name
// says where they come from.
extern const char REMCOV_STATIC_LINK_MARKER[]
    __attribute__((visibility("hidden")));
#endif
}

namespace remcov::internal {

bool StaticProgram() {
#ifdef REMCOV_STATIC_LINK_MARKER
  // The reference that makes a link without the options fail.
  asm volatile("" : : "r"(REMCOV_STATIC_LINK_MARKER));
#endif
  return &__pthread_create_2_1 != nullptr && &__libc_sigaction != nullptr;
}

namespace {

using PthreadCreateFn = int (*)(pthread_t*, const pthread_attr_t*,
                                void* (*)(void*), void*);

// glibc's __sigaction in a static program (signal/sigaction.c): EINVAL for a
// number outside [1, NSIG) and for its internal signals (sigaddset refuses
// exactly those), then __libc_sigaction.
int StaticSigaction(int sig, const struct sigaction* act,
                    struct sigaction* old) {
  sigset_t probe;
  sigemptyset(&probe);
  if (sigaddset(&probe, sig) < 0) {
    errno = EINVAL;
    return -1;
  }
  return __libc_sigaction(sig, act, old);
}

int NoSigaction(int, const struct sigaction*, struct sigaction*) {
  errno = ENOSYS;
  return -1;
}

int NoPthreadCreate(pthread_t*, const pthread_attr_t*, void* (*)(void*),
                    void*) {
  return ENOSYS;
}

PthreadCreateFn RealPthreadCreate() {
  static const PthreadCreateFn fn = Resolve<PthreadCreateFn>(
      &__interceptor_pthread_create, &__pthread_create_2_1, "pthread_create",
      &NoPthreadCreate);
  return fn;
}

// The user's handler per signal, as installed. Written before the trampoline
// is installed; read by the trampoline.
struct UserHandler {
  std::atomic<void*> fn{nullptr};
  std::atomic<int> flags{0};  // the user's sa_flags (SA_SIGINFO tells the form)
};
constinit UserHandler g_handlers[NSIG];

void Trampoline(int sig, siginfo_t* info, void* uc) {
  ThreadState& t = tls_state;
  const uint32_t mode = LoadModeRelaxed(t);
  const uint32_t depth = t.irq_depth;
  // The depth first, then the level's record: a handler that interrupts us
  // before the depth store pushes and pops its own level at `depth`; one that
  // interrupts us after it finds its own level above ours, and only the
  // innermost level's record is read before the others are known live.
  t.irq_depth = depth + 1;
  StoreModeRelaxed(t, mode | kModeInIrq);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (depth < kMaxIrqLevels) {
    IrqLevel& l = t.irq_levels[depth];
    l.frame = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    l.alt_lo = l.alt_hi = 0;
    const auto* u = static_cast<const ucontext_t*>(uc);
    if (u != nullptr && !(u->uc_stack.ss_flags & SS_DISABLE) &&
        u->uc_stack.ss_size != 0) {
      l.alt_lo = reinterpret_cast<uintptr_t>(u->uc_stack.ss_sp);
      l.alt_hi = l.alt_lo + u->uc_stack.ss_size;
    }
    l.on_alt = l.frame >= l.alt_lo && l.frame < l.alt_hi;
    l.mode = mode;
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  void* fn = g_handlers[sig].fn.load(std::memory_order_acquire);
  if (g_handlers[sig].flags.load(std::memory_order_relaxed) & SA_SIGINFO) {
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(fn)(sig, info, uc);
  } else {
    reinterpret_cast<void (*)(int)>(fn)(sig);
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  // Our level is where we recorded it unless abandoned levels below it were
  // dropped meanwhile (LeaveAbandonedSignalLevels moves it down and corrects
  // the mode it resumes).
  uint32_t level = depth;
  uint32_t resume = mode;
  if (depth < kMaxIrqLevels) {
    const uintptr_t frame =
        reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    for (uint32_t i = 0; i < t.irq_depth && i <= depth; i++) {
      if (t.irq_levels[i].frame == frame) {
        level = i;
        resume = t.irq_levels[i].mode;
        break;
      }
    }
  }
  // Levels above ours that never returned (a handler interrupting ours left
  // by longjmp into our handler) are certainly gone now.
  if (t.irq_depth > level + 1) LeaveSignalLevelsAbove(t, level + 1);
  EndSignalSection(t);
  t.irq_depth = level;
  StoreModeRelaxed(t, resume);
}

// SIG_ERR and SIG_HOLD are not handlers either: they are installed as given
// (the kernel takes any address, as it does from glibc).
bool IsRealHandler(void* fn) {
  return fn != reinterpret_cast<void*>(SIG_DFL) &&
         fn != reinterpret_cast<void*>(SIG_IGN) &&
         fn != reinterpret_cast<void*>(SIG_ERR) &&
         fn != reinterpret_cast<void*>(SIG_HOLD) && fn != nullptr;
}

// Rewrites an old action that shows our trampoline into the user's handler.
// The flags stay the kernel's (whoever changed them last), except SA_SIGINFO,
// which the trampoline adds: it shows the user's form.
void RestoreUserView(struct sigaction* old, void* prev_fn, int prev_flags) {
  if (old == nullptr) return;
  if (reinterpret_cast<void*>(old->sa_sigaction) !=
      reinterpret_cast<void*>(&Trampoline))
    return;
  old->sa_flags = (old->sa_flags & ~SA_SIGINFO) | (prev_flags & SA_SIGINFO);
  if (prev_flags & SA_SIGINFO) {
    old->sa_sigaction =
        reinterpret_cast<void (*)(int, siginfo_t*, void*)>(prev_fn);
  } else {
    old->sa_handler = reinterpret_cast<void (*)(int)>(prev_fn);
  }
}

int WrappedSigaction(int sig, const struct sigaction* act,
                     struct sigaction* old) {
  if (sig <= 0 || sig >= NSIG) return RealSigaction()(sig, act, old);
  void* prev_fn = g_handlers[sig].fn.load(std::memory_order_relaxed);
  int prev_flags = g_handlers[sig].flags.load(std::memory_order_relaxed);
  if (act == nullptr) {
    int r = RealSigaction()(sig, nullptr, old);
    if (r == 0) RestoreUserView(old, prev_fn, prev_flags);
    return r;
  }
  void* fn = (act->sa_flags & SA_SIGINFO)
                 ? reinterpret_cast<void*>(act->sa_sigaction)
                 : reinterpret_cast<void*>(act->sa_handler);
  if (!IsRealHandler(fn)) {
    int r = RealSigaction()(sig, act, old);
    if (r == 0) RestoreUserView(old, prev_fn, prev_flags);
    return r;
  }
  g_handlers[sig].flags.store(act->sa_flags, std::memory_order_relaxed);
  g_handlers[sig].fn.store(fn,
                           std::memory_order_release);  // pairs with Trampoline
  struct sigaction wrapped = *act;
  wrapped.sa_sigaction = &Trampoline;
  wrapped.sa_flags = act->sa_flags | SA_SIGINFO;
  int r = RealSigaction()(sig, &wrapped, old);
  if (r != 0) {
    int err = errno;
    g_handlers[sig].fn.store(prev_fn, std::memory_order_release);
    g_handlers[sig].flags.store(prev_flags, std::memory_order_relaxed);
    errno = err;
    return r;
  }
  RestoreUserView(old, prev_fn, prev_flags);
  return 0;
}

// ---- glibc's other installers, each in terms of WrappedSigaction with the
// flags glibc 2.36 uses (signal/sysv_signal.c, sysdeps/posix/signal.c,
// sigset.c, sigintr.c), so that every handler is wrapped. ----

// glibc's _sigintr: the signals siginterrupt(sig, 1) made interrupting; BSD
// signal() then installs without SA_RESTART.
constinit std::atomic<uint64_t> g_sigintr[(NSIG + 63) / 64] = {};

bool InSigintr(int sig) {
  return (g_sigintr[sig / 64].load(std::memory_order_relaxed) >> (sig % 64)) &
         1;
}

sighandler_t Install(int sig, sighandler_t handler, int flags, bool mask_sig) {
  struct sigaction act = {};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  if (mask_sig) sigaddset(&act.sa_mask, sig);
  act.sa_flags = flags;
  struct sigaction old = {};
  if (WrappedSigaction(sig, &act, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}

// signal() with _DEFAULT_SOURCE, bsd_signal, ssignal (glibc: __bsd_signal).
sighandler_t BsdSignal(int sig, sighandler_t handler) {
  sigset_t probe;
  sigemptyset(&probe);
  // glibc: SIG_ERR, a number outside [1, NSIG) or one of its internal
  // signals (sigaddset refuses exactly those) -> EINVAL.
  if (handler == SIG_ERR || sigaddset(&probe, sig) < 0) {
    errno = EINVAL;
    return SIG_ERR;
  }
  return Install(sig, handler, InSigintr(sig) ? 0 : SA_RESTART, true);
}

#ifndef SA_INTERRUPT
#define SA_INTERRUPT 0x20000000  // glibc's historical no-op flag
#endif

// signal() without _DEFAULT_SOURCE (-std=c11, _POSIX_C_SOURCE, ...),
// __sysv_signal, sysv_signal: reset on delivery, not masked, not restarted.
sighandler_t SysvSignal(int sig, sighandler_t handler) {
  if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  return Install(sig, handler,
                 (SA_RESETHAND | SA_NODEFER | SA_INTERRUPT) & ~SA_RESTART,
                 false);
}

sighandler_t Sigset(int sig, sighandler_t disp) {
  sigset_t set, oset;
  sigemptyset(&set);
  if (sigaddset(&set, sig) < 0) return SIG_ERR;
  if (disp == SIG_HOLD) {
    if (sigprocmask(SIG_BLOCK, &set, &oset) < 0) return SIG_ERR;
    if (sigismember(&oset, sig)) return SIG_HOLD;  // it was blocked already
    struct sigaction oact = {};
    if (WrappedSigaction(sig, nullptr, &oact) < 0) return SIG_ERR;
    return oact.sa_handler;
  }
  struct sigaction act = {}, oact = {};
  act.sa_handler = disp;
  sigemptyset(&act.sa_mask);
  act.sa_flags = 0;
  if (WrappedSigaction(sig, &act, &oact) < 0) return SIG_ERR;
  if (sigprocmask(SIG_UNBLOCK, &set, &oset) < 0) return SIG_ERR;
  return sigismember(&oset, sig) ? SIG_HOLD : oact.sa_handler;
}

int Siginterrupt(int sig, int interrupt) {
  struct sigaction action = {};
  if (WrappedSigaction(sig, nullptr, &action) < 0) return -1;
  const uint64_t bit = uint64_t{1} << (sig % 64);
  if (interrupt) {
    g_sigintr[sig / 64].fetch_or(bit, std::memory_order_relaxed);
    action.sa_flags &= ~SA_RESTART;
  } else {
    g_sigintr[sig / 64].fetch_and(~bit, std::memory_order_relaxed);
    action.sa_flags |= SA_RESTART;
  }
  if (WrappedSigaction(sig, &action, nullptr) < 0) return -1;
  return 0;
}

struct ThreadStart {
  void* (*fn)(void*);
  void* arg;
  uint64_t common_handle;
  ThreadStartHook hook;
};

// Written by SetThreadStartHook (release), read by pthread_create (acquire:
// pairs with it, so the hook's own set-up is visible to the new thread).
std::atomic<ThreadStartHook> g_thread_start_hook{nullptr};

void* ThreadTrampoline(void* p) {
  ThreadStart start = *static_cast<ThreadStart*>(p);
  delete static_cast<ThreadStart*>(p);
  if (start.common_handle != 0) {
    tls_state.common_handle = start.common_handle;
    g_counters.inherited_handles.fetch_add(1, std::memory_order_relaxed);
  }
  if (start.hook != nullptr) start.hook();
  return start.fn(start.arg);
}

}  // namespace

void SetThreadStartHook(ThreadStartHook hook) {
  g_thread_start_hook.store(hook, std::memory_order_release);
}

SigactionFn RealSigaction() {
  static const SigactionFn fn = Resolve<SigactionFn>(
      &__interceptor_sigaction, &StaticSigaction, "sigaction", &NoSigaction);
  return fn;
}

void LinkInterposers() { LinkExecInterposers(); }

}  // namespace remcov::internal

using remcov::internal::ThreadStart;

extern "C" {

// Every libc entry point that installs a handler (glibc 2.36's exported,
// linkable ones: sigvec is a compatibility symbol only).
REMCOV_EXPORT int sigaction(int sig, const struct sigaction* act,
                            struct sigaction* old) {
  return remcov::internal::WrappedSigaction(sig, act, old);
}

REMCOV_EXPORT int __sigaction(int sig, const struct sigaction* act,
                              struct sigaction* old) {
  return remcov::internal::WrappedSigaction(sig, act, old);
}

REMCOV_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  return remcov::internal::BsdSignal(sig, handler);
}

REMCOV_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) {
  return remcov::internal::BsdSignal(sig, handler);
}

REMCOV_EXPORT sighandler_t ssignal(int sig, sighandler_t handler) {
  return remcov::internal::BsdSignal(sig, handler);
}

REMCOV_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler) {
  return remcov::internal::SysvSignal(sig, handler);
}

REMCOV_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler) {
  return remcov::internal::SysvSignal(sig, handler);
}

REMCOV_EXPORT sighandler_t sigset(int sig, sighandler_t disp) {
  return remcov::internal::Sigset(sig, disp);
}

REMCOV_EXPORT int siginterrupt(int sig, int interrupt) {
  return remcov::internal::Siginterrupt(sig, interrupt);
}

REMCOV_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                 void* (*fn)(void*), void* arg) {
  const uint64_t handle = remcov::internal::tls_state.common_handle;
  const remcov::internal::ThreadStartHook hook =
      remcov::internal::g_thread_start_hook.load(std::memory_order_acquire);
  if (handle == 0 && hook == nullptr)
    return remcov::internal::RealPthreadCreate()(thread, attr, fn, arg);
  auto* start = new ThreadStart{fn, arg, handle, hook};
  int r = remcov::internal::RealPthreadCreate()(
      thread, attr, &remcov::internal::ThreadTrampoline, start);
  if (r != 0) delete start;
  return r;
}

}  // extern "C"
