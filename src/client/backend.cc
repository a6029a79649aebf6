// SPDX-License-Identifier: Apache-2.0
// Backends: the in-process runtime's, and the shared error explanations.
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "remcov/collector.h"
#include "remcov/kcov_abi.h"

namespace remcov {

Backend::~Backend() = default;

std::string Backend::Explain(const char* call, int err) const {
  std::string out = Name();
  out += ": ";
  out += call;
  out += " failed: ";
  if (err == REMCOV_ENOTSUPP) {
    out += "ENOTSUPP (524): comparison collection is not supported here";
  } else {
    char buf[128];
    out += strerror_r(err, buf, sizeof buf);
  }
  return out;
}

}  // namespace remcov
