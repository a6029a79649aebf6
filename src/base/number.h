// SPDX-License-Identifier: Apache-2.0
// The one parser of numbers that people write: environment variables
// (base/env_flags.h), the runtime's hand-off descriptor and command-line
// options. Header-only, constexpr and free of libc, allocation and locks, so
// the runtime can use it too (at start-up; it is not for the hot path).
#ifndef REMCOV_BASE_NUMBER_H_
#define REMCOV_BASE_NUMBER_H_

#include <stdint.h>

namespace remcov::internal {

// Parses text as an unsigned number in [min, max], in C notation (what
// strtoull with base 0 reads): decimal; hexadecimal after "0x"/"0X"; octal
// after a leading "0". Unlike strtoull, nothing else is accepted: no sign,
// no blanks, no suffix, no empty string, nothing beyond 64 bits. On success
// stores the value in *out and returns true; otherwise returns false and
// leaves *out alone. text may be null (false).
constexpr bool ParseNumber(const char* text, uint64_t min, uint64_t max,
                           uint64_t* out) {
  if (text == nullptr || *text == '\0') return false;
  uint64_t base = 10;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text += 2;
    if (*text == '\0') return false;
  } else if (text[0] == '0') {
    base = 8;
  }
  uint64_t v = 0;
  for (; *text != '\0'; text++) {
    const char c = *text;
    uint64_t digit = base;  // not a digit
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint64_t>(c - 'A' + 10);
    }
    if (digit >= base) return false;
    if (v > (UINT64_MAX - digit) / base) return false;  // beyond 64 bits
    v = v * base + digit;
  }
  if (v < min || v > max) return false;
  *out = v;
  return true;
}

// Writes v's decimal digits at p (at most 20, no terminator) and returns the
// end. Free of libc, so async-signal-safe.
constexpr char* AppendDecimal(char* p, uint64_t v) {
  char digits[20] = {};
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

}  // namespace remcov::internal

#endif  // REMCOV_BASE_NUMBER_H_
