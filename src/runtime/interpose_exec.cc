// SPDX-License-Identifier: Apache-2.0
// Interposed libc functions that start a program image: the exec family
// (execve, execv, execvp, execvpe, execl, execlp, execle, fexecve,
// execveat), posix_spawn, posix_spawnp, system and popen (with pclose).
//
// The kernel copies the calling task's kcov_handle into every task it
// creates (kernel/fork.c, copy_process -> kcov_task_init) and exec keeps it,
// whatever the new program's environment. The runtime carries a common
// handle into a new image through an environment entry (domain.h,
// kInheritedHandleEnv); a fork child has it in `environ` already
// (remote.cc, ExportCommonHandle). These definitions set it in the
// environment each call passes on, whichever it is: to the calling thread's
// common handle (remote.cc, CommonHandleEntryValue), or removed when the
// thread has none to carry, so that an explicit environment (execve,
// execle, execvpe, fexecve, execveat, posix_spawn), a vfork child's exec on
// its parent's `environ`, and a posix_spawn, system() or popen run from the
// thread that holds the handle give the new image exactly the handle the
// kernel would. They pass on the process's family domain the same
// way (domain.h, kFamilyDomainEnv, with its descriptor left inheritable for
// the call), so the new image shares its starter's handle table, as every task
// shares the kernel's. An exec without a new process does not carry this
// process's own registration as a common handle: the exec ends the
// process's other threads, the owner among them, and with it the
// registration, as in the kernel; the owner's own image takes its
// registration back from the device instead (device.cc, AdoptIfOwned),
// which the exec prepares (device.h, PrepareExec). glibc's own callers use
// internal names no interposer reaches (execv calls __execve, system and
// popen __posix_spawn), hence one definition per public entry point.
//
// * No allocation and no lock on the exec paths: a vfork child runs them on
//   its parent's memory (PrepareExec only tries locks, and does nothing
//   there). The rewritten environment is on the stack, or mapped when it
//   has more entries than kStackEntries; when that mapping fails the
//   environment is passed on as given and `exec_environment_failures`
//   counts it.
// * system() is glibc's (sysdeps/posix/system.c) unless the environment
//   needs the runtime's entries changed (in a process with a family domain,
//   always) or the program is static; then the runtime runs the command the
//   same way (`/bin/sh -c -- LINE` through posix_spawn,
//   SIGINT and SIGQUIT ignored and SIGCHLD blocked in the caller while it
//   runs, the child killed when the calling thread is cancelled), with the
//   rewritten environment. Its count of running calls is its own: a glibc
//   system() that overlaps one of these in another thread may restore
//   SIGINT and SIGQUIT early.
// * popen and pclose are the runtime's own, always (glibc's cannot be given
//   an environment, and the streams of both kinds would need each other's
//   list: a popen child closes the streams earlier popen calls opened):
//   glibc's algorithm (libio/iopopen.c: `/bin/sh -c -- COMMAND` through
//   posix_spawn, the pipe's other end on its standard input or output, the
//   earlier streams closed in the child, modes "r", "w" and "e" for
//   close-on-exec), with the carried environment.
//
// Real implementations as interpose.h finds them; in a static program
// __execve, __execvpe, __posix_spawn and __spawni, linked by the static
// runtime's options (below), and the runtime's own system(). fexecve and
// execveat are the system calls themselves (glibc's are too, with fexecve's
// /proc fallback).
//
// Thread safety: as the functions they replace. The exec family is
// async-signal-safe as glibc's (execve is; the others are not required to
// be).
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <new>

#include "remcov/export.h"

#include "base/raw_check.h"
#include "runtime/device.h"
#include "runtime/domain.h"
#include "runtime/interpose.h"
#include "runtime/thread_state.h"

