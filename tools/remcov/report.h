// SPDX-License-Identifier: Apache-2.0
// `remcov report` and `remcov diff`: source coverage of coverage files
// (docs/tools/remcov.md).
#ifndef REMCOV_TOOLS_REMCOV_REPORT_H_
#define REMCOV_TOOLS_REMCOV_REPORT_H_

namespace remcov::tool {

// argv[0] is "report" / "diff". Return the process exit code.
int ReportMain(int argc, char** argv);
int DiffMain(int argc, char** argv);

}  // namespace remcov::tool

#endif  // REMCOV_TOOLS_REMCOV_REPORT_H_
