#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bounded runs of an unmodified afl-fuzz (AFL++ 4.04c) on a remcov AFL++
# target, from a fresh output directory and a fixed RNG seed (-s 1). Every
# verdict is read from AFL++'s own fuzzer_stats.
# Usage:
#   run_afl.sh bug TARGET SEEDS WORK [afl-fuzz flags...]
#       passes when afl-fuzz saved a crash (AFL_BENCH_UNTIL_CRASH stops it
#       there) and the crash file, run by hand, hits a planted bug: the
#       harness prints "remcov-fuzz: planted bug N hit" and traps;
#   run_afl.sh execs TARGET SEEDS WORK persistent|forkserver N [MIN]
#       passes when afl-fuzz ran N executions (-E N) in the expected mode
#       (its "Persistent mode binary detected" line) at a stability of at
#       least MIN percent (default 100.00);
#   run_afl.sh parallel TARGET SEEDS WORK N
#       a main (-M main, -E N) and, once main has queued new inputs, a
#       secondary (-S sec, -E N/4) with one sync directory; passes when both
#       report their executions and the secondary imported main's inputs.
#   run_afl.sh tools TARGET SEEDS WORK
#       afl-showmap maps every seed three times: the same tuples each time
#       (the housekeeping thread runs all along), none empty; afl-tmin
#       minimizes a planted-bug input in crash mode and keeps the bug.
#   run_afl.sh fallback TARGET SEEDS WORK stdin|file N
#       the input paths afl-fuzz 4.04c never picks by itself: the target runs
#       through a wrapper that removes __AFL_SHM_FUZZ_ID, so it offers no
#       shared-memory test cases and reads standard input or the @@ file
#       (AFL_SKIP_BIN_CHECK lets afl-fuzz run a script; it then looks for
#       no signature, so give it the fork-server target). Passes when -E N
#       ran and the corpus grew beyond the seeds, which needs inputs that
#       were actually read.
# Exit codes: 0 pass, 1 fail, 2 usage or setup error.
set -u
[ $# -ge 4 ] || { echo "usage: see the header of $0"; exit 2; }
mode=$1 target=$2 seeds=$3 work=$4
shift 4
command -v afl-fuzz > /dev/null || { echo "FAIL: afl-fuzz not found"; exit 2; }

# CI runs as root on shared cores without a performance governor and with a
# core-dump helper: none of that matters for a bounded functional run.
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_CRASH_README=1
# A generous per-input timeout: a loaded machine must not turn inputs into
# hangs (the service answers in well under a millisecond).
timeout_ms=2000

stat_of() {  # stat_of DIR NAME: the value of NAME in DIR/fuzzer_stats
  sed -n "s/^$2[[:space:]]*: //p" "$1/fuzzer_stats"
}
report() {  # report DIR: the numbers a run is judged by
  for k in execs_done execs_per_sec stability corpus_count saved_crashes \
           saved_hangs bitmap_cvg; do
    printf '%s=%s ' "$k" "$(stat_of "$1" $k)"
  done
  echo
}
fresh() { rm -rf "$work" && mkdir -p "$work" || exit 2; }

case $mode in
  bug)
    fresh
    AFL_BENCH_UNTIL_CRASH=1 afl-fuzz -s 1 -t $timeout_ms -i "$seeds" \
      -o "$work/out" "$@" -- "$target" > "$work/log" 2>&1
    rc=$?
    d="$work/out/default"
    [ -f "$d/fuzzer_stats" ] || { echo "FAIL: no fuzzer_stats (exit $rc)"; tail -30 "$work/log"; exit 1; }
    report "$d"
    crashes=$(stat_of "$d" saved_crashes)
    if [ "${crashes:-0}" -lt 1 ]; then
      echo "FAIL: no planted bug found within the budget (afl-fuzz exit $rc; log: $work/log)"
      exit 1
    fi
    crash=$(ls "$d"/crashes/id:* | head -1)
    "$target" "$crash" > "$work/repro" 2>&1
    rrc=$?
    cat "$work/repro"
    if [ "$rrc" -gt 128 ] && grep -q '^remcov-fuzz: planted bug [0-9]* hit' "$work/repro"; then
      echo "PASS: afl-fuzz saved a crash on a planted bug (reproduced: exit $rrc)"
      exit 0
    fi
    echo "FAIL: the saved crash does not reproduce a planted bug (exit $rrc)"
    exit 1 ;;
  execs)
    [ $# -eq 2 ] || [ $# -eq 3 ] ||
      { echo "usage: run_afl.sh execs TARGET SEEDS WORK persistent|forkserver N [MIN]"; exit 2; }
    expect=$1 n=$2 min=${3:-100.00}
    fresh
    afl-fuzz -s 1 -t $timeout_ms -i "$seeds" -o "$work/out" -E "$n" \
      -- "$target" > "$work/log" 2>&1
    rc=$?
    d="$work/out/default"
    [ -f "$d/fuzzer_stats" ] || { echo "FAIL: no fuzzer_stats (exit $rc)"; tail -30 "$work/log"; exit 1; }
    report "$d"
    fail=0
    if grep -q 'Persistent mode binary detected' "$work/log"; then got=persistent; else got=forkserver; fi
    [ "$got" = "$expect" ] || { echo "FAIL: afl-fuzz ran the target in $got mode, not $expect"; fail=1; }
    grep -q 'fork server is up' "$work/log" || { echo "FAIL: no fork server"; fail=1; }
    grep -q 'Using SHARED MEMORY FUZZING' "$work/log" ||
      { echo "FAIL: afl-fuzz did not pass inputs in shared memory"; fail=1; }
    [ "$(stat_of "$d" execs_done)" -ge "$n" ] || { echo "FAIL: fewer than $n executions"; fail=1; }
    stab=$(stat_of "$d" stability)
    awk -v s="${stab%\%}" -v m="$min" 'BEGIN { exit !(s + 0 >= m + 0) }' ||
      { echo "FAIL: stability $stab is below $min%"; fail=1; }
    [ $fail -eq 0 ] && { echo "PASS: $n executions in $expect mode, stability $stab (at least $min%)"; exit 0; }
    tail -30 "$work/log"; exit 1 ;;
  parallel)
    [ $# -eq 1 ] || { echo "usage: run_afl.sh parallel TARGET SEEDS WORK N"; exit 2; }
    n=$1
    fresh
    afl-fuzz -s 1 -t $timeout_ms -i "$seeds" -o "$work/sync" -M main -E "$n" \
      -- "$target" > "$work/main.log" 2>&1 &
    main_pid=$!
    # Wait (at most 120 s) until main has queued inputs beyond the seeds.
    i=0
    while [ $i -lt 1200 ]; do
      q=$(ls "$work/sync/main/queue" 2>/dev/null | grep -c ',src:' || true)
      [ "${q:-0}" -ge 3 ] && break
      kill -0 $main_pid 2>/dev/null || break
      sleep 0.1; i=$((i + 1))
    done
    # AFL_IMPORT_FIRST: the secondary syncs before fuzzing its own queue.
    AFL_IMPORT_FIRST=1 afl-fuzz -s 2 -t $timeout_ms -i "$seeds" -o "$work/sync" \
      -S sec -E $((n / 4)) -- "$target" > "$work/sec.log" 2>&1
    wait $main_pid
    fail=0
    for node in main sec; do
      d="$work/sync/$node"
      [ -f "$d/fuzzer_stats" ] || { echo "FAIL: $node wrote no fuzzer_stats"; fail=1; continue; }
      printf '%s: ' $node; report "$d"
      [ "$(stat_of "$d" execs_done)" -gt 0 ] || { echo "FAIL: $node ran nothing"; fail=1; }
      [ "$(stat_of "$d" stability)" = "100.00%" ] || { echo "FAIL: $node's stability is not 100.00%"; fail=1; }
    done
    imported=$(ls "$work/sync/sec/queue" 2>/dev/null | grep -c 'sync:main' || true)
    echo "sec imported $imported inputs from main"
    [ "${imported:-0}" -ge 1 ] || { echo "FAIL: the secondary imported nothing from main"; fail=1; }
    [ $fail -eq 0 ] && { echo "PASS: main and secondary fuzzed one sync directory"; exit 0; }
    tail -20 "$work/main.log" "$work/sec.log"; exit 1 ;;
  fallback)
    [ $# -eq 2 ] || { echo "usage: run_afl.sh fallback TARGET SEEDS WORK stdin|file N"; exit 2; }
    how=$1 n=$2
    fresh
    printf '#!/bin/sh\nexec env -u __AFL_SHM_FUZZ_ID "%s" "$@"\n' "$target" > "$work/wrapper"
    chmod +x "$work/wrapper"
    set --
    [ "$how" = file ] && set -- @@
    AFL_SKIP_BIN_CHECK=1 afl-fuzz -s 1 -t $timeout_ms -i "$seeds" -o "$work/out" \
      -E "$n" -- "$work/wrapper" "$@" > "$work/log" 2>&1
    rc=$?
    d="$work/out/default"
    [ -f "$d/fuzzer_stats" ] || { echo "FAIL: no fuzzer_stats (exit $rc)"; tail -30 "$work/log"; exit 1; }
    report "$d"
    fail=0
    grep -q 'Using SHARED MEMORY FUZZING' "$work/log" &&
      { echo "FAIL: shared-memory test cases were used"; fail=1; }
    [ "$(stat_of "$d" execs_done)" -ge "$n" ] || { echo "FAIL: fewer than $n executions"; fail=1; }
    nseeds=$(ls "$seeds" | wc -l)
    [ "$(stat_of "$d" corpus_count)" -gt "$nseeds" ] ||
      { echo "FAIL: no new input: the target does not read afl-fuzz's inputs ($how)"; fail=1; }
    [ "$(stat_of "$d" stability)" = "100.00%" ] || { echo "FAIL: stability is not 100.00%"; fail=1; }
    [ $fail -eq 0 ] && { echo "PASS: inputs from $how"; exit 0; }
    tail -30 "$work/log"; exit 1 ;;
  tools)
    fresh
    fail=0
    for f in "$seeds"/*; do
      name=$(basename "$f")
      for i in 1 2 3; do
        AFL_QUIET=1 afl-showmap -q -t $timeout_ms -o "$work/$name.$i" \
          -- "$target" < "$f" > /dev/null 2>&1
      done
      tuples=$(wc -l < "$work/$name.1")
      echo "$name: $tuples tuples"
      [ "$tuples" -gt 0 ] || { echo "FAIL: $name: empty map"; fail=1; }
      cmp -s "$work/$name.1" "$work/$name.2" && cmp -s "$work/$name.1" "$work/$name.3" ||
        { echo "FAIL: $name: the maps of three runs differ"; fail=1; }
    done
    printf 'GET /files/abc..def' > "$work/bug3"
    afl-tmin -t $timeout_ms -i "$work/bug3" -o "$work/bug3.min" -- "$target" \
      > "$work/tmin.log" 2>&1
    grep -q 'minimizing in .*crash' "$work/tmin.log" ||
      { echo "FAIL: afl-tmin did not see the crash"; fail=1; }
    min=$(cat "$work/bug3.min" 2>/dev/null)
    echo "afl-tmin: 'GET /files/abc..def' -> '$min'"
    case $min in
      *..*) [ ${#min} -lt 19 ] || { echo "FAIL: afl-tmin removed nothing"; fail=1; } ;;
      *) echo "FAIL: the minimized input lost the bug"; fail=1 ;;
    esac
    [ $fail -eq 0 ] && { echo "PASS: afl-showmap and afl-tmin work on the target"; exit 0; }
    exit 1 ;;
esac
echo "usage: see the header of $0"
exit 2
