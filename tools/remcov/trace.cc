// SPDX-License-Identifier: Apache-2.0
// `remcov trace`: the command line of the trace flow (src/trace/trace_run.h:
// kernel, remote and in-process modes): parses the options, runs the library,
// and words its results, warnings and errors as messages and exit codes
// (exit_codes.h; pinned by tests/cli).
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <optional>
#include <string>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/kcov.h"
#include "remcov/pc_set.h"

#include "area/area_layout.h"
#include "base/number.h"
#include "commands.h"
#include "exit_codes.h"
#include "handoff/handoff.h"
#include "handoff/handoff_reader.h"
#include "trace/trace_run.h"

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
    "  --threads          in-process: also collect the threads each traced\n"
    "                     process creates (each takes one of the\n"
    "                     --max-processes slots)\n"
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

struct Options {
  bool cmp = false;
  bool remote = false;
  bool in_process = false;
  bool follow = true;
  bool threads = false;
  bool explicit_in_process_option = false;  // --no-follow, --max-processes,
                                            // --threads
  uint64_t max_processes = trace::kDefaultProcesses;
  bool unique = false;
  bool quiet = false;
  bool have_common_id = false;
  uint64_t common_id = 0;
  std::vector<uint64_t> usb_buses;
  uint64_t timeout_ms = trace::kDefaultSettleMs;
  uint64_t words = trace::kDefaultWords;
  std::string device = kDefaultKcovPath;
  std::string output;
  std::vector<std::string> command;
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
    } else if (a == "--threads") {
      o->threads = true;
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
      const uint64_t max = trace::MaxWords();
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
  if (o->remote && o->in_process)
    return UsageError("--remote and --in-process cannot be combined");
  if (!o->remote && (o->have_common_id || !o->usb_buses.empty()))
    return UsageError("--common-id and --usb-bus need --remote");
  if (!o->in_process && o->explicit_in_process_option)
    return UsageError(
        "--no-follow, --max-processes and --threads need --in-process");
  return std::nullopt;
}

int Fail(const Status& s) {
  fprintf(stderr, "remcov trace: %s\n", s.ToString().c_str());
  return ExitCodeFor(s);
}

// After an overflow: by how much, and the --size that would have held it.
void OverflowHint(const CoverageData& d, uint64_t entries) {
  const uint64_t per = d.mode == TraceMode::kPc ? REMCOV_AREA_PC_ENTRY_WORDS
                                                : REMCOV_AREA_CMP_ENTRY_WORDS;
  const uint64_t max = trace::MaxWords();
  if (d.dropped == 0) {
    // KCOV stops storing at capacity and does not count the rest.
    const uint64_t twice = entries * per * 2 + 1;
    fprintf(stderr,
            "remcov trace: the buffer filled up after %" PRIu64
            " entries; later ones were neither recorded nor counted: raise "
            "--size (e.g. --size %" PRIu64 ", twice this; at most %" PRIu64
            ")\n",
            entries, twice < max ? trace::PageWords(twice) : max, max);
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
          d.dropped, entries, trace::PageWords(need), all);
}

// After a trace with no entries: the likely reasons, honestly.
void EmptyHint(const Options& o, const CoverageData& d) {
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
  if (in_process && !o.threads) {
    fprintf(stderr,
            "remcov trace: hint: no PCs: --in-process traces only the main "
            "thread of COMMAND (as KCOV traces only the task that enabled "
            "it); code that ran in other threads (add --threads to collect "
            "them), or that is not built with -fsanitize-coverage=trace-pc, "
            "is not recorded\n");
  } else if (in_process) {
    fprintf(stderr,
            "remcov trace: hint: no PCs: no traced thread of COMMAND ran "
            "code built with -fsanitize-coverage=trace-pc (threads that "
            "existed before remcov's runtime attached are not traced)\n");
  }
}

// Text or binary output, and the summary. Empty when written, else the
// exit code.
std::optional<int> Emit(const Options& o, CoverageData& d) {
  uint64_t entries = d.mode == TraceMode::kPc ? d.pcs.size() : d.cmps.size();
  PcSet unique_pcs;
  for (uint64_t pc : d.pcs) unique_pcs.Insert(pc);
  if (o.unique) trace::KeepFirstOccurrences(&d);
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
    if (entries == 0) EmptyHint(o, d);
  }
  return std::nullopt;
}

// The command's exit code, or 125 when it could not be waited for.
int CommandExitCode(const trace::TraceResult& r) {
  return r.exit_code >= 0 ? r.exit_code : kExitFailure;
}

