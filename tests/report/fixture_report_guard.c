/* SPDX-License-Identifier: Apache-2.0 */
/* fixture_report.c built with -fsanitize-coverage=trace-pc-guard (clang):
 * the calls LLVM's `sancov -symbolize` takes for coverage points
 * (tests/report/export_test.py, case sancov_symbolize). A file of its own
 * so that its compile options are its own; the DWARF still names
 * fixture_report.c. */
#include "fixture_report.c"
