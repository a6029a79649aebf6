// SPDX-License-Identifier: Apache-2.0
// remcov::Status and remcov::StatusOr<T>: the error model of remcov's C++ API.
// No exceptions cross remcov's boundaries; a Status carries a small closed code
// set, the errno of the failing system call where there was one, and a message.
#ifndef REMCOV_STATUS_H_
#define REMCOV_STATUS_H_

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "remcov/export.h"

namespace remcov {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kUnavailable = 3,  // e.g. no kcov device on this system
  kPermissionDenied = 4,
  kFailedPrecondition = 5,  // wrong lifecycle state
  kResourceExhausted = 6,   // buffer overflow, pool exhausted
  kIoError = 7,             // a system call failed; see errno()
  kDataLoss = 8,            // corrupt data
  kInternal = 9,
  kAlreadyExists = 10,  // e.g. a remote handle registered elsewhere
  kUnimplemented = 11,  // e.g. kernel without comparison support
};

REMCOV_EXPORT std::string_view StatusCodeName(StatusCode code);

class [[nodiscard, gnu::visibility("default")]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, int err = 0)
      : code_(code), errno_(err), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  // Maps an errno value to the closest StatusCode and keeps the errno.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // The errno of the failing call, or 0.
  int error_number() const { return errno_; }
  const std::string& message() const { return message_; }
  // "<CodeName>: <message>[ (errno N: strerror)]".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  int errno_ = 0;
  std::string message_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: !ok().
  const Status& status() const { return std::get<Status>(v_); }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace remcov

#define REMCOV_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::remcov::Status _remcov_st = (expr);    \
    if (!_remcov_st.ok()) return _remcov_st; \
  } while (0)

#endif  // REMCOV_STATUS_H_
