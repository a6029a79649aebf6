/* SPDX-License-Identifier: Apache-2.0 */
/* fixture_cov.c built with -fsanitize-coverage=trace-pc only (no trace-cmp):
 * `remcov trace --cmp` on it records nothing, and says why. */
#include "fixture_cov.c"
