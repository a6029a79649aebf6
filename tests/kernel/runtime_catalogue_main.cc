// SPDX-License-Identifier: Apache-2.0
//
// Runs the KCOV catalogue (catalogue.h) against remcov's in-process runtime on
// the host: remcov_open/ioctl/mmap/close as the backend; the test module's
// services emulated in-process (kthread/work = a fresh thread running a target
// inside remcov_remote_start/stop; softirq/timer = a signal handler;
// hold/release = a thread blocked inside a section). Built and compared with
// the kernel's transcript by tests/kernel/CMakeLists.txt
// (conformance.runtime_vs_kernel); it exits 1 when a case fails.
//
// Its transcript (STEP/CASE lines) should equal the kernel's line for line.
#include "remcov/remcov.h"

#include "catalogue.h"
extern "C" unsigned long host_target_a(unsigned long),
    host_target_b(unsigned long), host_target_c(unsigned long),
    host_target_d(unsigned long), host_target_e(unsigned long);
extern "C" void host_target_end();
extern "C" void host_exercise(unsigned);
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
static volatile uint64_t g_sig_handle;
static volatile int g_sig_target;
static void OnSig(int) {
  remcov_remote_start(g_sig_handle);
  (g_sig_target == 'c' ? host_target_c : host_target_e)(5);
  remcov_remote_stop();
}
static std::mutex mu;
static std::condition_variable cv;
static bool started, released;
static uintptr_t addr(void* f) { return reinterpret_cast<uintptr_t>(f); }
static bool InTarget(uint64_t pc, char t) {
  void* fs[] = {(void*)host_target_a, (void*)host_target_b,
                (void*)host_target_c, (void*)host_target_d,
                (void*)host_target_e, (void*)host_target_end};
  int i = t - 'a';
  return pc >= addr(fs[i]) && pc < addr(fs[i + 1]);
}
static uint64_t ParseHandle(const char* h) {
  if (!strcmp(h, "common")) return remcov_common_handle();
  if (!strncmp(h, "usb:", 4))
    return remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB,
                                     strtoull(h + 4, nullptr, 10));
  return 0;
}
static std::thread* held;
static pid_t g_main_pid;
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REMCOV_CATALOGUE_TSAN 1
#endif
#endif
#if defined(REMCOV_CATALOGUE_TSAN) || defined(__SANITIZE_THREAD__)
constexpr bool kNoThreadsAfterFork = true;
#else
constexpr bool kNoThreadsAfterFork = false;
#endif
static int Trigger(const char* ctx, const char* h) {
  uint64_t handle = ParseHandle(h);
  std::string c = ctx;
  if (c == "direct") {
    host_target_d(7);
    return 0;
  }
  if (c == "task") {  // a remote section in the caller's own task
    remcov_remote_start(handle);
    host_target_d(9);
    remcov_remote_stop();
    return 0;
  }
  if (c == "kthread" || c == "work") {
    auto work = [&] {
      remcov_remote_start(handle);
      (c == "kthread" ? host_target_a : host_target_b)(9);
      remcov_remote_stop();
    };
    // TSan refuses new threads in the child of a multi-threaded process
    // (die_after_fork): there the work runs on the calling thread, still
    // inside its own remote section with the same handle.
    if (kNoThreadsAfterFork && getpid() != g_main_pid) {
      work();
      return 0;
    }
    std::thread t(work);
    t.join();
    return 0;
  }
  if (c == "softirq" || c == "timer") {
    g_sig_handle = handle;
    g_sig_target = c == "softirq" ? 'c' : 'e';
    std::thread t([] {
      signal(SIGUSR1, OnSig);
      pthread_kill(pthread_self(), SIGUSR1);
    });
    t.join();
    return 0;
  }
  if (c == "hold") {
    if (held) {
      errno = EBUSY;
      return -1;
    }
    started = released = false;
    held = new std::thread([handle] {
      remcov_remote_start(handle);
      host_target_b(1);
      {
        std::unique_lock<std::mutex> l(mu);
        started = true;
        cv.notify_all();
        cv.wait(l, [] { return released; });
      }
      host_target_b(2);
      remcov_remote_stop();
    });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [] { return started; });
    return 0;
  }
  if (c == "release") {
    if (!held) {
      errno = ENOENT;
      return -1;
    }
    {
      std::lock_guard<std::mutex> l(mu);
      released = true;
      cv.notify_all();
    }
    held->join();
    delete held;
    held = nullptr;
    return 0;
  }
  errno = ENOSYS;
  return -1;
}
int main(int argc, char** argv) {
  g_main_pid = getpid();
  remcov_catalogue::KcovBackend b{remcov_open, remcov_ioctl, remcov_mmap,
                                  remcov_close};
  remcov_catalogue::CatalogueHooks h;
  h.backend_name = "remcov-runtime";
  h.exercise = host_exercise;
  // Devices are one object across fork (their state is in the memfd), and a
  // child's sections with inherited handles reach its parent's devices.
  h.devices_survive_fork = true;
  h.supports_fork = true;
  h.remote_trigger = Trigger;
  h.pc_in_target = InTarget;
  h.common_handle = remcov_common_handle;
  h.supports_exec = true;
  h.case_timeout_s = 20;
  if (argc > 1 && strcmp(argv[1], remcov_catalogue::kExecChildArg) == 0)
    return remcov_catalogue::RunExecChild(b, h, argc, argv);
  auto r = remcov_catalogue::RunCatalogue(
      b, h, [](const std::string& l, void*) { puts(l.c_str()); }, nullptr,
      argc > 1 ? argv[1] : nullptr);
  int f = 0;
  for (auto& x : r)
    if (x.status == remcov_catalogue::Status::kFail) f++;
  printf("SUMMARY cases=%zu failures=%d\n", r.size(), f);
  return f ? 1 : 0;
}