extern "C" {
int __interceptor_posix_spawn(pid_t*, const char*,
                              const posix_spawn_file_actions_t*,
                              const posix_spawnattr_t*, char* const*,
                              char* const*) __attribute__((weak));
int __interceptor_posix_spawnp(pid_t*, const char*,
                               const posix_spawn_file_actions_t*,
                               const posix_spawnattr_t*, char* const*,
                               char* const*) __attribute__((weak));
// glibc's internal names, defined only in a static program (interpose.h).
// The link options' -Wl,--undefined=_IO_new_proc_open links libc.a's
// iopopen.o (whose popen the runtime's replaces), which calls __posix_spawn
// (spawn.o), which calls __spawni (spawni.o), which calls __execve and
// __execvpex (execve.o; execvpe.o, with __execvpe). A -Wl,--undefined= of
// these names themselves would meet the hidden references in a dynamic
// link, where nothing defines them, and fail it.
int __execve(const char*, char* const*, char* const*)
    __attribute__((weak, visibility("hidden")));
int __execvpe(const char*, char* const*, char* const*)
    __attribute__((weak, visibility("hidden")));
int __posix_spawn(pid_t*, const char*, const posix_spawn_file_actions_t*,
                  const posix_spawnattr_t*, char* const*, char* const*)
    __attribute__((weak, visibility("hidden")));
// posix_spawn is __spawni(..., 0) and posix_spawnp __spawni(...,
// SPAWN_XFLAGS_USE_PATH) (glibc 2.36, posix/spawn.c, posix/spawnp.c).
int __spawni(pid_t*, const char*, const posix_spawn_file_actions_t*,
             const posix_spawnattr_t*, char* const*, char* const*, int)
    __attribute__((weak, visibility("hidden")));
}

namespace remcov::internal {
namespace {

using ExecveFn = int (*)(const char*, char* const*, char* const*);
using SpawnFn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                        const posix_spawnattr_t*, char* const*, char* const*);
using SystemFn = int (*)(const char*);

int RawExecve(const char* path, char* const* argv, char* const* envp) {
  return static_cast<int>(syscall(SYS_execve, path, argv, envp));
}

int NoExecvpe(const char*, char* const*, char* const*) {
  errno = ENOSYS;
  return -1;
}

int NoSpawn(pid_t*, const char*, const posix_spawn_file_actions_t*,
            const posix_spawnattr_t*, char* const*, char* const*) {
  return ENOSYS;
}

ExecveFn RealExecve() {
  static const ExecveFn fn =
      Resolve<ExecveFn>(nullptr, &__execve, "execve", &RawExecve);
  return fn;
}

ExecveFn RealExecvpe() {
  static const ExecveFn fn =
      Resolve<ExecveFn>(nullptr, &__execvpe, "execvpe", &NoExecvpe);
  return fn;
}

SpawnFn RealPosixSpawn() {
  static const SpawnFn fn = Resolve<SpawnFn>(
      &__interceptor_posix_spawn, &__posix_spawn, "posix_spawn", &NoSpawn);
  return fn;
}

int StaticPosixSpawnp(pid_t* pid, const char* file,
                      const posix_spawn_file_actions_t* actions,
                      const posix_spawnattr_t* attr, char* const* argv,
                      char* const* envp) {
  constexpr int kSpawnUsePath = 1;  // glibc's SPAWN_XFLAGS_USE_PATH
  return __spawni(pid, file, actions, attr, argv, envp, kSpawnUsePath);
}

SpawnFn RealPosixSpawnp() {
  static const SpawnFn fn =
      Resolve<SpawnFn>(&__interceptor_posix_spawnp,
                       &__spawni != nullptr ? &StaticPosixSpawnp : nullptr,
                       "posix_spawnp", &NoSpawn);
  return fn;
}

int OwnSystem(const char* line);

// In a static program, and without glibc, the runtime's own (libc.a's is
// reachable only as
// __libc_system, which libc.so.6 exports as GLIBC_PRIVATE: no reference to
// it can be made safely in a dynamic link).
SystemFn RealSystem() {
  static const SystemFn fn =
      Resolve<SystemFn>(nullptr, &OwnSystem, "system", &OwnSystem);
  return fn;
}

// Resolved before main, so that a vfork child never runs dlsym.
__attribute__((constructor)) void ResolveExecFamily() {
  ErrnoSaver errno_saver;
  (void)RealExecve();
  (void)RealExecvpe();
  (void)RealPosixSpawn();
  (void)RealPosixSpawnp();
  (void)RealSystem();
}

// Pointer arrays up to this many entries (the NULL included) live on the
// stack; longer ones are mapped.
constexpr size_t kStackEntries = 256;

// A NULL-terminated array of n pointers and the NULL: on the stack, or
// mapped (never malloc: a vfork child's exec runs on its parent's heap).
// ok() is false when the mapping failed.
class PointerArray {
 public:
  explicit PointerArray(size_t n) : n_(n) {
    if (n + 1 <= kStackEntries) {
      p_ = stack_;
    } else {
      bytes_ = (n + 1) * sizeof(char*);
      void* m = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      p_ = m == MAP_FAILED ? nullptr : static_cast<char**>(m);
    }
    if (p_ != nullptr) p_[n] = nullptr;
  }
  ~PointerArray() {
    ErrnoSaver errno_saver;
    if (bytes_ != 0 && p_ != nullptr) munmap(p_, bytes_);
  }
  PointerArray(const PointerArray&) = delete;
  PointerArray& operator=(const PointerArray&) = delete;

