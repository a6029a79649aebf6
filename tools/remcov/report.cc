// SPDX-License-Identifier: Apache-2.0
// `remcov report` and `remcov diff`: thin drivers over the report core
// (coverage_model.h). This file parses the options, opens each module
// through report/module_files.h (the load map's path, --vmlinux,
// --module-dir; build-id checked), and writes the format asked for
// (report/formats.h lists them) or, through genhtml, HTML.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/symbolize.h"
#include "remcov/version.h"

#include "base/spawn.h"
#include "commands.h"
#include "exit_codes.h"
#include "format/coverage_merge.h"
#include "inputs.h"
#include "report/coverage_model.h"
#include "report/elf_image.h"
#include "report/formats.h"
#include "report/module_files.h"

namespace remcov::tool {
namespace {

const char kReportHelp[] =
    "Usage: remcov report [OPTIONS] FILE.cov...\n"
    "\n"
    "Maps the PCs of a coverage file (remcov trace -o) to source lines "
    "through\n"
    "the load map it records and the modules' debug info, and prints covered\n"
    "and instrumented lines per file and function. Several files: their\n"
    "union (as remcov merge makes it). A FILE of '-' is standard input.\n"
    "\n"
    "Options:\n"
    "  --format F         the output format (below; default text)\n"
    "  --html DIR         write DIR/remcov.info and run genhtml into DIR\n"
    "  -o FILE            write the report to FILE instead of stdout (a\n"
    "                     directory for --format sancov)\n"
    "  --root DIR         show source paths under DIR relative to it\n"
    "                     (text, json, cobertura; genhtml --prefix for\n"
    "                     --html)\n"
    "  --vmlinux PATH     the kernel image (with DWARF) for kernel PCs\n"
    "  --module-dir DIR   where kernel modules' NAME.ko files are\n"
    "  --genhtml PATH     genhtml to run (default: genhtml from PATH)\n"
    "  --allow-missing-debug\n"
    "                     report a module without line information (built\n"
    "                     without -g, or stripped) instead of exit 118\n"
    "  -q, --quiet        no progress or notes on stderr (what a format\n"
    "                     could not hold is still said)\n"
    "  -h, --help         show this help\n";

const char kReportExit[] =
    "\n"
    "Exit status: 0 success, 117 unreadable or corrupt coverage file, 118 a\n"
    "module or its debug info is missing or changed, or has no line\n"
    "information (without --allow-missing-debug), 119 genhtml missing or\n"
    "failed, 120 usage (or files of different modes, or a format that\n"
    "cannot hold the file), 125 other failure (e.g. cannot write the\n"
    "output).\n";

const char kDiffHelp[] =
    "Usage: remcov diff [OPTIONS] A.cov B.cov\n"
    "\n"
    "Prints the lines, per file and function, that B covers and A does not\n"
    "(gained), those that A covers and B does not (lost), and a summary of\n"
    "lines covered only by B, only by A, by both and by neither. A or B may\n"
    "be '-' (standard input; not both). Warns when A and B share no module\n"
    "(by build-id, else path).\n"
    "\n"
    "Options:\n"
    "  --format F         the output format (below; default text)\n"
    "  -o FILE            write to FILE instead of stdout\n"
    "  --root DIR         show source paths under DIR relative to it\n"
    "  --vmlinux PATH     the kernel image (with DWARF) for kernel PCs\n"
    "  --module-dir DIR   where kernel modules' NAME.ko files are\n"
    "  --allow-missing-debug\n"
    "                     compare modules without line information instead\n"
    "                     of exit 118\n"
    "  -q, --quiet        no progress on stderr\n"
    "  -h, --help         show this help\n";

const char kDiffExit[] =
    "\n"
    "Exit status: as remcov report (0, 117, 118, 120, 125).\n";

struct Options {
  const char* name = "report";
  bool diff = false;
  const FormatInfo* format = FindReportFormat("text");
  std::string html;
  std::string output;
  std::string root;
  std::string vmlinux;
  std::string module_dir;
  std::string genhtml = "genhtml";
  bool quiet = false;
  bool allow_missing_debug = false;
  bool text_asked = false;  // --format or -o given (with --html)
  std::vector<std::string> inputs;
};

int UsageError(const Options& o, const std::string& msg) {
  fprintf(stderr, "remcov %s: %s\nTry 'remcov %s --help'.\n", o.name,
          msg.c_str(), o.name);
  return kExitUsage;
}

// Empty when the command goes on, else the exit code (help: 0).
std::optional<int> Parse(int argc, char** argv, bool diff, Options* o) {
  o->name = diff ? "diff" : "report";
  o->diff = diff;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return !out->empty();
    };
    if (a == "-h" || a == "--help") {
      fputs(diff ? kDiffHelp : kReportHelp, stdout);
      fputs(("\nFormats (--format F):\n" + FormatHelp(diff)).c_str(), stdout);
      fputs(diff ? kDiffExit : kReportExit, stdout);
      return kExitOk;
    } else if (a == "--format") {
      o->text_asked = true;
      std::string name;
      if (!value(&name)) return UsageError(*o, "--format needs a value");
      o->format = FindReportFormat(name);
      if (o->format == nullptr || (diff && !o->format->diff))
        return UsageError(
            *o, "unknown format '" + name + "' (" + FormatNames(diff) + ")");
    } else if (a == "--html" && !diff) {
      if (!value(&o->html)) return UsageError(*o, "--html needs a directory");
    } else if (a == "-o") {
      o->text_asked = true;
      if (!value(&o->output)) return UsageError(*o, "-o needs a file name");
    } else if (a == "--root") {
      if (!value(&o->root)) return UsageError(*o, "--root needs a directory");
    } else if (a == "--vmlinux") {
      if (!value(&o->vmlinux)) return UsageError(*o, "--vmlinux needs a path");
    } else if (a == "--module-dir") {
      if (!value(&o->module_dir))
        return UsageError(*o, "--module-dir needs a directory");
    } else if (a == "--genhtml" && !diff) {
      if (!value(&o->genhtml)) return UsageError(*o, "--genhtml needs a path");
    } else if (a == "-q" || a == "--quiet") {
      o->quiet = true;
    } else if (a == "--allow-missing-debug") {
      o->allow_missing_debug = true;
    } else if (a == "--") {
      for (i++; i < argc; i++) o->inputs.push_back(argv[i]);
    } else if (a.size() > 1 && a[0] == '-') {
      return UsageError(*o, "unknown option '" + a + "'");
    } else {
      o->inputs.push_back(a);
    }
  }
  if (diff ? o->inputs.size() != 2 : o->inputs.empty()) {
    return UsageError(*o, diff ? "needs two coverage files, A and B"
                               : "needs one coverage file or more");
  }
  std::string why = CheckStdinOnce(o->inputs);
  // An output that is one of the inputs (same device and inode, whatever
  // the names) would be truncated before it is read: refused.
  std::vector<std::string> outputs;
  if (!o->output.empty()) outputs.push_back(o->output);
  if (!o->html.empty()) outputs.push_back(o->html + "/remcov.info");
  if (why.empty()) why = OutputIsInput(outputs, o->inputs);
  if (!why.empty()) return UsageError(*o, why);
  if (o->format->output == FormatOutput::kDirectory && o->output.empty()) {
    return UsageError(*o, "--format " + std::string(o->format->name) +
                              " writes one file per module: give -o DIR");
  }
  if (o->format->output == FormatOutput::kBinary && o->output.empty() &&
      isatty(1)) {
    return UsageError(*o, "--format " + std::string(o->format->name) +
                              " is binary: not writing it to a terminal "
                              "(use -o FILE or a redirection)");
  }
  return std::nullopt;
}

