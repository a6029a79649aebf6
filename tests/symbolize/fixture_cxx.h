// SPDX-License-Identifier: Apache-2.0
// The instrumented C++ fixture of the symbolizer tests.
#ifndef REMCOV_TESTS_SYMBOLIZE_FIXTURE_CXX_H_
#define REMCOV_TESTS_SYMBOLIZE_FIXTURE_CXX_H_

#include <string>

namespace remcov::symbolize_fixture {

// Counts words, letters and numbers of `text`; instrumented.
int Run(const std::string& text);

}  // namespace remcov::symbolize_fixture

#endif  // REMCOV_TESTS_SYMBOLIZE_FIXTURE_CXX_H_
