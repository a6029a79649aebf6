#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One bounded libFuzzer run (fixed -seed, -runs budget: never a time limit)
# from a fresh copy of a seed corpus, so every run of the test starts from the
# same state.
# Usage: run_fuzzer.sh bug|clean|same|merge|jobs FUZZER SEED_DIR WORK_DIR
#                      [flags...]
#   bug    passes when the run crashes on a planted bug (the harness prints
#          "remcov-fuzz: planted bug N hit at run R" and traps);
#   clean  passes when the run completes its budget without a crash;
#   same   runs twice (two processes) and passes when both print the same
#          sequence of NEW/REDUCE events (run number, features, corpus);
#   merge  runs -merge=1 from SEED_DIR into an empty directory and passes
#          when libFuzzer added files with new features and wrote them;
#   jobs   runs with the flags (e.g. -jobs=2 -workers=2 -runs=N) in WORK_DIR
#          and passes when every job's fuzz-N.log says it finished its runs.
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
if [ "$expect" = merge ]; then
  rm -rf "$work" && mkdir -p "$work/out" || exit 2
  "$fuzzer" -merge=1 "$@" "$work/out" "$seeds" > "$work/log" 2>&1
  rc=$?
  grep -E '^MERGE-OUTER: [0-9]+ new files' "$work/log"
  files=$(ls "$work/out" | wc -l)
  if [ "$rc" -eq 0 ] && [ "$files" -gt 0 ] &&
     grep -qE '^MERGE-OUTER: [1-9][0-9]* new files with [1-9][0-9]* new features' "$work/log"; then
    echo "PASS: merged $files files"; exit 0
  fi
  echo "FAIL: the merge kept no file (exit $rc, $files files; log: $work/log)"
  exit 1
fi
if [ "$expect" = jobs ]; then
  rm -rf "$work" && mkdir -p "$work/corpus" || exit 2
  cp "$seeds"/* "$work/corpus/" || exit 2
  (cd "$work" && "$fuzzer" "$@" corpus > log 2>&1)
  rc=$?
  n=0 done_n=0
  for f in "$work"/fuzz-*.log; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    grep -q '^Done [0-9]* runs' "$f" && done_n=$((done_n + 1))
  done
  echo "jobs: $n logs, $done_n finished"
  if [ "$rc" -eq 0 ] && [ "$n" -gt 1 ] && [ "$done_n" -eq "$n" ]; then
    echo "PASS: every job finished its runs"; exit 0
  fi
  echo "FAIL: exit $rc, $done_n of $n jobs finished (work: $work)"
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
echo "usage: run_fuzzer.sh bug|clean|same|merge|jobs FUZZER SEED_DIR WORK_DIR [flags...]"
exit 2
