#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One bounded libFuzzer run (fixed -seed, -runs budget: never a time limit)
# from a fresh copy of a seed corpus, so every run of the test starts from the
# same state.
# Usage: run_fuzzer.sh bug|clean|same FUZZER SEED_DIR WORK_DIR [flags...]
#   bug    passes when the run crashes on a planted bug (the harness prints
#          "remcov-fuzz: planted bug N hit at run R" and traps);
#   clean  passes when the run completes its budget without a crash;
#   same   runs twice (two processes) and passes when both print the same
#          sequence of NEW/REDUCE events (run number, features, corpus).
set -u
expect=$1 fuzzer=$2 seeds=$3 work=$4
shift 4
if [ "$expect" = same ]; then
  for i in 1 2; do
    rm -rf "$work/$i" && mkdir -p "$work/$i/corpus" || exit 2
    cp "$seeds"/* "$work/$i/corpus/" || exit 2
    "$fuzzer" -artifact_prefix="$work/$i/" "$@" "$work/$i/corpus" > "$work/$i/log" 2>&1
    grep -E '^#[0-9]+[[:space:]]+(NEW|REDUCE)' "$work/$i/log" |
      awk '{print $1, $2, $3, $4, $5, $6}' > "$work/$i/events"
  done
  echo "events: $(wc -l < "$work/1/events") and $(wc -l < "$work/2/events")"
  if [ -s "$work/1/events" ] && cmp -s "$work/1/events" "$work/2/events"; then
    echo "PASS: both processes took the same path"; exit 0
  fi
  echo "FAIL: the two runs diverged:"; diff "$work/1/events" "$work/2/events" | head -20
  exit 1
fi
rm -rf "$work" && mkdir -p "$work/corpus" || exit 2
cp "$seeds"/* "$work/corpus/" || exit 2
"$fuzzer" -artifact_prefix="$work/" "$@" "$work/corpus" > "$work/log" 2>&1
rc=$?
grep -E '^(INFO: Seed|remcov-fuzz:|coverage_file_fuzzer:|#[0-9]+[[:space:]]+DONE|Done |==[0-9]+== ERROR)' "$work/log"
case $expect in
  bug)
    if [ "$rc" -ne 0 ] && grep -q '^remcov-fuzz: planted bug [0-9]* hit at run' "$work/log"; then
      echo "PASS: a planted bug was found (exit $rc)"; exit 0
    fi
    echo "FAIL: no planted bug found within the budget (exit $rc; log: $work/log)"
    exit 1 ;;
  clean)
    if [ "$rc" -eq 0 ] && grep -q '^Done [0-9]* runs' "$work/log"; then
      echo "PASS: the budget ran without a crash"; exit 0
    fi
    echo "FAIL: exit $rc (log: $work/log)"; tail -40 "$work/log"
    exit 1 ;;
esac
echo "usage: run_fuzzer.sh bug|clean FUZZER SEED_DIR WORK_DIR [flags...]"
exit 2
