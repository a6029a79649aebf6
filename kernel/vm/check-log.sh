#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check-log.sh LOG [--require NAME]... : turn the VM's serial log into pass/fail.
#   exit 0  every REMCOV-RESULT is PASS or SKIP (PASS only under CI=true),
#           REMCOV-DONE seen, no panic, and every --require'd result PASSed
#           (a required result that was SKIPped is a failure)
#   exit 1  otherwise (the reasons are printed)
set -uo pipefail
log="${1:?usage: check-log.sh LOG [--require NAME]...}"; shift
required=()
while [ $# -gt 0 ]; do
  case "$1" in
    --require) required+=("$2"); shift ;;
    *) echo "check-log.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$log" ] || { echo "check-log: no log $log"; exit 1; }
# Serial output may contain CRs.
clean="$(tr -d '\r' < "$log")"
bad=0
reason() { echo "check-log: $*"; bad=1; }

grep -q 'REMCOV-BOOT' <<<"$clean" || reason "the guest never reached /init (no REMCOV-BOOT)"
grep -qE 'Kernel panic|end Kernel panic' <<<"$clean" && reason "kernel panic: $(grep -m1 'Kernel panic' <<<"$clean")"
grep -q '^REMCOV-DONE' <<<"$clean" || reason "no REMCOV-DONE: the guest hung, crashed or timed out"

pass=$(grep -c '^REMCOV-RESULT [^ ]* PASS' <<<"$clean")
fail=$(grep -c '^REMCOV-RESULT [^ ]* FAIL' <<<"$clean")
skip=$(grep -c '^REMCOV-RESULT [^ ]* SKIP' <<<"$clean")
if [ "$fail" -gt 0 ]; then
  reason "$fail failing result(s):"
  grep '^REMCOV-RESULT [^ ]* FAIL' <<<"$clean" | sed 's/^/  /'
fi
[ $((pass + fail + skip)) -gt 0 ] || reason "no REMCOV-RESULT lines at all"
for r in "${required[@]}"; do
  if ! grep -q "^REMCOV-RESULT $r " <<<"$clean"; then
    reason "required result '$r' missing"
  elif ! grep -q "^REMCOV-RESULT $r PASS" <<<"$clean"; then
    reason "required result '$r' did not pass: $(grep -m1 "^REMCOV-RESULT $r " <<<"$clean")"
  fi
done
if [ "$skip" -gt 0 ]; then
  echo "check-log: skipped:"; grep '^REMCOV-RESULT [^ ]* SKIP' <<<"$clean" | sed 's/^/  /'
  [ "${CI:-}" = true ] && reason "$skip result(s) skipped under CI=true (a skip is a failure there)"
fi
echo "check-log: $pass pass, $fail fail, $skip skip -> $([ $bad = 0 ] && echo OK || echo FAILED)"
exit $bad
