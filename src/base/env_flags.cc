// SPDX-License-Identifier: Apache-2.0
// The error message for a configuration variable that is not a number in
// its range (src/base/env_flags.h).
#include "base/env_flags.h"

#include <stdio.h>

#include <string>

#include "base/strings.h"

namespace remcov::internal {
namespace {

// 2^k or 10^k when v is such a power (and at least 1024 or 1000: small
// numbers read better as they are), else the decimal number.
std::string RangeEnd(uint64_t v) {
  if (v >= 1024 && (v & (v - 1)) == 0)
    return StrPrintf("2^%d", __builtin_ctzll(v));
  int tens = 0;
  uint64_t rest = v;
  while (rest >= 10 && rest % 10 == 0) {
    rest /= 10;
    tens++;
  }
  if (rest == 1 && tens >= 3) return StrPrintf("10^%d", tens);
  return StrPrintf("%llu", static_cast<unsigned long long>(v));
}

}  // namespace

void PrintEnvNumberError(const char* program, const EnvNumberFlag& flag,
                         const char* text) {
  fprintf(stderr, "%s: %s=%s is not %s in [%s, %s]\n", program, flag.name, text,
          flag.noun, RangeEnd(flag.min).c_str(), RangeEnd(flag.max).c_str());
  fflush(stderr);
}

}  // namespace remcov::internal
