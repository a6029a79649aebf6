/* SPDX-License-Identifier: Apache-2.0 */
/* Calls malloc: check_callbacks.sh must reject this object. */
#include <stdlib.h>
void* remcov_negative_control(void) { return malloc(16); }