  bool ok() const { return p_ != nullptr; }
  size_t size() const { return n_; }
  char*& operator[](size_t i) { return p_[i]; }
  char** get() { return p_; }

 private:
  size_t n_;
  size_t bytes_ = 0;
  char** p_ = nullptr;
  char* stack_[kStackEntries];
};

// The runtime's entries a new image gets (domain.h): the calling thread's
// common handle and the process's family domain.
enum Managed { kHandleEntry, kDomainEntry, kManaged };
constexpr const char* kManagedNames[kManaged] = {kInheritedHandleEnv,
                                                 kFamilyDomainEnv};

// Which of them the environment line e sets, or kManaged.
int ManagedEntry(const char* e) {
  for (int k = 0; k < kManaged; k++) {
    const size_t len = strlen(kManagedNames[k]);
    if (strncmp(e, kManagedNames[k], len) == 0 && e[len] == '=') return k;
  }
  return kManaged;
}

// The environment to pass on: `envp` with the runtime's entries set to the
// calling thread's common handle and the process's family domain (each
// removed when there is none to carry). `envp` itself when it is right
// already, and when the new array cannot be made (counted).
class CarriedEnvironment {
 public:
  CarriedEnvironment(char* const* envp, bool new_process)
      : envp_(envp), array_(Size(envp, new_process)) {
    if (!rewrite_) return;
    if (!array_.ok()) {
      rewrite_ = false;
      failed_ = true;
      g_counters.exec_environment_failures.fetch_add(1,
                                                     std::memory_order_relaxed);
      return;
    }
    size_t out = 0;
    for (size_t i = 0; envp != nullptr && envp[i] != nullptr; i++)
      if (ManagedEntry(envp[i]) == kManaged) array_[out++] = envp[i];
    for (Entry& e : entries_)
      if (e.carry) array_[out++] = e.line;
    array_[out] = nullptr;
  }
  CarriedEnvironment(const CarriedEnvironment&) = delete;
  CarriedEnvironment& operator=(const CarriedEnvironment&) = delete;

  char* const* get() { return rewrite_ ? array_.get() : envp_; }
  // True when get() differs from what the caller gave.
  bool rewritten() const { return rewrite_; }
  // True when get() names the domain's descriptor, which the new
  // image must then inherit.
  bool carries_domain() const {
    return entries_[kDomainEntry].carry && !failed_;
  }

 private:
  struct Entry {
    char line[sizeof kInheritedHandleEnv + kInheritedHandleTextMax];
    bool carry = false;
  };
  static_assert(sizeof kFamilyDomainEnv + kFamilyDomainTextMax <=
                sizeof Entry::line);

  // Formats the entries, decides whether envp needs rewriting, and returns
  // the new array's size (0 when not).
  size_t Size(char* const* envp, bool new_process) {
    for (int k = 0; k < kManaged; k++) {
      Entry& e = entries_[k];
      const size_t len = strlen(kManagedNames[k]);
      memcpy(e.line, kManagedNames[k], len);
      e.line[len] = '=';
      char* value = e.line + len + 1;
      const size_t room = sizeof e.line - len - 1;
      e.carry = (k == kHandleEntry ? CommonHandleEntryValue(
                                         tls_state, new_process, value, room)
                                   : FamilyDomainEntryValue(value, room)) != 0;
    }
    size_t n = 0;
    size_t present[kManaged] = {};
    bool same[kManaged] = {};
    for (; envp != nullptr && envp[n] != nullptr; n++) {
      const int k = ManagedEntry(envp[n]);
      if (k == kManaged) continue;
      present[k]++;
      same[k] = strcmp(envp[n], entries_[k].line) == 0;
    }
    size_t size = n;
    for (int k = 0; k < kManaged; k++) {
      if (entries_[k].carry ? !(present[k] == 1 && same[k]) : present[k] != 0)
        rewrite_ = true;
      size = size - present[k] + (entries_[k].carry ? 1 : 0);
    }
    return rewrite_ ? size : 0;
  }

