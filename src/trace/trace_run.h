// SPDX-License-Identifier: Apache-2.0
// Running a command under coverage and collecting what it produced: the flow
// behind `remcov trace` (docs/tools/remcov.md), as a library.
//   kernel mode     fork; the child enables KCOV on itself (KCOV_ENABLE) and
//                   execs the command; the parent reads the area afterwards;
//   remote mode     KCOV_REMOTE_ENABLE in this process, the common handle
//                   inherited by the command at fork; after the command ends,
//                   wait until the count has been quiet for a while (remote
//                   sections may still be running);
//   in-process mode a memfd hand-off (src/handoff/handoff.h) passed to the
//                   command, whose linked-in runtime publishes into it; read
//                   back with handoff::ReadAll after the command ends.
// Nothing here prints or exits: failures come back as Status, and whatever
// a person should be told about a run that worked (records that did not
// validate, hidden module addresses, processes that ended without exit())
// comes back as data in TraceResult, for the caller to word. Messages name no
// command-line option.
//
// Use: TraceRun::Prepare(options) sets up the coverage source (opens the
// device, enables remote collection, creates the hand-off); Run() starts the
// command, waits for it and collects. The split lets a caller tell a missing
// coverage source (Prepare) from a failure of the run itself.
//
// Thread safety: a TraceRun is used by one thread. Run() forks: call it from
// a process with one thread (base/spawn.h).
#ifndef REMCOV_TRACE_TRACE_RUN_H_
#define REMCOV_TRACE_TRACE_RUN_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/kcov.h"
#include "remcov/status.h"
#include "remcov/sys.h"

#include "handoff/handoff_reader.h"

namespace remcov::trace {

// Where the coverage comes from.
enum class TraceSource {
  kKernel,     // KCOV_ENABLE on the command's task
  kRemote,     // KCOV_REMOTE_ENABLE: kernel work done for the command
  kInProcess,  // the command's own user-space coverage (remcov's runtime)
};

// The default area size: 8 MiB. 64 Ki words overflowed on a first real run
// (lz4's CLI: 472,834 entries dropped); the area is committed (prefaulted)
// at KCOV_INIT_TRACE, so this is also the traced process's extra RSS.
inline constexpr uint64_t kDefaultWords = uint64_t{1} << 20;

// The default number of in-process slots: each process that runs uses its
// own area, so this bounds the hand-off's memory as well as its slots.
inline constexpr uint64_t kDefaultProcesses = 64;

// The default quiet period of remote mode, in milliseconds (syzkaller waits
// 500 ms for the same reason).
inline constexpr uint64_t kDefaultSettleMs = 500;

// The largest area size that works: KCOV_INIT_TRACE takes at most
// INT_MAX / sizeof(unsigned long) words (kernel/kcov.c, kcov_ioctl_locked;
// remcov's runtime checks the same in InitTraceLocked), and the area is whole
// pages, so the limit is that rounded down to pages: 268434944 words with
// 4 KiB pages.
uint64_t MaxWords();

// The words an area of `words` takes: rounded up to whole pages (what the
// Collector maps).
uint64_t PageWords(uint64_t words);

struct TraceOptions {
  TraceSource source = TraceSource::kKernel;
  TraceMode mode = TraceMode::kPc;
  uint64_t words = kDefaultWords;  // 2 to MaxWords()

  // Kernel and remote: the device and the seam for its system calls
  // (nullptr: RealSys()). REQUIRES: *sys outlives the TraceRun.
  std::string device = kDefaultKcovPath;
  Sys* sys = nullptr;
  // Kernel and remote: record the kernel's load map (/proc/modules) in the
  // result (for a coverage file).
  bool kernel_load_map = false;

  // Remote: the common handle's instance (default: this process's pid), the
  // USB buses, and how long the count must stay unchanged after the command
  // ends.
  std::optional<uint64_t> common_id;
  std::vector<uint64_t> usb_buses;
  uint64_t settle_ms = kDefaultSettleMs;

  // In-process: every instrumented process the command starts, or only the
  // command's own (through its exec()s); the number of slots (1 to
  // REMCOV_HANDOFF_MAX_PROCS): one per process, and one per thread with
  // `threads`.
  bool follow = true;
  uint64_t max_processes = kDefaultProcesses;
  // In-process: also trace the threads each traced process creates after
  // its runtime attached, each in a slot of its own (so they count against
  // max_processes), their entries collected into their process's
  // (src/runtime/trace_env.cc states the rules).
  bool threads = false;

  // The command and its arguments (execvp: found through PATH). REQUIRES:
  // non-empty.
  std::vector<std::string> command;
};

// What a run gives back.
struct TraceResult {
  // Nonzero: the command could not be executed (execvp's errno; ENOENT: not
  // found). Nothing else is set then.
  int exec_error = 0;
  // The command's exit code as a shell reports it: its exit status, or
  // 128+N when signal N ended it; -1 when it could not be waited for.
  int exit_code = 0;
  // The coverage (mode, entries, counters, flags, load maps).
  CoverageData data;

  // Kernel and remote.
  // Not ok: a comparison record did not validate (kDataLoss); the records
  // that did are in data.
  Status validate_warning;
  // Kernel modules whose load address /proc/modules hides (0 for non-root):
  // their PCs cannot be attributed (with kernel_load_map).
  size_t hidden_module_addresses = 0;
  // Not ok: disabling remote collection afterwards failed.
  Status disable_warning;

  // In-process.
  // What the hand-off said about each process (also when read_status is not
  // ok, as far as the reader got).
  handoff::FileNotes notes;
  // Not ok: the hand-off could not be read (kUnavailable: no process
  // attached; kDataLoss: the command overwrote it); data is then empty.
  Status read_status;
};

class TraceRun {
 public:
  // Sets up the coverage source of `options.source`. Errors: those of
  // Collector::Open and Collector::EnableRemote (kernel, remote: kUnavailable
  // when there is no kcov, kPermissionDenied, ...), kInvalidArgument for
  // options out of range, kIoError when the hand-off cannot be created.
  static StatusOr<TraceRun> Prepare(TraceOptions options);

  TraceRun(TraceRun&&) noexcept;
  TraceRun& operator=(TraceRun&&) noexcept;
  ~TraceRun();

  // Runs the command to its end and collects its coverage. Once only.
  // Errors: spawning failed (kIoError), or enabling coverage in the child
  // failed (the backend's explanation of KCOV_ENABLE's errno). A command
  // that cannot be executed is not an error: TraceResult::exec_error.
  StatusOr<TraceResult> Run();

 private:
  struct Impl;
  explicit TraceRun(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Remote mode's settle loop: polls count() every step (at most step_ms, as
// much as is left) through sleep_ms(ms) until it has stayed unchanged for
// quiet_ms in a row. Returns the milliseconds slept. (A count that never
// stops changing keeps it waiting, as the kernel's remote work may.)
uint64_t WaitUntilQuiet(const std::function<uint64_t()>& count,
                        uint64_t quiet_ms,
                        const std::function<void(uint64_t)>& sleep_ms,
                        uint64_t step_ms = 10);

// Keeps the first occurrence of each PC (or comparison record) within each
// process of d (its PCs resolve through its own load map), updating the
// processes' entry counts, and sets kCoverageUnique.
void KeepFirstOccurrences(CoverageData* d);

// Whether `path` can be written: opened for writing as the final write will
// open it; a file this had to create is removed again. Errors: the errno of
// open(2).
Status CheckWritable(const std::string& path);

}  // namespace remcov::trace

#endif  // REMCOV_TRACE_TRACE_RUN_H_
