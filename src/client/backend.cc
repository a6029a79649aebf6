// SPDX-License-Identifier: Apache-2.0
// The Backend base class: its destructor and the default error explanation
// (Backend::Explain). The runtime's backend is in src/runtime_backend, the
// kernel's in src/kernel_client.
#include "remcov/backend.h"

#include "remcov/kcov_abi.h"

namespace remcov {

Backend::~Backend() = default;

// The errno text itself is not repeated here: every explanation becomes the
// message of a Status::FromErrno, whose ToString() appends "(errno N: ...)".
std::string Backend::Explain(const char* call, int err) const {
  std::string out = Name();
  out += ": ";
  out += call;
  out += " failed";
  if (err == REMCOV_ENOTSUPP)
    out += ": comparison collection is not supported here";
  return out;
}

}  // namespace remcov
