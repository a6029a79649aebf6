// SPDX-License-Identifier: Apache-2.0
// `remcov merge -o OUT FILE...`: the union of coverage files, one input read
// at a time into a CoverageMerger (src/format/coverage_merge.h, which holds
// the rules); this file parses the flags, writes OUT and prints a summary.
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "commands.h"
#include "exit_codes.h"
#include "format/coverage_merge.h"
#include "inputs.h"

namespace remcov::tool {
namespace {

const char kMergeHelp[] =
    "Usage: remcov merge [OPTIONS] -o OUT FILE...\n"
    "\n"
    "Writes the union of coverage files (one mode: PC or comparison) to OUT,\n"
    "a coverage file: modules are matched by build-id (by path without one)\n"
    "and kept side by side when they differ, per-PC counts are summed, and\n"
    "the dropped counters are summed. Inputs are read one at a time: memory\n"
    "is bounded by the distinct PCs. FILE may be '-' (standard input, once).\n"
    "\n"
    "Options:\n"
    "  -o FILE            the merged coverage file (required; not an input)\n"
    "  --unique           write each PC (or record) once, with the unique\n"
    "                     flag, instead of repeated its summed count\n"
    "  -q, --quiet        no summary on stderr (lost entries are still said)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 success, 117 unreadable or corrupt coverage file, 120\n"
    "usage (also: inputs of different modes or word sizes, -o is an input),\n"
    "125 other failure (e.g. cannot write -o FILE).\n";

int Usage(const std::string& msg) {
  fprintf(stderr, "remcov merge: %s\nTry 'remcov merge --help'.\n",
          msg.c_str());
  return kExitUsage;
}

int Fail(int code, const std::string& msg) {
  fprintf(stderr, "remcov merge: %s\n", msg.c_str());
  return code;
}

// OUT is written under a temporary name beside it and renamed at the end:
// an unwritable OUT fails before any input is read, and a failed merge
// leaves no partial file.
class TempOutput {
 public:
  ~TempOutput() {
    if (fd_ >= 0) close(fd_);
    if (!tmp_.empty()) unlink(tmp_.c_str());
  }
  Status Open(const std::string& out) {
    out_ = out;
    std::string tmp = out + ".tmpXXXXXX";
    fd_ = mkstemp(tmp.data());
    if (fd_ < 0) return Status::FromErrno(errno, "cannot create " + out);
    tmp_ = tmp;
    const mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd_, 0666 & ~mask) != 0)
      return Status::FromErrno(errno, "cannot create " + out);
    return Status::Ok();
  }
  int fd() const { return fd_; }
  Status Commit() {
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return Status::FromErrno(errno, "cannot write " + out_);
    if (rename(tmp_.c_str(), out_.c_str()) != 0)
      return Status::FromErrno(errno, "cannot write " + out_);
    tmp_.clear();
    return Status::Ok();
  }

 private:
  std::string out_, tmp_;
  int fd_ = -1;
};

}  // namespace

int MergeMain(int argc, char** argv) {
  std::string output;
  bool unique = false, quiet = false;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      fputs(kMergeHelp, stdout);
      return kExitOk;
    } else if (a == "-o") {
      if (i + 1 >= argc || argv[i + 1][0] == '\0')
        return Usage("-o needs a file name");
      output = argv[++i];
    } else if (a == "--unique") {
      unique = true;
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "--") {
      for (i++; i < argc; i++) inputs.push_back(argv[i]);
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("unknown option '" + a + "'");
    } else {
      inputs.push_back(a);
    }
  }
  if (output.empty()) return Usage("needs -o OUT (the merged coverage file)");
  if (output == kStdinName) {
    return Usage(
        "-o - is not supported: OUT is a file (written under a "
        "temporary name, then renamed)");
  }
  if (inputs.empty()) return Usage("needs at least one coverage file");
  std::string why = CheckStdinOnce(inputs);
  if (why.empty()) why = OutputIsInput({output}, inputs);
  if (!why.empty()) return Usage(why);

  TempOutput out;
  Status s = out.Open(output);
  if (!s.ok()) return Fail(kExitFailure, s.ToString());
  CoverageMerger merger;
  for (const std::string& in : inputs) {
    auto d = ReadInput(in);  // freed before the next input is read
    if (!d.ok()) return Fail(kExitBadCoverage, d.status().ToString());
    s = merger.Add(*d);
    if (!s.ok()) return Fail(kExitUsage, in + ": " + s.message());
  }
  s = merger.Write(out.fd(), output, unique);
  if (s.ok()) s = out.Commit();
  if (!s.ok()) {
    return Fail(
        s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure,
        s.ToString());
  }
  const MergeStats& st = merger.stats();
  if (!quiet) {
    fprintf(stderr,
            "remcov merge: %llu files, %llu entries read, %llu distinct, "
            "%zu modules in the load map",
            static_cast<unsigned long long>(st.files),
            static_cast<unsigned long long>(st.entries_in),
            static_cast<unsigned long long>(merger.distinct()),
            merger.modules());
    if (st.unattributed != 0) {
      fprintf(stderr, " (%llu entries outside every module)",
              static_cast<unsigned long long>(st.unattributed));
    }
    fprintf(stderr, "; wrote %llu entries to %s\n",
            static_cast<unsigned long long>(merger.output_entries(unique)),
            output.c_str());
  }
  if (st.dropped != 0 || st.overflowed_files != 0) {
    fprintf(stderr,
            "remcov merge: warning: %llu entries dropped (buffer overflow) in "
            "%llu of %llu files: the merged coverage is partial\n",
            static_cast<unsigned long long>(st.dropped),
            static_cast<unsigned long long>(st.overflowed_files),
            static_cast<unsigned long long>(st.files));
  }
  return kExitOk;
}

}  // namespace remcov::tool
