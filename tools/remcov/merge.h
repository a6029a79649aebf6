// SPDX-License-Identifier: Apache-2.0
// `remcov merge`: the union of coverage files (docs/tools/remcov.md).
#ifndef REMCOV_TOOLS_REMCOV_MERGE_H_
#define REMCOV_TOOLS_REMCOV_MERGE_H_

namespace remcov::tool {

// argv[0] is "merge". Returns the process exit code.
int MergeMain(int argc, char** argv);

}  // namespace remcov::tool

#endif  // REMCOV_TOOLS_REMCOV_MERGE_H_