  Entry entries_[kManaged];
  bool rewrite_ = false;
  bool failed_ = false;
  char* const* envp_;
  PointerArray array_;
};

// The devices this process owns, around an exec without a new process
// (device.h, PrepareExec): the calling task keeps its own, the others end.
// The domain's descriptor, when the environment names it, survives
// the exec (close-on-exec again when the exec failed). In a vfork child the
// descriptor table is the child's own copy.
class PreparedExec {
 public:
  explicit PreparedExec(const CarriedEnvironment& env)
      : domain_fd_(env.carries_domain() ? FamilyDomainDescriptor() : -1) {
    PrepareExec(tls_state);
    if (domain_fd_ >= 0) fcntl(domain_fd_, F_SETFD, 0);
  }
  ~PreparedExec() {  // only reached when exec failed
    ErrnoSaver errno_saver;
    if (domain_fd_ >= 0) fcntl(domain_fd_, F_SETFD, FD_CLOEXEC);
    ExecFailed(tls_state);
  }
  PreparedExec(const PreparedExec&) = delete;
  PreparedExec& operator=(const PreparedExec&) = delete;

 private:
  int domain_fd_;
};

// The same around a spawn (posix_spawn, system, popen): the child is made
// (clone, copying the descriptor table) while the parent's threads go on,
// so the descriptor stays inheritable while any spawn is in progress.
std::mutex g_spawn_mu;
size_t g_spawns = 0;  // guarded by g_spawn_mu

class SpawnDomain {
 public:
  explicit SpawnDomain(const CarriedEnvironment& env)
      : domain_fd_(env.carries_domain() ? FamilyDomainDescriptor() : -1) {
    if (domain_fd_ < 0) return;
    std::lock_guard<std::mutex> lock(g_spawn_mu);
    if (g_spawns++ == 0) fcntl(domain_fd_, F_SETFD, 0);
  }
  ~SpawnDomain() {
    if (domain_fd_ < 0) return;
    ErrnoSaver errno_saver;
    std::lock_guard<std::mutex> lock(g_spawn_mu);
    if (--g_spawns == 0) fcntl(domain_fd_, F_SETFD, FD_CLOEXEC);
  }
  SpawnDomain(const SpawnDomain&) = delete;
  SpawnDomain& operator=(const SpawnDomain&) = delete;

 private:
  int domain_fd_;
};

// A spawn's environment: the process makes its family domain first, as a
// fork does (domain.h, EnsureFamilyDomain), so the new process shares its
// handle table.
class SpawnEnvironment {
 public:
  explicit SpawnEnvironment(char* const* envp)
      : env_((EnsureFamilyDomain(), envp), true), domain_(env_) {}
  char* const* get() { return env_.get(); }
  bool rewritten() const { return env_.rewritten(); }

 private:
  CarriedEnvironment env_;
  SpawnDomain domain_;
};

int Execve(const char* path, char* const* argv, char* const* envp) {
  CarriedEnvironment env(envp, false);
  PreparedExec prepared(env);
  return RealExecve()(path, argv, env.get());
}

int Execvpe(const char* file, char* const* argv, char* const* envp) {
  CarriedEnvironment env(envp, false);
  PreparedExec prepared(env);
  return RealExecvpe()(file, argv, env.get());
}

// execveat(2) with the environment carried; fexecve is execveat(fd, "",
// AT_EMPTY_PATH) with glibc's fallback to /proc/self/fd/FD (io/fexecve.c).
int Execveat(int dirfd, const char* path, char* const* argv, char* const* envp,
             int flags, bool fexecve) {
  CarriedEnvironment env(envp, false);
  PreparedExec prepared(env);
  syscall(SYS_execveat, dirfd, path, argv, env.get(), flags);
  if (!fexecve || errno != ENOSYS) return -1;
  char proc[32] = "/proc/self/fd/";
  char digits[12];
  size_t n = 0;
  for (unsigned v = static_cast<unsigned>(dirfd); n == 0 || v != 0; v /= 10)
    digits[n++] = static_cast<char>('0' + v % 10);
  size_t len = strlen(proc);
  while (n > 0) proc[len++] = digits[--n];
  proc[len] = '\0';
  RealExecve()(proc, argv, env.get());
  // No /proc: the kernel has no execveat either (glibc's answer).
  struct stat st;
  if (errno == ENOENT && stat("/proc/self/fd", &st) != 0) errno = ENOSYS;
  return -1;
}

// An argument list given as varargs after `first`, up to the NULL; for
// execle, `*envp` is set to the pointer after the NULL.
class VarArgv {
 public:
  VarArgv(const char* first, va_list ap, size_t n) : argv_(n) {
    if (!argv_.ok()) return;
    argv_[0] = const_cast<char*>(first);
    for (size_t i = 1; i < n; i++) argv_[i] = va_arg(ap, char*);
  }
  bool ok() const { return argv_.ok(); }
  char* const* get() { return argv_.get(); }

