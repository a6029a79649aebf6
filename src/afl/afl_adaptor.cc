// SPDX-License-Identifier: Apache-2.0
// The AFL++ adaptor (include/remcov/afl.h, docs/afl.md): AFL++ 4.04c's
// fork server and persistent loop on the target's side, written from the
// protocol (src/afl/afl_protocol.h), with remcov's collector as the only
// source of the shared map's contents.
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "remcov/afl.h"
#include "remcov/collector.h"
#include "remcov/remcov.h"

#include "afl/afl_map.h"
#include "afl/afl_protocol.h"
#include "base/env_flags.h"
#include "fuzz_common/dropped.h"
#include "fuzz_common/pc_key.h"

namespace remcov::afl {

size_t SlotOf(uint64_t pc) {
  return fuzz::FibonacciSlot(fuzz::StablePc(pc), kMapBits);
}

void FoldPcs(std::span<const uint64_t> pcs, uint8_t* map) {
  for (uint64_t pc : pcs) {
    uint8_t& c = map[SlotOf(pc)];
    if (c != 255) c++;
  }
}

namespace {

// The common handle of the adaptor's collector ("AF"); handles are per
// process, and the adaptor's collector is the only one it registers.
constexpr uint32_t kHandleId = 0x41460000u;

// The map when AFL++ gave none (not run by afl-fuzz).
uint8_t g_private_map[kMapSize];

struct State {
  bool init_done = false;
  bool shared_map = false;   // AFL++'s map is attached
  bool fork_server = false;  // this process is a fork-server child
  uint8_t* map = g_private_map;
  const uint8_t* testcase = nullptr;  // afl-fuzz's test-case segment
  bool loop_started = false;
  bool persistent = false;
  unsigned left = 0;
  std::optional<Collector> collector;
  bool counters = false;  // REMCOV_AFL_COUNTERS=1: counters mode
  uint64_t inputs = 0;
  uint64_t overflow_inputs = 0;
  uint64_t dropped_entries = 0;  // the device's overflow counters so far
};

State& GetState() {
  static State* s = new State();  // never destroyed: read by signal handlers
  return *s;
}

// Set while an input runs, for the crash handler (which must not touch the
// optional or allocate).
Collector* volatile g_running = nullptr;
uint8_t* volatile g_running_map = nullptr;
volatile bool g_running_counters = false;

// Moves exactly n bytes with io (read or write), retrying EINTR and short
// transfers; false on an error or end of file.
template <typename Byte, typename Io>
bool Exactly(Io io, int fd, Byte* p, size_t n) {
  while (n > 0) {
    const ssize_t k = io(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool WriteAll(int fd, const void* buf, size_t n) {
  return Exactly(write, fd, static_cast<const char*>(buf), n);
}

bool ReadAll(int fd, void* buf, size_t n) {
  return Exactly(read, fd, static_cast<char*>(buf), n);
}

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "remcov-afl: %s\n", what);
  fflush(stderr);
  abort();
}

// The fork server (afl-compiler-rt.o.c __afl_start_forkserver's side of the
// exchange). Returns false at once when afl-fuzz is not listening on
// kStatusFd; otherwise returns only in a child, which then runs inputs. The
// parent never returns: it serves afl-fuzz until the control pipe closes.
// `testcase`: the test-case segment is attached, and the hello offers it;
// cleared when afl-fuzz does not take the offer.
bool RunForkServer(const uint8_t** testcase) {
  uint32_t hello = kOptEnabled | kOptMapSize |
                   MapSizeOption(static_cast<uint32_t>(kMapSize));
  if (*testcase != nullptr) hello |= kOptShmemFuzz;
  if (!WriteAll(kStatusFd, &hello, sizeof hello)) return false;
  // afl-fuzz's answer to the offer; an afl-fuzz that ignores it sends its
  // first request instead, which is then served as such.
  bool have_request = false;
  uint32_t was_killed = 0;
  if (*testcase != nullptr) {
    uint32_t answer;
    if (!ReadAll(kControlFd, &answer, sizeof answer)) _exit(1);
    if ((answer & (kOptEnabled | kOptShmemFuzz)) !=
        (kOptEnabled | kOptShmemFuzz)) {
      *testcase = nullptr;
      have_request = true;
      was_killed = answer;
    }
  }
  // The child must be waitable whatever the program did with SIGCHLD.
  struct sigaction old_chld;
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &dfl, &old_chld);
  bool child_stopped = false;
  pid_t child = -1;
  for (;;) {
    // afl-fuzz's request: nonzero when it killed the previous child (a
    // timeout) after that child had stopped itself.
    if (!have_request && !ReadAll(kControlFd, &was_killed, sizeof was_killed))
      _exit(1);
    have_request = false;
    int status = 0;
    if (child_stopped && was_killed != 0) {
      child_stopped = false;
      if (waitpid(child, &status, 0) < 0) _exit(1);
    }
    if (!child_stopped) {
      child = fork();
      if (child < 0) _exit(1);
      if (child == 0) {
        sigaction(SIGCHLD, &old_chld, nullptr);
        close(kControlFd);
        close(kStatusFd);
        return true;
      }
    } else {
      // Persistent mode: the child stopped itself after an input; afl-fuzz
      // has written the next one.
      kill(child, SIGCONT);
      child_stopped = false;
    }
    const int32_t pid = child;
    if (!WriteAll(kStatusFd, &pid, sizeof pid)) _exit(1);
    if (waitpid(child, &status, WUNTRACED) < 0) _exit(1);
    child_stopped = WIFSTOPPED(status);
    if (!WriteAll(kStatusFd, &status, sizeof status)) _exit(1);
  }
}

// A configuration number (base/env_flags.inc); a malformed one stops the
// target with the flag's message.
uint64_t EnvNumberOrDie(const internal::EnvNumberFlag& flag) {
  const char* v = getenv(flag.name);
  uint64_t n = 0;
  if (!internal::EnvNumber(flag, v, &n)) {
    internal::PrintEnvNumberError("remcov-afl", flag, v);
    abort();
  }
  return n;
}

size_t PcWords() {
  return static_cast<size_t>(EnvNumberOrDie(internal::kAflPcWords));
}

// shmat of the System V segment whose id is text (AFL++ writes them in
// decimal); (void*)-1 with errno EINVAL when text is not an id.
void* AttachShm(const char* text, int flags) {
  uint64_t id = 0;
  if (!internal::ParseNumber(text, 0, INT_MAX, &id)) {
    errno = EINVAL;
    return reinterpret_cast<void*>(-1);
  }
  return shmat(static_cast<int>(id), nullptr, flags);
}

// Folds what the collector holds into the map and re-raises: a crashing
// input's map then shows its coverage so far (sections still running on
// other threads have not published theirs), which AFL++ uses to tell
// crashes apart.
void CrashHandler(int sig) {
  Collector* c = g_running;
  uint8_t* map = g_running_map;
  g_running = nullptr;
  if (c != nullptr && map != nullptr) {
    if (g_running_counters) {
      (void)c->TakeCounters(map);
    } else {
      FoldPcs(c->Pcs(), map);
    }
  }
  raise(sig);  // SA_RESETHAND restored the default action
}

void InstallCrashHandlers() {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP}) {
    struct sigaction cur;
    if (sigaction(sig, nullptr, &cur) != 0) continue;
    // Never replace someone else's handler (a sanitizer's, for example).
    if (cur.sa_handler != SIG_DFL || (cur.sa_flags & SA_SIGINFO) != 0) continue;
    struct sigaction sa = {};
    sa.sa_handler = CrashHandler;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

void BeginInput(State& s) {
  memset(s.map, 0, kMapSize);
  const Status reset = s.collector->Reset();
  if (!reset.ok()) Die(reset.ToString().c_str());
  g_running_map = s.map;
  g_running = &*s.collector;
}

void EndInput(State& s) {
  g_running = nullptr;
  Collector& c = *s.collector;
  s.inputs++;
  if (s.counters) {
    // The map is AFL++'s, slot for slot (both 2^kMapBits bytes), and
    // BeginInput zeroed it.
    (void)c.TakeCounters(s.map);
    return;
  }
  const bool overflow =
      fuzz::InputOverflowed(c, TraceMode::kPc, &s.dropped_entries);
  if (overflow) {
    s.overflow_inputs++;  // folded partially (Pcs() is clamped)
  } else {
    const Status valid = c.Validate(TraceMode::kPc);
    if (!valid.ok()) Die(valid.ToString().c_str());
  }
  FoldPcs(c.Pcs(), s.map);
}

}  // namespace
}  // namespace remcov::afl

