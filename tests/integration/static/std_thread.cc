// SPDX-License-Identifier: Apache-2.0
// std::thread from C: in a static program libstdc++.a's thread start calls
// pthread_create, which must reach the runtime's, as in a dynamic program.
#include <system_error>
#include <thread>

#include "probes.h"

extern "C" int run_on_std_thread(void (*fn)(void*), void* arg) {
  try {
    std::thread t(fn, arg);
    t.join();
  } catch (const std::system_error&) {
    return -1;
  }
  return 0;
}
