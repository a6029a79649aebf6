#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check-log-selftest.sh CHECK_LOG TESTDATA: the serial-log parser accepts a good
# log and rejects failing, panicking, hung logs and missing required results.
set -u
check="$1" data="$2" bad=0
expect() {  # expect WANT_RC LOG [ARGS...]
  local want="$1"; shift
  "$check" "$@" >/dev/null 2>&1; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: check-log $* -> $got, want $want"; bad=1
  else echo "ok: check-log $(basename "$1") ${*:2} -> $got"; fi
}
expect 0 "$data/pass.log"
expect 0 "$data/pass.log" --require kcov_conformance
expect 1 "$data/pass.log" --require kcov/absent_case
expect 1 "$data/fail.log"
expect 1 "$data/panic.log"
expect 1 "$data/hang.log"
expect 1 "$data/does-not-exist.log"
exit $bad