// A command that could not be executed: 127 when not found, else 126.
int ExecFailed(const Options& o, int err) {
  fprintf(stderr, "remcov trace: cannot execute '%s': %s\n",
          o.command[0].c_str(), strerror(err));
  return err == ENOENT ? kExitNotFound : kExitCannotExecute;
}

// What the kernel and remote modes noticed, as warnings and notes.
void WarnAboutKernelRun(const Options& o, const trace::TraceResult& r) {
  if (!r.validate_warning.ok())
    fprintf(stderr, "remcov trace: warning: %s\n",
            r.validate_warning.ToString().c_str());
  if (r.hidden_module_addresses != 0 && !o.quiet) {
    fprintf(stderr,
            "remcov trace: note: the addresses of %zu kernel modules are "
            "hidden (0 in /proc/modules; run as root): their PCs will not "
            "be attributed\n",
            r.hidden_module_addresses);
  }
  if (!r.disable_warning.ok())
    fprintf(stderr, "remcov trace: warning: %s\n",
            r.disable_warning.ToString().c_str());
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
  if (notes.refused != 0 && o.threads) {
    fprintf(stderr,
            "remcov trace: warning: %" PRIu64
            " instrumented processes or threads found every one of the "
            "%" PRIu64
            " slots taken and were not collected: raise --max-processes\n",
            notes.refused, o.max_processes);
  } else if (notes.refused != 0) {
    fprintf(stderr,
            "remcov trace: warning: %" PRIu64
            " instrumented process%s found every one of the %" PRIu64
            " process slots taken and %s not collected: raise "
            "--max-processes\n",
            notes.refused, notes.refused == 1 ? "" : "es", o.max_processes,
            notes.refused == 1 ? "was" : "were");
  }
}

trace::TraceOptions LibraryOptions(const Options& o) {
  trace::TraceOptions t;
  t.source = o.in_process ? trace::TraceSource::kInProcess
             : o.remote   ? trace::TraceSource::kRemote
                          : trace::TraceSource::kKernel;
  t.mode = o.cmp ? TraceMode::kCmp : TraceMode::kPc;
  t.words = o.words;
  t.device = o.device;
  t.kernel_load_map = !o.output.empty();
  if (o.have_common_id) t.common_id = o.common_id;
  t.usb_buses = o.usb_buses;
  t.settle_ms = o.timeout_ms;
  t.follow = o.follow;
  t.max_processes = o.max_processes;
  t.threads = o.threads;
  t.command = o.command;
  return t;
}

int Trace(const Options& o) {
  StatusOr<trace::TraceRun> run = trace::TraceRun::Prepare(LibraryOptions(o));
  if (!run.ok()) {
    const int rc = Fail(run.status());
    if (rc == kExitNoDevice && !o.remote && !o.in_process) {
      fprintf(stderr,
              "remcov trace: without KCOV, user-space coverage of COMMAND "
              "still works: build it with -fsanitize-coverage=trace-pc, link "
              "remcov's runtime and use --in-process\n");
    }
    return rc;
  }
  StatusOr<trace::TraceResult> r = run->Run();
  if (!r.ok()) return Fail(r.status());
  if (r->exec_error != 0) return ExecFailed(o, r->exec_error);
  const int exit_code = CommandExitCode(*r);
  if (!o.in_process) {
    WarnAboutKernelRun(o, *r);
  } else {
    WarnAboutProcesses(o, r->notes);
    if (!r->read_status.ok()) {
      Fail(r->read_status);
      return exit_code != 0 ? exit_code : ExitCodeFor(r->read_status);
    }
  }
  return Emit(o, r->data).value_or(exit_code);
}

// Checks that -o FILE can be written before COMMAND runs (a run can be
// long; its coverage must not be lost at the end).
std::optional<int> CheckOutputWritable(const std::string& path) {
  Status s = trace::CheckWritable(path);
  if (s.ok()) return std::nullopt;
  fprintf(stderr,
          "remcov trace: cannot write -o %s: %s (checked before running "
          "the command)\n",
          path.c_str(), strerror(s.error_number()));
  return kExitFailure;
}

}  // namespace

int TraceMain(int argc, char** argv) {
  Options o;
  if (std::optional<int> rc = Parse(argc, argv, &o)) return *rc;
  if (!o.output.empty()) {
    if (std::optional<int> rc = CheckOutputWritable(o.output)) return *rc;
  }
  return Trace(o);
}

}  // namespace remcov::tool
