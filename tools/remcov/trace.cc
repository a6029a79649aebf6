// SPDX-License-Identifier: Apache-2.0
// `remcov trace`: kernel mode (fork; the child enables KCOV on itself and
// execs the command), remote mode (KCOV_REMOTE_ENABLE in the parent, inherited
// common handle, settle polling) and in-process mode (the command is linked
// with remcov's runtime and hands its coverage back through an inherited
// memfd; src/handoff/handoff.h).
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "remcov/collector.h"
#include "remcov/coverage_file.h"
#include "remcov/kcov.h"
#include "remcov/sys.h"

#include "area/area_layout.h"
#include "base/number.h"
#include "base/spawn.h"
#include "commands.h"
#include "exit_codes.h"
#include "handoff/handoff.h"
#include "handoff/handoff_reader.h"
#include "handoff/handoff_writer.h"
#include "kernel_client/kernel_load_map.h"

namespace remcov::tool {
namespace {

const char kTraceHelp[] =
    "Usage: remcov trace [OPTIONS] -- COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND and prints the coverage it produced: PCs, one per line in "
    "hex,\n"
    "or comparison records with --cmp; a summary goes to stderr.\n"
    "\n"
    "Modes:\n"
    "  (default)          kernel coverage of COMMAND's system calls "
    "(KCOV_ENABLE)\n"
    "  --remote           remote coverage (KCOV_REMOTE_ENABLE) of kernel work "
    "done\n"
    "                     on behalf of COMMAND: --common-id and/or --usb-bus\n"
    "  --in-process       user-space coverage of COMMAND, which must be built "
    "with\n"
    "                     -fsanitize-coverage=trace-pc[,trace-cmp] and linked "
    "with\n"
    "                     remcov's runtime; every such process COMMAND starts\n"
    "                     (forked, exec'd, through shells) is collected, each\n"
    "                     with its own load map\n"
    "\n"
    "Options:\n"
    "  --no-follow        in-process: collect only COMMAND's own process\n"
    "                     (through its exec()s), not the processes it starts\n"
    "  --max-processes N  in-process: room for N processes (default 64, at\n"
    "                     most 4096); more are counted and not collected\n"
    "  --cmp              collect comparison records instead of PCs\n"
    "  --common-id N      remote: COMMON handle instance N (default: remcov's "
    "pid)\n"
    "  --usb-bus B        remote: also collect from USB bus B (repeatable)\n"
    "  --timeout MS       remote: wait until coverage is quiet for MS ms "
    "after\n"
    "                     COMMAND exits (default 500)\n"
    "  --unique           print each PC (or record) once, in first-seen order\n"
    "  --size WORDS       buffer size in 64-bit words, rounded up to whole\n"
    "                     pages (default 1048576 = 8 MiB; at most 268434944\n"
    "                     with 4 KiB pages)\n"
    "  --device PATH      kcov device (default /sys/kernel/debug/kcov)\n"
    "  -o FILE            write a binary coverage file (docs/format.md) "
    "instead\n"
    "                     of text; checked before COMMAND runs (125 if it\n"
    "                     cannot be written)\n"
    "  -q, --quiet        no summary on stderr\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: COMMAND's (128+N if signal N ended it), or one of remcov's\n"
    "own: 120 usage, 121 no kcov device, 122 permission denied, 123 not\n"
    "supported by the kernel, 124 device or handle busy, 125 other failure\n"
    "(e.g. cannot write -o FILE), 126 COMMAND not executable, 127 COMMAND\n"
    "not found.\n";

// The default --size: 8 MiB. 64 Ki words overflowed on a first real run
// (lz4's CLI: 472,834 entries dropped); the area is committed (prefaulted)
// at KCOV_INIT_TRACE, so this is also the traced process's extra RSS.
constexpr uint64_t kDefaultWords = uint64_t{1} << 20;

// The default --max-processes: each process that runs uses its own --size
// area, so this bounds the hand-off's memory as well as its slots.
constexpr uint64_t kDefaultProcesses = 64;

// The largest --size that works: KCOV_INIT_TRACE takes at most
// INT_MAX / sizeof(unsigned long) words (kernel/kcov.c, kcov_ioctl_locked;
// remcov's runtime checks the same in InitTraceLocked), and remcov rounds
// the size up to whole pages, so the limit is that rounded down to pages:
// 268434944 words with 4 KiB pages.
uint64_t MaxWords() {
  const uint64_t page_words = static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 8;
  return (uint64_t{INT_MAX} / 8) / page_words * page_words;
}

// The words remcov asks for: `words` rounded up to whole pages.
uint64_t PageWords(uint64_t words) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return remcov_area_bytes(words, page) / 8;  // what the Collector maps
}

struct Options {
  bool cmp = false;
  bool remote = false;
  bool in_process = false;
  bool follow = true;
  bool explicit_in_process_option = false;  // --no-follow, --max-processes
  uint64_t max_processes = kDefaultProcesses;
  bool unique = false;
  bool quiet = false;
  bool have_common_id = false;
  uint64_t common_id = 0;
  std::vector<uint64_t> usb_buses;
  uint64_t timeout_ms = 500;
  uint64_t words = kDefaultWords;
  std::string device = kDefaultKcovPath;
  std::string output;
  std::vector<char*> command;
};

int UsageError(const std::string& msg) {
  fprintf(stderr, "remcov trace: %s\nTry 'remcov trace --help'.\n",
          msg.c_str());
  return kExitUsage;
}

// A number option's value in [0, max] (C notation: base/number.h).
bool ParseNumber(const char* s, uint64_t max, uint64_t* out) {
  return internal::ParseNumber(s, 0, max, out);
}

// Empty when the command goes on, else the exit code (help: 0).
std::optional<int> Parse(int argc, char** argv, Options* o) {
  int i = 1;
  // The value of the option at argv[i], or nullptr when it is missing.
  auto value = [&](const char* /*name*/) -> const char* {
    return i + 1 < argc ? argv[++i] : nullptr;
  };
  for (; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--") {
      i++;
      break;
    }
    if (a.empty() || a[0] != '-') break;
    if (a == "-h" || a == "--help") {
      fputs(kTraceHelp, stdout);
      return kExitOk;
    } else if (a == "--cmp") {
      o->cmp = true;
    } else if (a == "--remote") {
      o->remote = true;
    } else if (a == "--in-process") {
      o->in_process = true;
    } else if (a == "--no-follow") {
      o->follow = false;
      o->explicit_in_process_option = true;
    } else if (a == "--max-processes") {
      if (!ParseNumber(value("--max-processes"), REMCOV_HANDOFF_MAX_PROCS,
                       &o->max_processes) ||
          o->max_processes == 0)
        return UsageError("--max-processes needs a number from 1 to " +
                          std::to_string(REMCOV_HANDOFF_MAX_PROCS));
      o->explicit_in_process_option = true;
    } else if (a == "--unique") {
      o->unique = true;
    } else if (a == "-q" || a == "--quiet") {
      o->quiet = true;
    } else if (a == "--common-id") {
      if (!ParseNumber(value("--common-id"), REMCOV_KCOV_INSTANCE_MASK,
                       &o->common_id))
        return UsageError("--common-id needs a number up to 0xffffffff");
      o->have_common_id = true;
    } else if (a == "--usb-bus") {
      uint64_t b;
      if (!ParseNumber(value("--usb-bus"), REMCOV_KCOV_INSTANCE_MASK, &b))
        return UsageError("--usb-bus needs a bus number");
      o->usb_buses.push_back(b);
    } else if (a == "--timeout") {
      if (!ParseNumber(value("--timeout"), 3600000, &o->timeout_ms))
        return UsageError("--timeout needs milliseconds (at most 3600000)");
    } else if (a == "--size") {
      const uint64_t max = MaxWords();
      if (!ParseNumber(value("--size"), UINT64_MAX, &o->words) || o->words < 2)
        return UsageError("--size needs a number of words from 2 to " +
                          std::to_string(max));
      if (o->words > max) {
        return UsageError(
            "--size " + std::to_string(o->words) + " exceeds the maximum " +
            std::to_string(max) +
            " (KCOV_INIT_TRACE takes at most INT_MAX/8 words, and the "
            "buffer is whole pages)");
      }
    } else if (a == "--device") {
      const char* v = value("--device");
      if (v == nullptr) return UsageError("--device needs a path");
      o->device = v;
    } else if (a == "-o") {
      const char* v = value("-o");
      if (v == nullptr) return UsageError("-o needs a file name");
      o->output = v;
    } else {
      return UsageError("unknown option '" + a + "'");
    }
  }
  for (; i < argc; i++) o->command.push_back(argv[i]);
  if (o->command.empty()) return UsageError("missing COMMAND");
  o->command.push_back(nullptr);
  if (o->remote && o->in_process)
    return UsageError("--remote and --in-process cannot be combined");
  if (!o->remote && (o->have_common_id || !o->usb_buses.empty()))
    return UsageError("--common-id and --usb-bus need --remote");
  if (!o->in_process && o->explicit_in_process_option)
    return UsageError("--no-follow and --max-processes need --in-process");
  return std::nullopt;
}

