/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled with -std=c11 -D_XOPEN_SOURCE=600: bsd_signal (withdrawn in
 * POSIX 2008, so declared only before it), sigset and siginterrupt. */
#include <signal.h>

#include "installers.h"

#if defined(__USE_MISC) || !defined(__USE_XOPEN_EXTENDED)
#error "this file must be compiled with -std=c11 -D_XOPEN_SOURCE=600"
#endif

/* glibc marks sigset and siginterrupt deprecated; they are what is tested. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

installers_handler_t installers_xopen_bsd_signal(int sig,
                                                 installers_handler_t h) {
  return bsd_signal(sig, h);
}

installers_handler_t installers_xopen_sigset(int sig, installers_handler_t h) {
  return sigset(sig, h);
}

int installers_xopen_siginterrupt(int sig, int interrupt) {
  return siginterrupt(sig, interrupt);
}

installers_handler_t installers_sig_hold(void) { return SIG_HOLD; }
