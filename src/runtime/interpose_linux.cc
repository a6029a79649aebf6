// SPDX-License-Identifier: Apache-2.0
// Interposed libc functions: signal-handler installation (sigaction, signal)
// and thread creation (pthread_create).
//
// * Handlers are wrapped in a trampoline that folds "in a signal handler" into
//   the thread's mode word (kModeInIrq) for the handler's duration, so code in
//   a handler records nothing unless it opens a remote section, as the kernel
//   records nothing in interrupt context. The trampoline also ends a section a
//   handler left open.
// * Threads created by a thread that holds a common handle inherit it, as the
//   kernel copies kcov_handle at fork: plain pthread_create and std::thread in
//   code that includes no remcov header get it.
//
// Cooperation with sanitizers: ASan and TSan intercept the same functions. The
// real implementation is looked up as the sanitizer's __interceptor_<name> when
// present (weak reference), else with dlsym(RTLD_NEXT), so their bookkeeping
// (TSan defers signal delivery to safe points) stays intact.
//
// Thread safety: all entry points are thread-safe. Signal safety: the
// trampoline is; sigaction/signal/pthread_create are not (as in libc).
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>

#include "remcov/export.h"

#include "base/raw_check.h"
#include "runtime/device.h"
#include "runtime/thread_state.h"

extern "C" {
// The sanitizers' interceptors (LLVM <= 16 and gcc 12 naming); null without
// one.
int __interceptor_sigaction(int, const struct sigaction*, struct sigaction*)
    __attribute__((weak));
int __interceptor_pthread_create(pthread_t*, const pthread_attr_t*,
                                 void* (*)(void*), void*) __attribute__((weak));
}

namespace remcov::internal {
namespace {

using SigactionFn = int (*)(int, const struct sigaction*, struct sigaction*);
using PthreadCreateFn = int (*)(pthread_t*, const pthread_attr_t*,
                                void* (*)(void*), void*);

SigactionFn RealSigaction() {
  static SigactionFn fn = [] {
    if (&__interceptor_sigaction != nullptr) return &__interceptor_sigaction;
    auto f = reinterpret_cast<SigactionFn>(dlsym(RTLD_NEXT, "sigaction"));
    REMCOV_RAW_CHECK(f != nullptr);
    return f;
  }();
  return fn;
}

PthreadCreateFn RealPthreadCreate() {
  static PthreadCreateFn fn = [] {
    if (&__interceptor_pthread_create != nullptr)
      return &__interceptor_pthread_create;
    auto f =
        reinterpret_cast<PthreadCreateFn>(dlsym(RTLD_NEXT, "pthread_create"));
    REMCOV_RAW_CHECK(f != nullptr);
    return f;
  }();
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
  t.irq_depth++;
  StoreModeRelaxed(t, mode | kModeInIrq);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  void* fn = g_handlers[sig].fn.load(std::memory_order_acquire);
  if (g_handlers[sig].flags.load(std::memory_order_relaxed) & SA_SIGINFO) {
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(fn)(sig, info, uc);
  } else {
    reinterpret_cast<void (*)(int)>(fn)(sig);
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  EndSignalSection(t);
  t.irq_depth--;
  StoreModeRelaxed(t, mode);
}

bool IsRealHandler(void* fn) {
  return fn != reinterpret_cast<void*>(SIG_DFL) &&
         fn != reinterpret_cast<void*>(SIG_IGN) && fn != nullptr;
}

// Rewrites an old action that shows our trampoline into the user's handler.
void RestoreUserView(int sig, struct sigaction* old, void* prev_fn,
                     int prev_flags) {
  if (old == nullptr) return;
  if (reinterpret_cast<void*>(old->sa_sigaction) !=
      reinterpret_cast<void*>(&Trampoline))
    return;
  old->sa_flags = prev_flags;
  if (prev_flags & SA_SIGINFO) {
    old->sa_sigaction =
        reinterpret_cast<void (*)(int, siginfo_t*, void*)>(prev_fn);
  } else {
    old->sa_handler = reinterpret_cast<void (*)(int)>(prev_fn);
  }
  (void)sig;
}

int WrappedSigaction(int sig, const struct sigaction* act,
                     struct sigaction* old) {
  if (sig <= 0 || sig >= NSIG) return RealSigaction()(sig, act, old);
  void* prev_fn = g_handlers[sig].fn.load(std::memory_order_relaxed);
  int prev_flags = g_handlers[sig].flags.load(std::memory_order_relaxed);
  if (act == nullptr) {
    int r = RealSigaction()(sig, nullptr, old);
    if (r == 0) RestoreUserView(sig, old, prev_fn, prev_flags);
    return r;
  }
  void* fn = (act->sa_flags & SA_SIGINFO)
                 ? reinterpret_cast<void*>(act->sa_sigaction)
                 : reinterpret_cast<void*>(act->sa_handler);
  if (!IsRealHandler(fn)) {
    int r = RealSigaction()(sig, act, old);
    if (r == 0) RestoreUserView(sig, old, prev_fn, prev_flags);
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
  RestoreUserView(sig, old, prev_fn, prev_flags);
  return 0;
}

struct ThreadStart {
  void* (*fn)(void*);
  void* arg;
  uint64_t common_handle;
};

void* ThreadTrampoline(void* p) {
  ThreadStart start = *static_cast<ThreadStart*>(p);
  delete static_cast<ThreadStart*>(p);
  tls_state.common_handle = start.common_handle;
  g_counters.inherited_handles.fetch_add(1, std::memory_order_relaxed);
  return start.fn(start.arg);
}

}  // namespace

void LinkInterposers() {}

}  // namespace remcov::internal

using remcov::internal::ThreadStart;

extern "C" {

REMCOV_EXPORT int sigaction(int sig, const struct sigaction* act,
                            struct sigaction* old) {
  return remcov::internal::WrappedSigaction(sig, act, old);
}

REMCOV_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  // glibc's signal() has BSD semantics: restart system calls, do not reset.
  struct sigaction act = {};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, sig);
  act.sa_flags = SA_RESTART;
  struct sigaction old = {};
  if (remcov::internal::WrappedSigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

REMCOV_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                 void* (*fn)(void*), void* arg) {
  const uint64_t handle = remcov::internal::tls_state.common_handle;
  if (handle == 0)
    return remcov::internal::RealPthreadCreate()(thread, attr, fn, arg);
  auto* start = new ThreadStart{fn, arg, handle};
  int r = remcov::internal::RealPthreadCreate()(
      thread, attr, &remcov::internal::ThreadTrampoline, start);
  if (r != 0) delete start;
  return r;
}

}  // extern "C"
