// SPDX-License-Identifier: Apache-2.0
// The `remcov` subcommands (docs/tools/remcov.md), each a main() over the
// libraries: argv[0] is the subcommand's name; each returns the process exit
// code (tools/remcov/exit_codes.h).
//   trace   run a command under KCOV (kernel, remote or in-process mode) and
//           print or save its coverage (trace.cc)
//   report  source coverage of coverage files; diff, what one gains and loses
//           against another (report.cc)
//   merge   the union of coverage files (merge.cc)
#ifndef REMCOV_TOOLS_REMCOV_COMMANDS_H_
#define REMCOV_TOOLS_REMCOV_COMMANDS_H_

namespace remcov::tool {

int TraceMain(int argc, char** argv);
int ReportMain(int argc, char** argv);
int DiffMain(int argc, char** argv);
int MergeMain(int argc, char** argv);

}  // namespace remcov::tool

#endif  // REMCOV_TOOLS_REMCOV_COMMANDS_H_
