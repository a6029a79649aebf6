// SPDX-License-Identifier: Apache-2.0
// A consumer's AFL++ target (remcov_add_afl_target from the installed
// package): each input byte goes through the instrumented target code.
#include <stddef.h>
#include <stdint.h>

extern "C" int consumer_target(int x);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int sum = 0;
  for (size_t i = 0; i < size; i++) sum += consumer_target(data[i]);
  return sum < 0;
}
