// SPDX-License-Identifier: Apache-2.0
// `remcov`: the command-line tool. A thin dispatcher over subcommands; help
// goes to stdout, usage errors to stderr with exit code 120.
#include <stdio.h>
#include <string.h>

#include "exit_codes.h"
#include "trace.h"

namespace {

const char kUsage[] =
    "Usage: remcov COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  trace     run a command and print the coverage it produces\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "\n"
    "Run `remcov COMMAND --help` for a command's options.\n"
    "See docs/tools/remcov.md for exit codes.\n";

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
  if (strcmp(cmd, "trace") == 0)
    return remcov::tool::TraceMain(argc - 1, argv + 1);
  fprintf(stderr, "remcov: unknown command '%s'\n\n%s", cmd, kUsage);
  return remcov::tool::kExitUsage;
}