int Fail(const Status& s) {
  fprintf(stderr, "remcov trace: %s\n", s.ToString().c_str());
  return ExitCodeFor(s);
}

// Runs the command (base/spawn.h); pre_exec runs in the child and returns
// errno or 0 (the error is explained through backend, when there is one).
// On success *pid is the child's and the result is empty; otherwise the exit
// code, the failure explained.
std::optional<int> Run(const Options& o, const Backend* backend,
                       const std::function<int()>& pre_exec, pid_t* pid) {
  StatusOr<internal::Spawned> s = internal::Spawn(o.command.data(), pre_exec);
  if (!s.ok()) return Fail(s.status());
  *pid = s->pid;
  switch (s->failed) {
    case internal::Spawned::Failed::kNo:
      return std::nullopt;
    case internal::Spawned::Failed::kExec:
      fprintf(stderr, "remcov trace: cannot execute '%s': %s\n", o.command[0],
              strerror(s->error));
      return s->error == ENOENT ? kExitNotFound : kExitCannotExecute;
    case internal::Spawned::Failed::kPreExec:
      break;
  }
  std::string why = backend != nullptr
                        ? backend->Explain("KCOV_ENABLE", s->error)
                        : std::string("enabling coverage failed");
  return Fail(Status::FromErrno(s->error, why));
}

