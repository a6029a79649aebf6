// SPDX-License-Identifier: Apache-2.0
// remcov::Status: errno mapping and formatting.
#include "remcov/status.h"

#include <errno.h>
#include <string.h>

#include "remcov/kcov_abi.h"

namespace remcov {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kIoError:
      return "IoError";
    case StatusCode::kDataLoss:
      return "DataLoss";
    case StatusCode::kInternal:
      return "Internal";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kUnimplemented:
      return "Unimplemented";
  }
  return "Unknown";
}

Status Status::FromErrno(int err, std::string_view context) {
  StatusCode code = StatusCode::kIoError;
  switch (err) {
    case EINVAL:
      code = StatusCode::kInvalidArgument;
      break;
    case ENOENT:
      code = StatusCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
      code = StatusCode::kPermissionDenied;
      break;
    case EBUSY:
      code = StatusCode::kFailedPrecondition;
      break;
    case EEXIST:
      code = StatusCode::kAlreadyExists;
      break;
    case ENOMEM:
      code = StatusCode::kResourceExhausted;
      break;
    case ENOTTY:
    case REMCOV_ENOTSUPP:
      code = StatusCode::kUnimplemented;
      break;
    default:
      break;
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
