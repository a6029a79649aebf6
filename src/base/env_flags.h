// SPDX-License-Identifier: Apache-2.0
// remcov's numeric configuration variables (src/base/env_flags.inc lists
// them), read with the one number parser (base/number.h). Header-only but
// for the error printer (remcov_base, env_flags.cc), so the runtime can use
// the constants and the parser too (at start-up, not on the hot path).
#ifndef REMCOV_BASE_ENV_FLAGS_H_
#define REMCOV_BASE_ENV_FLAGS_H_

#include <stdint.h>

#include "base/number.h"

namespace remcov::internal {

// One REMCOV_ENV_NUMBER line of env_flags.inc.
struct EnvNumberFlag {
  const char* name;        // the variable, e.g. "REMCOV_AFL_PC_WORDS"
  uint64_t default_value;  // when it is unset
  uint64_t min;            // accepted range, both ends included
  uint64_t max;
  const char* noun;  // what the number counts, for the error message
};

#define REMCOV_ENV_NUMBER(id, name, def, lo, hi, noun, what) \
  inline constexpr EnvNumberFlag id{name, def, lo, hi, noun};
#include "base/env_flags.inc"
#undef REMCOV_ENV_NUMBER

// The flag's value from text (getenv's result: null when unset): its default
// when text is null, else ParseNumber within the flag's range. False
// (and *out untouched) when text is set but not such a number: the caller
// reports "<name>=<text> is not <noun> in [min, max]" and stops.
constexpr bool EnvNumber(const EnvNumberFlag& flag, const char* text,
                         uint64_t* out) {
  if (text == nullptr) {
    *out = flag.default_value;
    return true;
  }
  return ParseNumber(text, flag.min, flag.max, out);
}

// Writes "<program>: <name>=<text> is not <noun> in [min, max]\n" to stderr
// and flushes it (the range's ends as 2^k or 10^k where they are such
// powers). For programs and adaptors, which then stop; not for the runtime.
void PrintEnvNumberError(const char* program, const EnvNumberFlag& flag,
                         const char* text);

}  // namespace remcov::internal

#endif  // REMCOV_BASE_ENV_FLAGS_H_