using remcov::afl::GetState;
using remcov::afl::State;

extern "C" int remcov_afl_init(void) {
  namespace afl = remcov::afl;
  State& s = GetState();
  if (s.init_done) return s.shared_map;
  s.init_done = true;
  // Before any fork: every child inherits the module table.
  (void)remcov::fuzz::Segments();
  const char* id = getenv(afl::kShmEnvVar);
  if (id == nullptr) return 0;
  void* map = afl::AttachShm(id, 0);
  if (map == reinterpret_cast<void*>(-1)) {
    // Tell afl-fuzz why (it prints it), as AFL++'s own runtime does.
    const uint32_t err = afl::ErrorWord(afl::kErrorShmat);
    (void)afl::WriteAll(afl::kStatusFd, &err, sizeof err);
    fprintf(stderr, "remcov-afl: cannot attach AFL++'s map (%s=%s): %s\n",
            afl::kShmEnvVar, id, strerror(errno));
    _exit(1);
  }
  s.map = static_cast<uint8_t*>(map);
  s.shared_map = true;
  // Inputs in shared memory when afl-fuzz provides the segment (afl-tmin
  // and afl-analyze do not).
  if (const char* fuzz_id = getenv(afl::kShmFuzzEnvVar); fuzz_id != nullptr) {
    void* seg = afl::AttachShm(fuzz_id, SHM_RDONLY);
    if (seg == reinterpret_cast<void*>(-1)) {
      const uint32_t err = afl::ErrorWord(afl::kErrorShmOpen);
      (void)afl::WriteAll(afl::kStatusFd, &err, sizeof err);
      fprintf(stderr,
              "remcov-afl: cannot attach AFL++'s test cases (%s=%s): %s\n",
              afl::kShmFuzzEnvVar, fuzz_id, strerror(errno));
      _exit(1);
    }
    s.testcase = static_cast<const uint8_t*>(seg);
  }
  // What each child's collector would otherwise allocate in its first
  // REMOTE_ENABLE (the signal-handler pool): made once here, inherited.
  if (remcov_prepare_remote() != REMCOV_OK)
    fprintf(stderr,
            "remcov-afl: cannot preallocate the runtime's pool; "
            "each child allocates it\n");
  s.fork_server = afl::RunForkServer(&s.testcase);
  if (!s.fork_server) s.testcase = nullptr;  // nobody writes it
  return 1;
}

