// SPDX-License-Identifier: Apache-2.0
// remcov's stable exit codes (docs/tools/remcov.md, "EXIT STATUS"). `remcov
// trace` otherwise mirrors the traced command: its exit status, or 128+N when
// a signal N ended it. Values are pinned by tests/cli.
//
// The steps of a command (parse, load, run, write) return std::optional<int>:
// empty when the command goes on, else the exit code to stop with (kExitOk
// after --help), so a caller writes
//   if (std::optional<int> rc = Parse(argc, argv, &o)) return *rc;
#ifndef REMCOV_TOOLS_REMCOV_EXIT_CODES_H_
#define REMCOV_TOOLS_REMCOV_EXIT_CODES_H_

#include "remcov/status.h"

namespace remcov::tool {

inline constexpr int kExitOk = 0;
// `remcov report` / `remcov diff`:
inline constexpr int kExitBadCoverage =
    117;  // coverage file unreadable, corrupt, or of an unknown version
inline constexpr int kExitNoSource =
    118;  // a module or its debug info is missing or changed (build-id)
inline constexpr int kExitGenhtml = 119;  // genhtml missing or failed
inline constexpr int kExitUsage = 120;    // bad command line
inline constexpr int kExitNoDevice =
    121;  // no kcov: debugfs not mounted, no CONFIG_KCOV
inline constexpr int kExitPermission = 122;   // EACCES/EPERM on the device
inline constexpr int kExitUnsupported = 123;  // 524 (no comparisons), ENOTTY
inline constexpr int kExitBusy = 124;  // EBUSY / EEXIST (handle held elsewhere)
inline constexpr int kExitFailure =
    125;  // any other remcov failure (I/O, corrupt data)
inline constexpr int kExitCannotExecute =
    126;                                   // command found but not executable
inline constexpr int kExitNotFound = 127;  // command not found

inline int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kNotFound:
    case StatusCode::kUnavailable:
      return kExitNoDevice;
    case StatusCode::kPermissionDenied:
      return kExitPermission;
    case StatusCode::kUnimplemented:
      return kExitUnsupported;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return kExitBusy;
    default:
      return kExitFailure;
  }
}

}  // namespace remcov::tool

#endif  // REMCOV_TOOLS_REMCOV_EXIT_CODES_H_
