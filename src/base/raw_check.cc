// SPDX-License-Identifier: Apache-2.0
// Implementation of the raw, signal-safe failure path (see raw_check.h).
#include "base/raw_check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace remcov::internal {

void RawCheckFailed(const char* msg) {
  size_t left = strlen(msg);
  while (left > 0) {
    ssize_t n = write(2, msg, left);
    if (n <= 0) break;
    msg += n;
    left -= static_cast<size_t>(n);
  }
  abort();
}

}  // namespace remcov::internal
