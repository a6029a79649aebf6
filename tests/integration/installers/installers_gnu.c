/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled with -std=gnu11 -D_GNU_SOURCE: signal() is glibc's BSD signal
 * (__USE_MISC), ssignal its alias; sysv_signal and __sysv_signal by name. */
#include <signal.h>

#include "installers.h"

#if !defined(__USE_MISC) || !defined(__USE_GNU)
#error "this file must be compiled with -std=gnu11 -D_GNU_SOURCE"
#endif

installers_handler_t installers_default_signal(int sig,
                                               installers_handler_t h) {
  return signal(sig, h);
}

installers_handler_t installers_default_ssignal(int sig,
                                                installers_handler_t h) {
  return ssignal(sig, h);
}

installers_handler_t installers_gnu_sysv_signal(int sig,
                                                installers_handler_t h) {
  return sysv_signal(sig, h);
}

installers_handler_t installers_gnu___sysv_signal(int sig,
                                                  installers_handler_t h) {
  return __sysv_signal(sig, h);
}