 private:
  PointerArray argv_;
};

// The number of arguments, `first` included, before the NULL; with `envp`,
// the pointer after the NULL too (execle). Reads `ap` to its end: a
// va_list another function read is not read again by its caller.
size_t CountArgs(const char* first, va_list ap, char* const** envp) {
  size_t n = first != nullptr ? 1 : 0;
  if (first != nullptr)
    while (va_arg(ap, char*) != nullptr) n++;
  if (envp != nullptr) *envp = va_arg(ap, char* const*);
  return n;
}

enum class ExecListKind {
  kPath,     // execl: a path, environ
  kFile,     // execlp: a file searched in PATH, environ
  kPathEnv,  // execle: a path, the environment after the NULL
};

// execl, execlp and execle: the arguments after `arg` (read twice: `count`
// and `fill` are copies of one va_list) as an argv array.
int ExecList(ExecListKind kind, const char* target, const char* arg,
             va_list count, va_list fill) {
  char* const* envp = environ;
  const size_t n =
      CountArgs(arg, count, kind == ExecListKind::kPathEnv ? &envp : nullptr);
  VarArgv argv(arg, fill, n);
  if (!argv.ok()) {
    errno = E2BIG;
    return -1;
  }
  return kind == ExecListKind::kFile ? Execvpe(target, argv.get(), envp)
                                     : Execve(target, argv.get(), envp);
}

// ---- system() ----

// The running calls' shared signal state (glibc's sa_refcntr, intr, quit).
std::mutex g_system_mu;
size_t g_system_calls = 0;
struct sigaction g_system_intr;
struct sigaction g_system_quit;

// Ignores SIGINT and SIGQUIT for the first running call; returns the
// dispositions they had.
void SystemSignalsEnter(struct sigaction* intr, struct sigaction* quit) {
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  std::lock_guard<std::mutex> lock(g_system_mu);
  if (g_system_calls++ == 0) {
    RealSigaction()(SIGINT, &ignore, &g_system_intr);
    RealSigaction()(SIGQUIT, &ignore, &g_system_quit);
  }
  *intr = g_system_intr;
  *quit = g_system_quit;
}

// Restores them after the last one.
void SystemSignalsLeave() {
  std::lock_guard<std::mutex> lock(g_system_mu);
  if (--g_system_calls == 0) {
    RealSigaction()(SIGINT, &g_system_intr, nullptr);
    RealSigaction()(SIGQUIT, &g_system_quit, nullptr);
  }
}

// Ends a call: kills the shell when the thread was cancelled while waiting
// (glibc's cancel_handler), restores the signals and the mask.
class SystemCall {
 public:
  explicit SystemCall(const sigset_t& mask) : mask_(mask) {}
  ~SystemCall() {
    ErrnoSaver errno_saver;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    SystemSignalsLeave();
    pthread_sigmask(SIG_SETMASK, &mask_, nullptr);
  }
  SystemCall(const SystemCall&) = delete;
  SystemCall& operator=(const SystemCall&) = delete;

  void Running(pid_t pid) { pid_ = pid; }
  void Reaped() { pid_ = 0; }