ModuleFiles Files(const Options& o) { return {o.vmlinux, o.module_dir}; }

// A module file's failure (report/module_files.h) in the words of this
// command: the option that gives the missing input, named.
Status NameOption(const Status& s, MissingInput missing, const Options& o,
                  const CoverageModule& m) {
  switch (missing) {
    case MissingInput::kNone:
    case MissingInput::kModuleNotInDir:
      return s;
    case MissingInput::kNoVmlinux:
      return Status(s.code(),
                    "the coverage has kernel PCs: pass the kernel image "
                    "with --vmlinux PATH (vmlinux with DWARF)");
    case MissingInput::kVmlinuxAbsent:
      return Status(s.code(), "--vmlinux " + o.vmlinux + " does not exist");
    case MissingInput::kNoModuleDir:
      return Status(s.code(), "the coverage has PCs of kernel module " +
                                  m.path + ": pass --module-dir DIR (with " +
                                  m.path + ".ko)");
  }
  return s;
}

// OpenModule, its failure phrased by NameOption; sets *failed on failure.
StatusOr<std::unique_ptr<SourceMap>> OpenModuleFile(const Options& o,
                                                    const CoverageModule& m,
                                                    bool* failed) {
  MissingInput missing = MissingInput::kNone;
  auto s = OpenModule(Files(o), m, &missing);
  if (s.ok()) return s;
  *failed = true;
  return NameOption(s.status(), missing, o, m);
}

