/* SPDX-License-Identifier: Apache-2.0 */
/* main() for the executable variant of the site fixture: a PIE that calls
 * the callbacks of the shared runtime (libremcov_rt.so) through its PLT. */
#include <string.h>

int sites_fixture_run(const char* s, size_t n);

int main(int argc, char** argv) {
  (void)argc;
  return sites_fixture_run(argv[0], strlen(argv[0])) > 0 ? 0 : 1;
}
