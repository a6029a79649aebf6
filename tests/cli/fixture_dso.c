/* SPDX-License-Identifier: Apache-2.0 */
/* The instrumented shared library of cli_fixture_dso (libcli_dso.so): its
 * path in the load map must be absolute even when the loader found it
 * through a relative LD_LIBRARY_PATH entry. */
int cli_dso(const char* s) { return s[0] == 'x' ? 2 : 1; }