// Progress on stderr, for big batches when stderr is a terminal.
ModuleProgressFn Progress(const Options& o) {
  if (o.quiet || !isatty(2)) return {};
  const char* name = o.name;
  return [name](const CoverageModule& m, size_t n) -> ProgressFn {
    if (n < 5000) return {};
    std::string path = m.path;
    auto last = std::make_shared<size_t>(0);
    return [name, path, last](size_t done, size_t total) {
      if (total == 0) return;
      const size_t pct = done * 100 / total;
      if (done != total && pct == *last) return;
      *last = pct;
      fprintf(stderr, "\rremcov %s: symbolizing %s: %3zu%% (%zu/%zu)", name,
              path.c_str(), pct, done, total);
      if (done == total) fputc('\n', stderr);
    };
  };
}

int Fail(const Options& o, int code, const Status& s) {
  fprintf(stderr, "remcov %s: %s\n", o.name, s.ToString().c_str());
  return code;
}

Status WriteAll(const std::string& path, const std::string& text) {
  if (path.empty()) {
    if (fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        fflush(stdout) != 0)
      return Status::FromErrno(errno, "writing stdout");
    return Status::Ok();
  }
  FILE* f = fopen(path.c_str(), "we");
  if (f == nullptr) return Status::FromErrno(errno, "cannot create " + path);
  const bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (fclose(f) != 0 || !ok)
    return Status::FromErrno(ok ? errno : err, "cannot write " + path);
  return Status::Ok();
}

// The exit code of a failed model or export: 118 when a module's file or
// debug info failed (`module_error`), 120 when the inputs or the format do
// not fit together (kInvalidArgument), else 118 (a symbolizer failure).
int FailModel(const Options& o, bool module_error, const Status& s) {
  if (module_error) return Fail(o, kExitNoSource, s);
  const bool mismatch = s.code() == StatusCode::kInvalidArgument;
  return Fail(o, mismatch ? kExitUsage : kExitNoSource, s);
}

// Loads the inputs and, if `build_model`, builds the model; on failure
// returns the exit code. `*module_error` is set when a module fails to open.
std::optional<int> Load(const Options& o, std::vector<CoverageData>* data,
                        StatusOr<CoverageModel>* model, bool build_model,
                        bool* module_error) {
  // report A B ...: their union, one input read at a time.
  const bool merge = !o.diff && o.inputs.size() > 1;
  CoverageMerger merger;
  for (const std::string& in : o.inputs) {
    auto d = ReadInput(in);
    if (!d.ok()) return Fail(o, kExitBadCoverage, d.status());
    if (d->modules.empty() && !o.quiet) {
      fprintf(stderr,
              "remcov %s: warning: %s has no load map (format version %u): "
              "its PCs cannot be mapped to source\n",
              o.name, in.c_str(), d->version);
    }
    if (!merge) {
      data->push_back(std::move(d.value()));
      continue;
    }
    Status s = merger.Add(*d);
    if (!s.ok()) {
      return Fail(o, kExitUsage, Status(s.code(), in + ": " + s.message()));
    }
  }
  if (merge) {
    auto u = merger.Result(false);
    if (!u.ok()) return Fail(o, kExitUsage, u.status());
    data->push_back(std::move(u.value()));
  }
  if (!build_model) return std::nullopt;
  std::vector<const CoverageData*> runs;
  for (const CoverageData& d : *data) runs.push_back(&d);
  SourceMapOpener open = [&](const CoverageModule& m) {
    return OpenModuleFile(o, m, module_error);
  };
  *model = BuildCoverageModel(runs, open, Progress(o));
  if (!model->ok()) return FailModel(o, *module_error, model->status());
  // A module none of whose addresses has a source line (built without -g,
  // or stripped) would give an empty table that looks like success.
  for (const ModuleSummary& s : (*model)->modules) {
    if (s.addresses_with_source != 0) continue;
    const std::string what =
        "module " + s.module.path + " has no line information (" +
        std::to_string(s.addresses_without_source) +
        " addresses without a source line): built without -g, or stripped";
    if (!o.allow_missing_debug) {
      fprintf(stderr,
              "remcov %s: %s; rebuild it with -g, or pass "
              "--allow-missing-debug to report it without lines\n",
              o.name, what.c_str());
      return kExitNoSource;
    }
    if (!o.quiet)
      fprintf(stderr, "remcov %s: warning: %s\n", o.name, what.c_str());
  }
  return std::nullopt;
}

