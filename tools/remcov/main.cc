// SPDX-License-Identifier: Apache-2.0
// `remcov`: the command-line tool. A thin dispatcher over subcommands; help
// goes to stdout, usage errors to stderr with exit code 120.
#include <stdio.h>
#include <string.h>

#include "remcov/coverage_file.h"
#include "remcov/version.h"

#include "commands.h"
#include "exit_codes.h"

namespace {

const char kUsage[] =
    "Usage: remcov COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  trace     run a command and print the coverage it produces\n"
    "  report    map coverage files to source: text, JSON, lcov, HTML\n"
    "  diff      the lines one coverage file gains and loses against another\n"
    "  merge     the union of coverage files, as one coverage file\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  --version      show the version and the coverage file versions\n"
    "\n"
    "Run `remcov COMMAND --help` for a command's options.\n"
    "See `man remcov` (docs/tools/remcov.md) for exit codes.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs(kUsage, stderr);
    return remcov::tool::kExitUsage;
  }
  const char* cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(kUsage, stdout);
    return remcov::tool::kExitOk;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("remcov %s\n", REMCOV_VERSION_STRING);
    printf("coverage files: writes version %u, reads versions %u to %u\n",
           remcov::kCoverageFileVersion, remcov::kCoverageFileOldestVersion,
           remcov::kCoverageFileVersion);
    return remcov::tool::kExitOk;
  }
  if (strcmp(cmd, "trace") == 0)
    return remcov::tool::TraceMain(argc - 1, argv + 1);
  if (strcmp(cmd, "merge") == 0)
    return remcov::tool::MergeMain(argc - 1, argv + 1);
  if (strcmp(cmd, "report") == 0 || strcmp(cmd, "diff") == 0) {
#ifdef REMCOV_TOOL_HAVE_REPORT
    return cmd[0] == 'r' ? remcov::tool::ReportMain(argc - 1, argv + 1)
                         : remcov::tool::DiffMain(argc - 1, argv + 1);
#else
    // remcov-static (the kernel lane's initramfs), or a build without
    // libdw/capstone: the symbolizer is not linked in.
    fprintf(stderr,
            "remcov %s: this remcov was built without the symbolizer "
            "(libdw, libelf, capstone); use a full build\n",
            cmd);
    return remcov::tool::kExitFailure;
#endif
  }
  fprintf(stderr, "remcov: unknown command '%s'\n\n%s", cmd, kUsage);
  return remcov::tool::kExitUsage;
}