// The command's exit code: its exit status, or 128+N when signal N ended it.
int WaitChild(pid_t pid) {
  StatusOr<int> ws = internal::WaitExit(pid);
  const int code = ws.ok() ? internal::ShellExitCode(*ws) : -1;
  return code >= 0 ? code : kExitFailure;
}

void SleepMs(uint64_t ms) {
  struct timespec ts = {static_cast<time_t>(ms / 1000),
                        static_cast<long>((ms % 1000) * 1000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// After an overflow: by how much, and the --size that would have held it.
void OverflowHint(const CoverageData& d, uint64_t entries) {
  const uint64_t per = d.mode == TraceMode::kPc ? REMCOV_AREA_PC_ENTRY_WORDS
                                                : REMCOV_AREA_CMP_ENTRY_WORDS;
  const uint64_t max = MaxWords();
  if (d.dropped == 0) {
    // KCOV stops storing at capacity and does not count the rest.
    const uint64_t twice = entries * per * 2 + 1;
    fprintf(stderr,
            "remcov trace: the buffer filled up after %" PRIu64
            " entries; later ones were neither recorded nor counted: raise "
            "--size (e.g. --size %" PRIu64 ", twice this; at most %" PRIu64
            ")\n",
            entries, twice < max ? PageWords(twice) : max, max);
    return;
  }
  const uint64_t all = entries + d.dropped;
  const uint64_t need = all > (max - 1) / per ? max + 1 : 1 + all * per;
  if (need > max) {
    fprintf(stderr,
            "remcov trace: the buffer overflowed: %" PRIu64
            " entries did not fit beside the %" PRIu64
            " stored; even the maximum --size %" PRIu64
            " cannot hold all %" PRIu64 ": trace less at a time\n",
            d.dropped, entries, max, all);
    return;
  }
  fprintf(stderr,
          "remcov trace: the buffer overflowed: %" PRIu64
          " entries did not fit beside the %" PRIu64 " stored; --size %" PRIu64
          " would have held all %" PRIu64 "\n",
          d.dropped, entries, PageWords(need), all);
}

// After a trace with no entries: the likely reasons, honestly.
void EmptyHint(const CoverageData& d) {
  const bool in_process = (d.flags & kCoverageInProcess) != 0;
  if (d.mode == TraceMode::kCmp) {
    fprintf(stderr,
            in_process
                ? "remcov trace: hint: no comparison records: is COMMAND "
                  "built with -fsanitize-coverage=trace-cmp (as well as "
                  "trace-pc)? trace-pc alone records PCs only\n"
                : "remcov trace: hint: no comparison records: the kernel "
                  "code COMMAND ran recorded none (comparisons need a kernel "
                  "built with CONFIG_KCOV_ENABLE_COMPARISONS)\n");
    return;
  }
  if (in_process) {
    fprintf(stderr,
            "remcov trace: hint: no PCs: --in-process traces only the main "
            "thread of COMMAND (as KCOV traces only the task that enabled "
            "it); code that ran in other threads, or that is not built with "
            "-fsanitize-coverage=trace-pc, is not recorded\n");
  }
}

// Text or binary output, and the summary. Empty when written, else the
// exit code.
std::optional<int> Emit(const Options& o, CoverageData& d) {
  uint64_t entries = d.mode == TraceMode::kPc ? d.pcs.size() : d.cmps.size();
  PcSet unique_pcs;
  for (uint64_t pc : d.pcs) unique_pcs.Insert(pc);
  if (o.unique) {
    d.flags |= kCoverageUnique;
    if (d.processes.empty() && d.mode == TraceMode::kPc) {
      d.pcs = unique_pcs.values();
    } else {
      // Within each process: its PCs resolve through its own load map.
      std::vector<uint64_t> pcs;
      std::vector<CmpRecord> cmps;
      for (const ProcessRange& pr : ProcessRanges(d)) {
        PcSet seen_pcs;
        std::set<std::array<uint64_t, 4>> seen;
        uint64_t kept = 0;
        for (size_t e = pr.entry_begin; e < pr.entry_end; e++) {
          if (d.mode == TraceMode::kPc) {
            if (!seen_pcs.Insert(d.pcs[e])) continue;
            pcs.push_back(d.pcs[e]);
          } else {
            const CmpRecord& r = d.cmps[e];
            if (!seen.insert({r.type, r.arg1, r.arg2, r.ip}).second) continue;
            cmps.push_back(r);
          }
          kept++;
        }
        if (!d.processes.empty()) d.processes[pr.process].entries = kept;
      }
      d.pcs = std::move(pcs);
      d.cmps = std::move(cmps);
    }
  }
  if (!o.output.empty()) {
    Status s = WriteCoverageFile(o.output, d);
    if (!s.ok()) {
      // Always 125 ("cannot write -o FILE"), whatever the errno: ENOENT
      // must not read as 121 (no coverage source).
      fprintf(stderr, "remcov trace: cannot write -o %s: %s\n",
              o.output.c_str(), s.ToString().c_str());
      return kExitFailure;
    }
  } else if (d.mode == TraceMode::kPc) {
    for (uint64_t pc : d.pcs) printf("0x%016" PRIx64 "\n", pc);
  } else {
    for (const CmpRecord& r : d.cmps) {
      printf("cmp%u%s 0x%" PRIx64 " 0x%" PRIx64 " ip=0x%016" PRIx64 "\n",
             r.size() * 8, r.is_const() ? " const" : "", r.arg1, r.arg2, r.ip);
    }
  }
  if (fflush(stdout) != 0)
    return Fail(Status::FromErrno(errno, "writing stdout"));
  if (!o.quiet) {
    fprintf(stderr, "remcov trace: %s mode, %" PRIu64 " entries",
            d.mode == TraceMode::kPc ? "pc" : "cmp", entries);
    if (d.mode == TraceMode::kPc)
      fprintf(stderr, ", %zu unique PCs", unique_pcs.size());
    fprintf(stderr, ", overflow %s, %" PRIu64 " dropped\n",
            (d.flags & kCoverageOverflow) ? "yes" : "no", d.dropped);
    if ((d.flags & kCoverageOverflow) != 0) OverflowHint(d, entries);
    if (entries == 0) EmptyHint(d);
  }
  return std::nullopt;
}

// Copies a Collector's published coverage (acquire load, clamped) into d.
void Collect(const Collector& c, TraceMode mode, CoverageData* d) {
  d->mode = mode;
  d->word_bytes = c.backend().WordBytes();
  d->raw_count = c.RawCount();
  uint64_t cap = c.Capacity(mode);
  if (mode == TraceMode::kPc) {
    auto v = c.Pcs();
    d->pcs.assign(v.begin(), v.end());
  } else {
    for (const CmpRecord& r : c.Cmps())
      if (r.valid()) d->cmps.push_back(r);
  }
  // The kernel stops storing at capacity without counting the rest.
  if (d->raw_count >= cap) d->flags |= kCoverageOverflow;
  if (d->raw_count > cap) d->dropped = d->raw_count - cap;
}

int TraceKernel(const Options& o) {
  const TraceMode mode = o.cmp ? TraceMode::kCmp : TraceMode::kPc;
  KernelBackend kernel(RealSys(),
                       {.device_path = o.device, .user_word_bytes = 0});
  auto c = Collector::Open(kernel, o.words);
  if (!c.ok()) {
    const int rc = Fail(c.status());
    if (rc == kExitNoDevice && !o.remote) {
      fprintf(stderr,
              "remcov trace: without KCOV, user-space coverage of COMMAND "
              "still works: build it with -fsanitize-coverage=trace-pc, link "
              "remcov's runtime and use --in-process\n");
    }
    return rc;
  }
  if (o.remote) {
    RemoteOptions r;
    r.mode = mode;
    uint64_t id =
        o.have_common_id ? o.common_id : static_cast<uint64_t>(getpid());
    r.common_handle =
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, id);
    for (uint64_t b : o.usb_buses)
      r.handles.push_back(
          remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, b));
    // The child inherits the common handle at fork (kernel: kcov_task_init).
    Status s = c->EnableRemote(r);
    if (!s.ok()) return Fail(s);
  }
  Collector* col = &c.value();
  pid_t pid = -1;
  std::function<int()> enable;
  if (!o.remote) {
    enable = [&]() -> int {
      // KCOV_ENABLE binds the device to this (child) task; exec keeps it.
      Status s = col->Enable(mode);
      return s.ok() ? 0 : (s.error_number() != 0 ? s.error_number() : EINVAL);
    };
  }
  if (std::optional<int> rc = Run(o, &kernel, enable, &pid)) return *rc;
  int exit_code = WaitChild(pid);
  if (o.remote) {
    // Remote sections may still be running: wait until the count is quiet
    // for the timeout (syzkaller waits 500 ms for the same reason).
    uint64_t last = c->RawCount();
    uint64_t quiet = 0;
    while (quiet < o.timeout_ms) {
      uint64_t step = o.timeout_ms - quiet < 10 ? o.timeout_ms - quiet : 10;
      SleepMs(step);
      uint64_t now = c->RawCount();
      quiet = now == last ? quiet + step : 0;
      last = now;
    }
  }
  Status v = c->Validate(mode);
  if (!v.ok() && v.code() == StatusCode::kDataLoss && mode == TraceMode::kCmp)
    fprintf(stderr, "remcov trace: warning: %s\n", v.ToString().c_str());
  CoverageData d;
  if (o.remote) d.flags |= kCoverageRemote;
  Collect(*c, mode, &d);
  if (!o.output.empty()) {
    KernelLoadMapResult map = KernelLoadMap(RealSys(), d.word_bytes);
    if (map.hidden_addresses != 0 && !o.quiet) {
      fprintf(stderr,
              "remcov trace: note: the addresses of %zu kernel modules are "
              "hidden (0 in /proc/modules; run as root): their PCs will not "
              "be attributed\n",
              map.hidden_addresses);
    }
    d.modules = std::move(map.modules);
  }
  if (o.remote) {
    Status s = c->Disable();
    if (!s.ok())
      fprintf(stderr, "remcov trace: warning: %s\n", s.ToString().c_str());
  }
  return Emit(o, d).value_or(exit_code);
}

// The hand-off's notes as warnings: per process, what is uncertain.
void WarnAboutProcesses(const Options& o, const handoff::FileNotes& notes) {
  // Processes that ended without exit(): listed up to a few pids.
  constexpr size_t kListed = 8;
  std::string no_exit;
  size_t no_exit_count = 0;
  for (const handoff::ReadNotes& n : notes.processes) {
    if (n.incomplete) {
      if (no_exit_count++ < kListed)
        no_exit += (no_exit.empty() ? "" : ", ") + std::to_string(n.pid);
    }
    if (n.load_map_problem != nullptr) {
      fprintf(stderr,
              "remcov trace: warning: process %" PRIu64
              ": %s; `remcov report` cannot map these PCs to source\n",
              n.pid, n.load_map_problem);
    }
  }
  if (no_exit_count != 0) {
    if (no_exit_count > kListed) no_exit += ", ...";
    fprintf(stderr,
            "remcov trace: warning: %zu traced process%s (pid %s) ended "
            "without exit() (a signal, _exit(), or an exec() of a program "
            "remcov does not trace): %s coverage up to the end is here, but "
            "the number of entries that did not fit is unknown\n",
            no_exit_count, no_exit_count == 1 ? "" : "es", no_exit.c_str(),
            no_exit_count == 1 ? "its" : "their");
  }
  if (!o.quiet) {
    for (const handoff::ReadNotes& n : notes.processes) {
      if (!n.execed) continue;
      fprintf(stderr,
              "remcov trace: note: process %" PRIu64
              " called exec(): its coverage before the exec and the new "
              "program's after it are both collected, each with its own load "
              "map\n",
              n.pid);
    }
  }
  if (notes.unattached != 0) {
    fprintf(stderr,
            "remcov trace: warning: %" PRIu64
            " process%s claimed a slot but ended before %s attached: nothing "
            "of %s is collected\n",
            notes.unattached, notes.unattached == 1 ? "" : "es",
            notes.unattached == 1 ? "it" : "they",
            notes.unattached == 1 ? "it" : "them");
  }
  if (notes.refused != 0) {
    fprintf(stderr,
            "remcov trace: warning: %" PRIu64
            " instrumented process%s found every one of the %" PRIu64
            " process slots taken and %s not collected: raise "
            "--max-processes\n",
            notes.refused, notes.refused == 1 ? "" : "es", o.max_processes,
            notes.refused == 1 ? "was" : "were");
  }
}

int TraceInProcess(const Options& o) {
  const handoff::FileLayout h = handoff::FileLayoutFor(
      o.words, o.max_processes, static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  const size_t map_bytes = static_cast<size_t>(h.file_bytes);
  int fd = memfd_create("remcov-trace", 0);  // inherited by the command
  if (fd < 0) return Fail(Status::FromErrno(errno, "memfd_create"));
  if (ftruncate(fd, static_cast<off_t>(map_bytes)) != 0) {
    int err = errno;
    close(fd);
    return Fail(Status::FromErrno(err, "sizing the coverage hand-off"));
  }
  // Writable for the table (written here before the command starts, and
  // the root pid by the command's process); the rest is only read.
  void* p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    close(fd);
    return Fail(Status::FromErrno(err, "mapping the coverage hand-off"));
  }
  uint64_t* table = static_cast<uint64_t*>(p);
  handoff::WriteTable(table, h.procs, h.slot.slot_bytes, h.slot.words,
                      o.cmp ? REMCOV_KCOV_TRACE_CMP : REMCOV_KCOV_TRACE_PC,
                      o.follow);
  pid_t pid = -1;
  const std::string fds = std::to_string(fd);
  std::optional<int> rc = Run(
      o, nullptr,
      [&]() -> int {
        // The command's own process: --no-follow traces this pid only.
        table[REMCOV_HANDOFF_T_ROOT_PID] = static_cast<uint64_t>(getpid());
        if (setenv(REMCOV_HANDOFF_ENV_FD, fds.c_str(), 1) != 0) return errno;
        return 0;
      },
      &pid);
  close(fd);  // the mapping keeps the pages
  if (rc) {
    munmap(p, map_bytes);
    return *rc;
  }
  int exit_code = WaitChild(pid);
  CoverageData d;
  handoff::FileNotes notes;
  Status s = handoff::ReadAll(h, table, &d, &notes);
  munmap(p, map_bytes);
  WarnAboutProcesses(o, notes);
  if (!s.ok()) {
    Fail(s);
    return exit_code != 0 ? exit_code : ExitCodeFor(s);
  }
  return Emit(o, d).value_or(exit_code);
}

// Checks that -o FILE can be written before COMMAND runs (a run can be
// long; its coverage must not be lost at the end). The check opens the file
// for writing as the final write will; a file it had to create is removed
// again, so a failed trace leaves nothing behind.
std::optional<int> CheckOutputWritable(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  const bool created = fd >= 0;
  if (fd < 0 && errno == EEXIST)
    fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    fprintf(stderr,
            "remcov trace: cannot write -o %s: %s (checked before running "
            "the command)\n",
            path.c_str(), strerror(err));
    return kExitFailure;
  }
  close(fd);
  if (created) unlink(path.c_str());
  return std::nullopt;
}

}  // namespace

int TraceMain(int argc, char** argv) {
  Options o;
  if (std::optional<int> rc = Parse(argc, argv, &o)) return *rc;
  if (!o.output.empty()) {
    if (std::optional<int> rc = CheckOutputWritable(o.output)) return *rc;
  }
  return o.in_process ? TraceInProcess(o) : TraceKernel(o);
}

}  // namespace remcov::tool