extern "C" int remcov_afl_loop(unsigned max_iterations) {
  namespace afl = remcov::afl;
  State& s = GetState();
  if (!s.loop_started) {
    s.loop_started = true;
    (void)remcov_afl_init();
    // Stopping makes sense only with a fork server to resume the child.
    s.persistent = s.fork_server && getenv(afl::kPersistentEnvVar) != nullptr;
    s.left = max_iterations == 0 ? 1 : max_iterations;
    s.counters = afl::EnvNumberOrDie(remcov::internal::kAflCounters) == 1;
    afl::g_running_counters = s.counters;
    // Counters mode: the map and its count word.
    const size_t words = s.counters
                             ? remcov_kcov_counters_map_words(afl::kMapBits) + 1
                             : afl::PcWords();
    auto c = remcov::Collector::Open(remcov::RuntimeBackend(), words);
    if (!c.ok()) afl::Die(c.status().ToString().c_str());
    s.collector.emplace(std::move(c).value());
    remcov::RemoteOptions ro;
    ro.mode = remcov::TraceMode::kPc;
    if (s.counters) {
      ro.counters = remcov::CounterOptions{afl::kMapBits, false};
      ro.area_words = 1;
    }
    ro.common_handle =
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, afl::kHandleId);
    const remcov::Status enabled = s.collector->EnableRemote(ro);
    if (!enabled.ok()) afl::Die(enabled.ToString().c_str());
    afl::InstallCrashHandlers();
    afl::BeginInput(s);
    return 1;
  }
  if (!s.collector.has_value()) return 0;  // the loop has ended
  afl::EndInput(s);
  if (s.persistent && --s.left > 0) {
    raise(SIGSTOP);  // afl-fuzz reads the map, writes the next input
    afl::BeginInput(s);
    return 1;
  }
  if (s.overflow_inputs > 0) {
    fprintf(stderr,
            "remcov-afl: %llu of %llu inputs overflowed the collector (%zu "
            "words; their coverage is partial): raise REMCOV_AFL_PC_WORDS\n",
            static_cast<unsigned long long>(s.overflow_inputs),
            static_cast<unsigned long long>(s.inputs), s.collector->words());
  }
  (void)s.collector->Disable();
  s.collector.reset();
  return 0;
}

extern "C" const uint8_t* remcov_afl_input(size_t* size) {
  const State& s = GetState();
  if (s.testcase == nullptr) return nullptr;
  uint32_t len;
  memcpy(&len, s.testcase, sizeof len);
  if (size != nullptr)
    *size = len < remcov::afl::kMaxInput ? len : remcov::afl::kMaxInput;
  return s.testcase + sizeof len;
}

extern "C" const uint8_t* remcov_afl_map(size_t* size) {
  if (size != nullptr) *size = remcov::afl::kMapSize;
  return GetState().map;
}

extern "C" uint64_t remcov_afl_overflow_inputs(void) {
  return GetState().overflow_inputs;
}