// The source files (SF: records) of an lcov file that cannot be read: genhtml
// stops at the first ("cannot read"). Sets *first to one of them.
size_t CountMissingSources(const std::string& info, std::string* first) {
  FILE* f = fopen(info.c_str(), "re");
  if (f == nullptr) return 0;
  size_t missing = 0;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (n < 4 || strncmp(line, "SF:", 3) != 0) continue;
    std::string path(line + 3, static_cast<size_t>(n) - 3);
    if (!path.empty() && path.back() == '\n') path.pop_back();
    if (access(path.c_str(), R_OK) == 0) continue;
    if (missing++ == 0) *first = path;
  }
  free(line);
  fclose(f);
  return missing;
}

// Runs genhtml; empty when it made the pages, else the exit code. Source files
// that cannot be read get pages without source (genhtml --ignore-errors source)
// and a warning, instead of a failed report.
std::optional<int> RunGenhtml(const Options& o, const std::string& info) {
  std::vector<std::string> args = {o.genhtml, "--quiet", "--output-directory",
                                   o.html};
  std::string first;
  if (size_t missing = CountMissingSources(info, &first)) {
    fprintf(stderr,
            "remcov report: warning: %zu source file%s cannot be read (e.g. "
            "%s): %s page%s show%s the line counts without source\n",
            missing, missing == 1 ? "" : "s", first.c_str(),
            missing == 1 ? "its" : "their", missing == 1 ? "" : "s",
            missing == 1 ? "s" : "");
    args.push_back("--ignore-errors");
    args.push_back("source");
  }
  if (!o.root.empty()) {
    args.push_back("--prefix");
    args.push_back(o.root);
  }
  args.push_back(info);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  StatusOr<internal::Spawned> spawned = internal::Spawn(argv.data());
  if (!spawned.ok()) return Fail(o, kExitFailure, spawned.status());
  if (spawned->failed != internal::Spawned::Failed::kNo) {
    fprintf(stderr,
            "remcov report: cannot run '%s': %s (genhtml comes with Debian's "
            "lcov package)\n",
            o.genhtml.c_str(), strerror(spawned->error));
    return kExitGenhtml;
  }
  StatusOr<int> waited = internal::WaitExit(spawned->pid);
  if (!waited.ok()) return Fail(o, kExitGenhtml, waited.status());
  const int ws = *waited;
  if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
    fprintf(stderr, "remcov report: genhtml failed (%s %d) on %s\n",
            WIFEXITED(ws) ? "exit status" : "signal",
            WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws), info.c_str());
    return kExitGenhtml;
  }
  return std::nullopt;
}

// Writes the files of a per-module export into directory `dir`.
std::optional<int> WriteFiles(const Options& o, const std::string& dir,
                              const std::vector<ExportFile>& files) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Fail(o, kExitFailure,
                Status::FromErrno(errno, "cannot create " + dir));
  for (const ExportFile& f : files) {
    const std::string path = dir + "/" + f.name;
    Status s = WriteAll(path, f.bytes);
    if (!s.ok()) return Fail(o, kExitFailure, s);
    if (!o.quiet) {
      fprintf(stderr, "remcov %s: wrote %s (%llu PCs of %s)\n", o.name,
              path.c_str(), static_cast<unsigned long long>(f.pcs),
              f.module.c_str());
    }
  }
  return std::nullopt;
}

// The coverage file's modification time, for Cobertura's timestamp (the
// same input gives the same output).
// With several inputs, the newest; standard input's file if it has one.
int64_t InputTimeMs(const std::vector<std::string>& paths) {
  int64_t newest = 0;
  for (const std::string& path : paths) {
    struct stat st;
    const bool ok = path == kStdinName
                        ? fstat(0, &st) == 0 && S_ISREG(st.st_mode)
                        : stat(path.c_str(), &st) == 0;
    if (!ok) continue;
    newest = std::max<int64_t>(newest, int64_t{st.st_mtim.tv_sec} * 1000 +
                                           st.st_mtim.tv_nsec / 1000000);
  }
  return newest;
}

// Whether runs A (0) and B (1) recorded PCs in a common module: the same
// build-id when both know it, else the same path. True when either run has
// no PC in any module (nothing to compare).
bool ShareModule(const CoverageModel& m) {
  bool any[kMaxRuns] = {false, false};
  for (const ModuleSummary& x : m.modules) {
    for (int r = 0; r < kMaxRuns; r++) any[r] |= x.pcs[r] != 0;
    if (x.pcs[0] == 0) continue;
    for (const ModuleSummary& y : m.modules) {
      if (y.pcs[1] == 0) continue;
      const CoverageModule &a = x.module, &b = y.module;
      const bool ids = !a.build_id.empty() && !b.build_id.empty();
      if (ids ? a.build_id == b.build_id : a.path == b.path) return true;
    }
  }
  return !any[0] || !any[1];
}

