// SPDX-License-Identifier: Apache-2.0
// Coverage-file inputs and outputs shared by `remcov report`, `diff` and
// `merge`: "-" is standard input (read with the bound of any non-regular
// file, kCoverageStreamMaxBytes), and an output that is one of the inputs is
// refused before anything is written.
#ifndef REMCOV_TOOLS_REMCOV_INPUTS_H_
#define REMCOV_TOOLS_REMCOV_INPUTS_H_

#include <string>
#include <vector>

#include "remcov/coverage_file.h"
#include "remcov/status.h"

namespace remcov::tool {

inline constexpr char kStdinName[] = "-";

// Reads one input: a path, or "-" for standard input.
StatusOr<CoverageData> ReadInput(const std::string& name);

// "" when the inputs are acceptable, else why not (more than one "-").
std::string CheckStdinOnce(const std::vector<std::string>& inputs);

// "" when no output is one of the inputs (same device and inode, whatever
// the names; "-" is standard input's file), else the message.
std::string OutputIsInput(const std::vector<std::string>& outputs,
                          const std::vector<std::string>& inputs);

}  // namespace remcov::tool

#endif  // REMCOV_TOOLS_REMCOV_INPUTS_H_
