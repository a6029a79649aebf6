// SPDX-License-Identifier: Apache-2.0
// remcov::Status: errno mapping and formatting.
#include "remcov/status.h"

#include <errno.h>
#include <string.h>

#include <iterator>

#include "remcov/kcov_abi.h"

namespace remcov {

namespace {

// Indexed by StatusCode (status.h numbers them from 0, in this order).
constexpr std::string_view kCodeNames[] = {"OK",
                                           "InvalidArgument",
                                           "NotFound",
                                           "Unavailable",
                                           "PermissionDenied",
                                           "FailedPrecondition",
                                           "ResourceExhausted",
                                           "IoError",
                                           "DataLoss",
                                           "Internal",
                                           "AlreadyExists",
                                           "Unimplemented"};
static_assert(std::size(kCodeNames) ==
              static_cast<size_t>(StatusCode::kUnimplemented) + 1);

// The errnos with a code of their own; any other is kIoError.
constexpr struct {
  int err;
  StatusCode code;
} kErrnoCodes[] = {{EINVAL, StatusCode::kInvalidArgument},
                   {ENOENT, StatusCode::kNotFound},
                   {EACCES, StatusCode::kPermissionDenied},
                   {EPERM, StatusCode::kPermissionDenied},
                   {EBUSY, StatusCode::kFailedPrecondition},
                   {EEXIST, StatusCode::kAlreadyExists},
                   {ENOMEM, StatusCode::kResourceExhausted},
                   {ENOTTY, StatusCode::kUnimplemented},
                   {REMCOV_ENOTSUPP, StatusCode::kUnimplemented}};

}  // namespace

std::string_view StatusCodeName(StatusCode code) {
  const auto i = static_cast<size_t>(code);
  return i < std::size(kCodeNames) ? kCodeNames[i] : "Unknown";
}

Status Status::FromErrno(int err, std::string_view context) {
  StatusCode code = StatusCode::kIoError;
  for (const auto& e : kErrnoCodes) {
    if (e.err == err) code = e.code;
  }
  return Status(code, std::string(context), err);
}

std::string Status::ToString() const {
  std::string out(StatusCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  if (errno_ != 0) {
    out += " (errno ";
    out += std::to_string(errno_);
    out += ": ";
    if (errno_ == REMCOV_ENOTSUPP) {
      out += "ENOTSUPP, operation not supported by this kernel";
    } else {
      char buf[128];
      out += strerror_r(errno_, buf, sizeof buf);
    }
    out += ")";
  }
  return out;
}

}  // namespace remcov
