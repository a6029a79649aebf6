#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check-log-selftest.sh CHECK_LOG TESTDATA: the serial-log parser accepts a good
# log and rejects failing, panicking, hung logs and missing required results.
set -u
check="$1" data="$2" bad=0
expect() {  # [CI=...] expect WANT_RC LOG [ARGS...]
  local want="$1"; shift
  "$check" "$@" >/dev/null 2>&1; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: check-log $* -> $got, want $want"; bad=1
  else echo "ok: check-log $(basename "$1") ${*:2} -> $got"; fi
}
# pass.log has one SKIP (kcov/x): fine outside CI, a failure under CI=true.
CI=false expect 0 "$data/pass.log"
CI=true expect 1 "$data/pass.log"
CI=false expect 0 "$data/pass.log" --require kcov_conformance
CI=false expect 1 "$data/pass.log" --require kcov/absent_case
# A required result that was skipped does not satisfy --require.
CI=false expect 1 "$data/pass.log" --require kcov/x
expect 1 "$data/fail.log"
expect 1 "$data/panic.log"
expect 1 "$data/hang.log"
expect 1 "$data/does-not-exist.log"
exit $bad
