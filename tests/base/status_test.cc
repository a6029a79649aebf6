// SPDX-License-Identifier: Apache-2.0
#include "remcov/status.h"

#include <errno.h>

#include <gtest/gtest.h>

#include "remcov/kcov_abi.h"

namespace remcov {
namespace {

TEST(StatusTest, ErrnoMapsToCodeAndIsKept) {
  Status s = Status::FromErrno(EBUSY, "KCOV_ENABLE");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.error_number(), EBUSY);
  EXPECT_NE(s.ToString().find("KCOV_ENABLE"), std::string::npos);
  EXPECT_NE(s.ToString().find("errno 16"), std::string::npos);
}

TEST(StatusTest, EnotsuppIsExplainedNotUnknown) {
  Status s = Status::FromErrno(REMCOV_ENOTSUPP, "KCOV_ENABLE(CMP)");
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.ToString().find("ENOTSUPP"), std::string::npos);
}

TEST(StatusTest, EveryCodeHasItsName) {
  const char* const names[] = {"OK",
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
  for (int i = 0; i < 12; i++)
    EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(i)), names[i]) << i;
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(12)), "Unknown");
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(-1)), "Unknown");
}

TEST(StatusTest, EachErrnoMapsToItsCodeAndOthersAreIoErrors) {
  const struct {
    int err;
    StatusCode code;
  } cases[] = {{EINVAL, StatusCode::kInvalidArgument},
               {ENOENT, StatusCode::kNotFound},
               {EACCES, StatusCode::kPermissionDenied},
               {EPERM, StatusCode::kPermissionDenied},
               {EBUSY, StatusCode::kFailedPrecondition},
               {EEXIST, StatusCode::kAlreadyExists},
               {ENOMEM, StatusCode::kResourceExhausted},
               {ENOTTY, StatusCode::kUnimplemented},
               {REMCOV_ENOTSUPP, StatusCode::kUnimplemented},
               {EIO, StatusCode::kIoError},
               {ENOSPC, StatusCode::kIoError},
               {0, StatusCode::kIoError}};
  for (const auto& c : cases) {
    const Status s = Status::FromErrno(c.err, "x");
    EXPECT_EQ(s.code(), c.code) << c.err;
    EXPECT_EQ(s.error_number(), c.err);
  }
}

TEST(StatusTest, StatusOrHoldsValueOrError) {
  StatusOr<int> v(5);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 5);
  StatusOr<int> e(Status(StatusCode::kNotFound, "x"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace remcov
