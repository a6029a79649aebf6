// SPDX-License-Identifier: Apache-2.0
#include "inputs.h"

#include <sys/stat.h>

namespace remcov::tool {

StatusOr<CoverageData> ReadInput(const std::string& name) {
  if (name == kStdinName) return ReadCoverageFd(0, "standard input");
  return ReadCoverageFile(name);
}

std::string CheckStdinOnce(const std::vector<std::string>& inputs) {
  int n = 0;
  for (const std::string& in : inputs) n += in == kStdinName;
  if (n > 1) return "standard input ('-') can be read only once";
  return "";
}

std::string OutputIsInput(const std::vector<std::string>& outputs,
                          const std::vector<std::string>& inputs) {
  for (const std::string& out : outputs) {
    struct stat so;
    if (stat(out.c_str(), &so) != 0) continue;
    for (const std::string& in : inputs) {
      struct stat si;
      const bool ok =
          in == kStdinName ? fstat(0, &si) == 0 : stat(in.c_str(), &si) == 0;
      if (ok && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
        const std::string what =
            in == kStdinName ? "standard input's file" : "the input " + in;
        return "the output " + out + " is " + what +
               ": writing it would destroy the input";
      }
    }
  }
  return "";
}

}  // namespace remcov::tool