 private:
  sigset_t mask_;
  pid_t pid_ = 0;
};

// glibc's do_system (sysdeps/posix/system.c) with the environment `envp`.
int SystemWith(const char* line, char* const* envp) {
  struct sigaction intr, quit;
  SystemSignalsEnter(&intr, &quit);
  sigset_t block, mask;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &block, &mask);
  SystemCall call(mask);
  sigset_t reset;
  sigemptyset(&reset);
  if (intr.sa_handler != SIG_IGN) sigaddset(&reset, SIGINT);
  if (quit.sa_handler != SIG_IGN) sigaddset(&reset, SIGQUIT);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                        const_cast<char*>("--"), const_cast<char*>(line),
                        nullptr};
  pid_t pid = 0;
  const int err = RealPosixSpawn()(&pid, "/bin/sh", nullptr, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    errno = err;
    return 127 << 8;  // W_EXITCODE(127, 0): the shell could not run
  }
  call.Running(pid);
  int status;
  while (waitpid(pid, &status, 0) < 0) {  // a cancellation point
    if (errno != EINTR) {
      status = -1;
      break;
    }
  }
  call.Reaped();
  return status;
}

int SystemIn(const char* line, char* const* envp) {
  // system(NULL): is a shell there?
  if (line == nullptr) return SystemWith("exit 0", envp) == 0;
  return SystemWith(line, envp);
}

int OwnSystem(const char* line) { return SystemIn(line, environ); }

int System(const char* line) {
  SpawnEnvironment env(environ);
  if (!env.rewritten()) return RealSystem()(line);
  return SystemIn(line, env.get());
}

// ---- popen() and pclose() ----

// A stream popen returned, and its shell.
struct PopenStream {
  FILE* stream;
  pid_t pid;
  PopenStream* next;
};
// The open streams (glibc's proc_file_chain): a new shell closes theirs.
std::mutex g_popen_mu;
PopenStream* g_popen_streams = nullptr;

FILE* Popen(const char* command, const char* mode) {
  bool read = false, write = false, cloexec = false;
  for (const char* m = mode; *m != '\0'; m++) {
    switch (*m) {
      case 'r':
        read = true;
        break;
      case 'w':
        write = true;
        break;
      case 'e':
        cloexec = true;
        break;
      default:
        errno = EINVAL;
        return nullptr;
    }
  }
  if (read == write) {
    errno = EINVAL;
    return nullptr;
  }
  auto* entry = new (std::nothrow) PopenStream{nullptr, 0, nullptr};
  if (entry == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    delete entry;
    return nullptr;
  }
  // The shell's end becomes its standard output (r) or input (w).
  const int child_end = read ? fds[1] : fds[0];
  const int parent_end = read ? fds[0] : fds[1];
  FILE* stream = fdopen(parent_end, read ? "r" : "w");
  if (stream == nullptr) {
    ErrnoSaver errno_saver;
    close(fds[0]);
    close(fds[1]);
    delete entry;
    return nullptr;
  }
  SpawnEnvironment env(environ);
  char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                        const_cast<char*>("--"), const_cast<char*>(command),
                        nullptr};
  posix_spawn_file_actions_t actions;
  int err = posix_spawn_file_actions_init(&actions);
  pid_t pid = 0;
  {
    std::lock_guard<std::mutex> lock(g_popen_mu);
    // dup2 onto itself clears close-on-exec (glibc's posix_spawn).
    if (err == 0)
      err = posix_spawn_file_actions_adddup2(
          &actions, child_end, read ? STDOUT_FILENO : STDIN_FILENO);
    for (PopenStream* p = g_popen_streams; p != nullptr && err == 0;
         p = p->next) {
      const int fd = fileno(p->stream);
      if (fd >= 0 && fd != child_end)
        err = posix_spawn_file_actions_addclose(&actions, fd);
    }
    if (err == 0)
      err =
          RealPosixSpawn()(&pid, "/bin/sh", &actions, nullptr, argv, env.get());
    if (err == 0) {
      *entry = PopenStream{stream, pid, g_popen_streams};
      g_popen_streams = entry;
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  close(child_end);
  if (err != 0) {
    fclose(stream);
    delete entry;
    errno = err;
    return nullptr;
  }
  if (!cloexec) fcntl(parent_end, F_SETFD, 0);
  return stream;
}

int Pclose(FILE* stream) {
  PopenStream* entry = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_popen_mu);
    for (PopenStream** p = &g_popen_streams; *p != nullptr; p = &(*p)->next) {
      if ((*p)->stream == stream) {
        entry = *p;
        *p = entry->next;
        break;
      }
    }
  }
  if (entry == nullptr) {
    // Not a stream popen opened (undefined in POSIX): glibc closes it.
    fclose(stream);
    errno = ECHILD;
    return -1;
  }
  const pid_t pid = entry->pid;
  delete entry;
  fclose(stream);
  int status;
  while (waitpid(pid, &status, 0) < 0) {  // a cancellation point
    if (errno != EINTR) return -1;
  }
  return status;
}

