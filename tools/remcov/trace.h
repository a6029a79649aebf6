// SPDX-License-Identifier: Apache-2.0
// `remcov trace`: run a command under KCOV (kernel, remote or in-process mode)
// and print or save its coverage.
#ifndef REMCOV_TOOLS_REMCOV_TRACE_H_
#define REMCOV_TOOLS_REMCOV_TRACE_H_

namespace remcov::tool {

// argv[0] is "trace". Returns the process exit code.
int TraceMain(int argc, char** argv);

}  // namespace remcov::tool

#endif  // REMCOV_TOOLS_REMCOV_TRACE_H_
