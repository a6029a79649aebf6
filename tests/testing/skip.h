// SPDX-License-Identifier: Apache-2.0
// The one way a remcov GoogleTest test skips: REMCOV_SKIP_OR_FAIL(reason).
// Under CI (CI=true, set by .ci/run and scripts/test-all.sh) a skip is a
// failure, so a suite cannot go green because its prerequisites vanished;
// elsewhere it is GTEST_SKIP with the same reason.
#ifndef REMCOV_TESTS_TESTING_SKIP_H_
#define REMCOV_TESTS_TESTING_SKIP_H_

#include <stdlib.h>
#include <string.h>

#include <gtest/gtest.h>

namespace remcov::testing {

inline bool UnderCi() {
  const char* v = getenv("CI");
  return v != nullptr && strcmp(v, "true") == 0;
}

}  // namespace remcov::testing

// Returns from the test (or SetUp) either way.
#define REMCOV_SKIP_OR_FAIL(reason)                                    \
  do {                                                                 \
    if (::remcov::testing::UnderCi()) {                                \
      GTEST_FAIL() << "a skip under CI=true is a failure: " << reason; \
    } else {                                                           \
      GTEST_SKIP() << reason;                                          \
    }                                                                  \
  } while (0)

#endif  // REMCOV_TESTS_TESTING_SKIP_H_
