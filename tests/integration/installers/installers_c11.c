/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled with -std=c11 and no feature macro: <signal.h> maps signal() to
 * __sysv_signal (no __USE_MISC). */
#include <signal.h>

#include "installers.h"

#if defined(__USE_MISC)
#error "this file must be compiled without _DEFAULT_SOURCE (-std=c11)"
#endif

installers_handler_t installers_c11_signal(int sig, installers_handler_t h) {
  return signal(sig, h);
}
