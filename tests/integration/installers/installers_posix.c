/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled with -std=c11 -D_POSIX_C_SOURCE=200809L: signal() is
 * __sysv_signal here too (no __USE_MISC). */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "installers.h"

#if defined(__USE_MISC) || _POSIX_C_SOURCE != 200809L
#error "this file must be compiled with -std=c11 -D_POSIX_C_SOURCE=200809L"
#endif

installers_handler_t installers_posix_signal(int sig, installers_handler_t h) {
  return signal(sig, h);
}

installers_handler_t installers_posix_sigaction(int sig,
                                                installers_handler_t h) {
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  memset(&old, 0, sizeof old);
  act.sa_handler = h;
  sigemptyset(&act.sa_mask);
  act.sa_flags = 0;
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}
