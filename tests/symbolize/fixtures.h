// SPDX-License-Identifier: Apache-2.0
// The site fixtures tests/symbolize/CMakeLists.txt builds (its
// REMCOV_SITES_* definitions): shared libraries and PIE executables per
// compiler and kind, and relocatable objects (like a kernel module's .ko).
#ifndef REMCOV_TESTS_SYMBOLIZE_FIXTURES_H_
#define REMCOV_TESTS_SYMBOLIZE_FIXTURES_H_

#include <sstream>
#include <string>
#include <vector>

namespace remcov::testing {

// The non-empty items of a comma-separated list.
inline std::vector<std::string> SplitCommas(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string v;
  while (std::getline(in, v, ',')) {
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

// "gcc_plt", "clang_exe", ...: the linked fixtures.
inline std::vector<std::string> Variants() {
  return SplitCommas(REMCOV_SITES_VARIANTS);
}

inline std::string VariantPath(const std::string& v) {
  if (v.ends_with("_exe")) return std::string(REMCOV_SITES_DIR) + "/sites_" + v;
  return std::string(REMCOV_SITES_DIR) + "/libsites_" + v + ".so";
}

// The paths of the relocatable (ET_REL) fixtures, one per compiler.
inline std::vector<std::string> RelocatableObjects() {
  std::vector<std::string> out;
  for (const std::string& v : SplitCommas(REMCOV_SITES_OBJECTS))
    out.push_back(std::string(REMCOV_SITES_DIR) + "/sites_" + v + ".o");
  return out;
}

}  // namespace remcov::testing

#endif  // REMCOV_TESTS_SYMBOLIZE_FIXTURES_H_