// What report and diff read: the inputs and, when asked for, the model.
struct Loaded {
  std::vector<CoverageData> data;
  StatusOr<CoverageModel> model = Status(StatusCode::kInternal, "");
  bool module_error = false;  // a module failed to open (exit 118)
};

// Parses the command line and loads the inputs; the model is built for diff,
// for formats that need it and for --html. Empty when the command goes on.
std::optional<int> ParseAndLoad(int argc, char** argv, bool diff, Options* o,
                                Loaded* in) {
  if (std::optional<int> rc = Parse(argc, argv, diff, o)) return *rc;
  const bool build_model = diff || o->format->needs_model || !o->html.empty();
  return Load(*o, &in->data, &in->model, build_model, &in->module_error);
}

}  // namespace

int ReportMain(int argc, char** argv) {
  Options o;
  Loaded in;
  if (std::optional<int> rc = ParseAndLoad(argc, argv, false, &o, &in))
    return *rc;
  EmitOptions e;
  e.root = o.root;
  for (size_t i = 0; i < o.inputs.size(); i++)
    e.input_name += (i == 0 ? "" : ", ") + o.inputs[i];
  if (o.inputs.size() > 1) e.input_names = o.inputs;
  e.data = &in.data[0];
  if (!o.html.empty()) {
    if (mkdir(o.html.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail(o, kExitFailure,
                  Status::FromErrno(errno, "cannot create " + o.html));
    }
    const std::string info = o.html + "/remcov.info";
    std::vector<std::string> warnings;
    Status s = WriteAll(info, EmitLcov(*in.model, e, &warnings));
    if (!s.ok()) return Fail(o, kExitFailure, s);
    for (const std::string& w : warnings)
      fprintf(stderr, "remcov report: warning: %s\n", w.c_str());
    if (std::optional<int> rc = RunGenhtml(o, info)) return *rc;
    if (!o.quiet)
      fprintf(stderr, "remcov report: wrote %s/index.html\n", o.html.c_str());
    // With --html, a report goes to stdout (or -o) only when asked for.
    if (!o.text_asked) return kExitOk;
  }
  ExportRequest r;
  r.format = o.format;
  r.data = &in.data[0];
  r.model = in.model.ok() ? &in.model.value() : nullptr;
  r.emit = e;
  r.cobertura = {o.root, "remcov " REMCOV_VERSION_STRING,
                 InputTimeMs(o.inputs)};
  r.open = [&](const CoverageModule& m) {
    return OpenModuleFile(o, m, &in.module_error);
  };
  r.progress = Progress(o);
  r.image = [&](const CoverageModule& m) -> StatusOr<ElfImage> {
    MissingInput missing = MissingInput::kNone;
    auto file = CheckedModuleFile(Files(o), m, &missing);
    StatusOr<ElfImage> image =
        file.ok()
            ? ReadElfImage(*file)
            : StatusOr<ElfImage>(NameOption(file.status(), missing, o, m));
    if (!image.ok()) in.module_error = true;
    return image;
  };
  auto out = RunExport(r);
  if (!out.ok()) return FailModel(o, in.module_error, out.status());
  for (const std::string& w : out->warnings)
    fprintf(stderr, "remcov report: warning: %s\n", w.c_str());
  if (o.format->output == FormatOutput::kDirectory) {
    return WriteFiles(o, o.output, out->files).value_or(kExitOk);
  }
  Status s = WriteAll(o.output, out->bytes);
  if (!s.ok()) return Fail(o, kExitFailure, s);
  return kExitOk;
}

int DiffMain(int argc, char** argv) {
  Options o;
  Loaded in;
  if (std::optional<int> rc = ParseAndLoad(argc, argv, true, &o, &in))
    return *rc;
  if (!ShareModule(*in.model)) {
    fprintf(stderr,
            "remcov diff: warning: %s and %s share no module (compared by "
            "build-id, else path): are they runs of different programs?\n",
            o.inputs[0].c_str(), o.inputs[1].c_str());
  }
  EmitOptions e;
  e.root = o.root;
  e.input_name = o.inputs[0];
  e.input_name_b = o.inputs[1];
  e.data = &in.data[0];
  e.data_b = &in.data[1];
  const bool json = o.format->format == ReportFormat::kJson;
  Status s = WriteAll(
      o.output, json ? EmitDiffJson(*in.model, e) : EmitDiffText(*in.model, e));
  if (!s.ok()) return Fail(o, kExitFailure, s);
  return kExitOk;
}

}  // namespace remcov::tool
