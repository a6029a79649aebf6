/* SPDX-License-Identifier: Apache-2.0 */
/* cli_fixture_dso ARG: runs cli_dispatch(ARG) and cli_dso(ARG), the latter
 * from libcli_dso.so, found through LD_LIBRARY_PATH (no rpath). */
int cli_dispatch(const char* s);
int cli_dso(const char* s);

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  (void)cli_dispatch(argv[1]);
  return cli_dso(argv[1]) > 0 ? 0 : 1;
}
