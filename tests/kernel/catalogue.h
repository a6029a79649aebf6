// SPDX-License-Identifier: Apache-2.0
//
// A catalogue of KCOV call sequences, written against an abstract backend, with
// the expected results coded from the kernel's behaviour (Linux 6.1.192,
// kernel/kcov.c: kcov_mmap, kcov_ioctl and kcov_ioctl_locked for the errors
// and the state machine, kcov_task_exit and kcov_task_init for exit and fork,
// kcov_remote_start and kcov_remote_stop for remote sections). The same
// catalogue runs
//   - in the test VM against the real /sys/kernel/debug/kcov
//     (tests/kernel/kcov_conformance.cc), and
//   - on the host against remcov's in-process runtime (remcov_open/... have the
//     same signatures as the backend's function pointers),
// and produces a backend-independent transcript, so two transcripts can be
// diffed line by line:
//
//   STEP <case>/<step> ret=<r> errno=<NAME> [<fact>=<0|1> ...]
//   CASE <case> PASS|FAIL|SKIP <detail>
//
// ret is the call's return value for ioctl/close; for open and mmap it is
// normalised to 0 (success) or -1 (failure), since fds and addresses differ
// between backends. errno is 0 on success, else its symbolic name. Facts are
// booleans only (no raw counts or addresses), again so transcripts compare.
//
// Dependencies: C++20 standard library, pthreads, and the public header
// include/remcov/kcov_abi.h. Nothing else from the project.
#ifndef REMCOV_TESTS_KERNEL_CATALOGUE_H_
#define REMCOV_TESTS_KERNEL_CATALOGUE_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace remcov_catalogue {

// The device under test. The kernel backend wraps
// open("/sys/kernel/debug/kcov"), ioctl(2), mmap(2) and close(2); the runtime
// backend plugs in remcov_open, remcov_ioctl, remcov_mmap and remcov_close.
struct KcovBackend {
  int (*open)();
  int (*ioctl)(int fd, unsigned long cmd, unsigned long arg);
  void* (*mmap)(void* addr, size_t len, int prot, int flags, int fd, off_t off);
  int (*close)(int fd);
};

// Environment hooks. Every pointer may be null; cases that need a missing hook
// are reported as SKIP with the hook's name.
struct CatalogueHooks {
  const char* backend_name = "unknown";
  // Unmaps what backend.mmap returned; null means ::munmap.
  int (*munmap)(void* addr, size_t len) = nullptr;
  // Runs code that the backend covers in the *calling thread*: at least
  // `rounds` × a few dozen PCs, and some comparisons. Kernel: system calls.
  void (*exercise)(unsigned rounds) = nullptr;
  // Runs a remote section and returns only after it ended (0, or -1 with
  // errno).
  //   context: "kthread", "work", "softirq", "timer": run a whole section;
  //            "direct": run target d in the calling thread, no section;
  //            "hold": start a section (target b) that stays open, return;
  //            "release": end the held section and wait for it
  //   handle:  "common" (the calling thread's common handle) or "usb:<bus>"
  int (*remote_trigger)(const char* context, const char* handle) = nullptr;
  // True when pc lies inside the target the context runs: "a" (kthread),
  // "b" (work), "c" (softirq), "d" (direct), "e" (timer).
  bool (*pc_in_target)(uint64_t pc, char target) = nullptr;
  // The calling thread's common handle as the backend sees it (kernel:
  // kcov_common_handle() through the test module); 0 when it has none.
  uint64_t (*common_handle)() = nullptr;
  // The backend's state survives fork() as the kernel's does (the child
  // inherits the common handle, the MAP_SHARED buffer is shared).
  bool supports_fork = false;
  // Descriptors of a device inherited across fork name the same device, with
  // the kernel's owner rules (a child may enable a device its parent only
  // initialized; a device returns to INIT when its owner's process ends).
  bool devices_survive_fork = false;
  // A program the backend's process execs keeps its task state as the
  // kernel's does (the common handle, an enabled or remote-owned device, its
  // descriptors), and the program's main calls RunExecChild when its first
  // argument is kExecChildArg (the exec cases exec /proc/self/exe).
  bool supports_exec = false;
  // Seconds each case may take before the run is declared hung.
  unsigned case_timeout_s = 30;
};

enum class Status { kPass, kFail, kSkip };

struct CaseResult {
  std::string name;
  Status status = Status::kPass;
  std::string detail;  // first failed expectation, or the skip reason
};

// Receives each transcript line (no trailing newline), in order.
using LineSink = void (*)(const std::string& line, void* ctx);

// All case names, in run order.
std::vector<std::string> CaseNames();

// Runs the cases whose name contains `filter` (null or "" = all), each on a
// fresh thread. Returns one result per case run. If a case exceeds
// hooks.case_timeout_s, it is reported as FAIL "timeout" and the run stops
// there (the hung thread cannot be reclaimed).
std::vector<CaseResult> RunCatalogue(const KcovBackend& backend,
                                     const CatalogueHooks& hooks, LineSink sink,
                                     void* sink_ctx,
                                     const char* filter = nullptr);

// The first argument with which the exec cases start this binary again.
inline constexpr char kExecChildArg[] = "--catalogue-exec-child";

// The exec'd image's part of an exec case: argv is the new image's whole
// argv (argv[1] == kExecChildArg); returns its exit status (a bit set the
// case reads). The backend and hooks are set up as for RunCatalogue.
int RunExecChild(const KcovBackend& backend, const CatalogueHooks& hooks,
                 int argc, char** argv);

// "EINVAL", "EBUSY", ..., "ENOTSUPP" for 524, "0" for 0, else the number.
std::string ErrnoName(int err);

const char* StatusName(Status s);

}  // namespace remcov_catalogue

#endif  // REMCOV_TESTS_KERNEL_CATALOGUE_H_
