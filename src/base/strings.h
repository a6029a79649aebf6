// SPDX-License-Identifier: Apache-2.0
// Small string and file helpers shared by the libraries outside the runtime
// (format, report): printf into a std::string, and a positioned read that
// retries short reads. Not for the runtime's hot or signal paths (they
// allocate and call libc).
#ifndef REMCOV_BASE_STRINGS_H_
#define REMCOV_BASE_STRINGS_H_

#include <stddef.h>
#include <stdint.h>

#include <string>

namespace remcov::internal {

// vsnprintf into a std::string of the exact length ("" on a format error).
std::string StrPrintf(const char* fmt, ...)
    __attribute__((format(printf, 1, 2)));

// Reads exactly n bytes of fd at offset off into *out (resized to n), retrying
// EINTR and short reads; false on a short file or an error (errno set by
// pread, or unchanged at end of file).
bool ReadFullyAt(int fd, uint64_t off, size_t n, std::string* out);

}  // namespace remcov::internal

#endif  // REMCOV_BASE_STRINGS_H_
