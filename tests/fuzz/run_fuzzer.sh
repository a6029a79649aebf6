#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One bounded libFuzzer run (fixed -seed, -runs budget: never a time limit)
# from a fresh copy of a seed corpus, so every run of the test starts from the
# same state.
# Usage: run_fuzzer.sh bug|clean FUZZER SEED_DIR WORK_DIR [libFuzzer flags...]
#   bug    passes when the run crashes on a planted bug (the harness prints
#          "remcov-fuzz: planted bug N hit at run R" and traps);
#   clean  passes when the run completes its budget without a crash.
set -u
expect=$1 fuzzer=$2 seeds=$3 work=$4
shift 4
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
