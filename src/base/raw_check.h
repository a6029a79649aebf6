// SPDX-License-Identifier: Apache-2.0
// Signal-safe invariant checks and errno preservation for code that may run in
// a signal handler or inside the coverage callbacks: a failed check writes a
// fixed message with write(2) and aborts; nothing is formatted or allocated.
#ifndef REMCOV_BASE_RAW_CHECK_H_
#define REMCOV_BASE_RAW_CHECK_H_

#include <errno.h>

namespace remcov::internal {

// Writes msg to stderr with raw write(2) calls, then abort().
// Async-signal-safe.
[[noreturn]] void RawCheckFailed(const char* msg);

// Saves errno on construction and restores it on destruction: every runtime
// entry point that can run in a signal handler or between a failing system call
// and the caller's errno check must leave errno unchanged.
class ErrnoSaver {
 public:
  ErrnoSaver() : saved_(errno) {}
  ~ErrnoSaver() { errno = saved_; }
  ErrnoSaver(const ErrnoSaver&) = delete;
  ErrnoSaver& operator=(const ErrnoSaver&) = delete;

 private:
  int saved_;
};

}  // namespace remcov::internal

#define REMCOV_INTERNAL_STR2(x) #x
#define REMCOV_INTERNAL_STR(x) REMCOV_INTERNAL_STR2(x)
#define REMCOV_RAW_CHECK(cond)                           \
  do {                                                   \
    if (__builtin_expect(!(cond), 0))                    \
      ::remcov::internal::RawCheckFailed(                \
          "remcov: CHECK failed: " #cond " at " __FILE__ \
          ":" REMCOV_INTERNAL_STR(__LINE__) "\n");       \
  } while (0)

#endif  // REMCOV_BASE_RAW_CHECK_H_