// The mutexes around fork: a child forked while another thread held one
// would otherwise wait forever in its first system() or popen.
void LockForFork() {
  g_system_mu.lock();
  g_popen_mu.lock();
  g_spawn_mu.lock();
}
void UnlockAfterFork() {
  g_spawn_mu.unlock();
  g_popen_mu.unlock();
  g_system_mu.unlock();
}
void ResetAfterFork() {
  new (&g_system_mu) std::mutex();
  new (&g_popen_mu) std::mutex();
  new (&g_spawn_mu) std::mutex();
}
__attribute__((constructor)) void RegisterForkHandlers() {
  REMCOV_RAW_CHECK(
      pthread_atfork(LockForFork, UnlockAfterFork, ResetAfterFork) == 0);
}

}  // namespace

void LinkExecInterposers() {}

}  // namespace remcov::internal

using remcov::internal::ExecList;
using remcov::internal::ExecListKind;

extern "C" {

REMCOV_EXPORT int execve(const char* path, char* const argv[],
                         char* const envp[]) {
  return remcov::internal::Execve(path, argv, envp);
}

REMCOV_EXPORT int execv(const char* path, char* const argv[]) {
  return remcov::internal::Execve(path, argv, environ);
}

REMCOV_EXPORT int execvpe(const char* file, char* const argv[],
                          char* const envp[]) {
  return remcov::internal::Execvpe(file, argv, envp);
}

REMCOV_EXPORT int execvp(const char* file, char* const argv[]) {
  return remcov::internal::Execvpe(file, argv, environ);
}

REMCOV_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  if (fd < 0 || envp == nullptr) {
    errno = EINVAL;
    return -1;
  }
  return remcov::internal::Execveat(fd, "", argv, envp, AT_EMPTY_PATH, true);
}

REMCOV_EXPORT int execveat(int dirfd, const char* path, char* const argv[],
                           char* const envp[], int flags) {
  return remcov::internal::Execveat(dirfd, path, argv, envp, flags, false);
}

REMCOV_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list count, fill;
  va_start(count, arg);
  va_copy(fill, count);
  const int r = ExecList(ExecListKind::kPath, path, arg, count, fill);
  va_end(fill);
  va_end(count);
  return r;
}

REMCOV_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list count, fill;
  va_start(count, arg);
  va_copy(fill, count);
  const int r = ExecList(ExecListKind::kFile, file, arg, count, fill);
  va_end(fill);
  va_end(count);
  return r;
}

REMCOV_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list count, fill;
  va_start(count, arg);
  va_copy(fill, count);
  const int r = ExecList(ExecListKind::kPathEnv, path, arg, count, fill);
  va_end(fill);
  va_end(count);
  return r;
}

REMCOV_EXPORT int posix_spawn(pid_t* pid, const char* path,
                              const posix_spawn_file_actions_t* actions,
                              const posix_spawnattr_t* attr, char* const argv[],
                              char* const envp[]) {
  remcov::internal::SpawnEnvironment env(envp);
  return remcov::internal::RealPosixSpawn()(pid, path, actions, attr, argv,
                                            env.get());
}

REMCOV_EXPORT int posix_spawnp(pid_t* pid, const char* file,
                               const posix_spawn_file_actions_t* actions,
                               const posix_spawnattr_t* attr,
                               char* const argv[], char* const envp[]) {
  remcov::internal::SpawnEnvironment env(envp);
  return remcov::internal::RealPosixSpawnp()(pid, file, actions, attr, argv,
                                             env.get());
}

REMCOV_EXPORT int system(const char* line) {
  return remcov::internal::System(line);
}

REMCOV_EXPORT FILE* popen(const char* command, const char* mode) {
  return remcov::internal::Popen(command, mode);
}

REMCOV_EXPORT int pclose(FILE* stream) {
  return remcov::internal::Pclose(stream);
}

}  // extern "C"
