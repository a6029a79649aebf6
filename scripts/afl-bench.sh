#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# afl-fuzz (AFL++ 4.04c) on the example service (docs/afl.md): remcov's
# adaptor against the same harness built with afl-clang-fast++ (AFL++'s own
# instrumentation and global map). Prints execs_per_sec, stability and the
# rest of each run's fuzzer_stats as a Markdown table.
#   scripts/afl-bench.sh [-b BUILD_DIR] [-t SECONDS] [-s "SEEDS"] [-w WORKDIR]
#                        [-p]
# Defaults: build/clang (a clang build: the baseline links
# remcov_runtime_libfuzzer, whose trace-pc-guard callbacks are local),
# 60 seconds per run, RNG seeds "1 2 3", a temporary directory. -p: the
# persistent targets only (remcov persistent and afl-clang-fast, alternating).
# Targets, each from a fresh copy of examples/service/fuzz_harness/seeds,
# without a dictionary, run with afl-fuzz -s S -V SECONDS:
#   remcov persistent   remcov_service_afl
#   remcov fork server  remcov_service_afl_forkserver
#   afl-clang-fast      scripts/build-service-afl-global.sh's baseline
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/clang secs=60 seeds="1 2 3" work=""
targets="remcov_service_afl remcov_service_afl_forkserver global"
while getopts "b:t:s:w:p" opt; do
  case $opt in
    b) build=$OPTARG ;;
    t) secs=$OPTARG ;;
    s) seeds=$OPTARG ;;
    w) work=$OPTARG ;;
    p) targets="remcov_service_afl global" ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-t SECONDS] [-s SEEDS] [-w WORKDIR] [-p]" >&2
       exit 2 ;;
  esac
done
h=$build/examples/service/afl_harness
rt=$build/src/libfuzzer/libremcov_runtime_libfuzzer.a
for f in "$h/remcov_service_afl" "$h/remcov_service_afl_forkserver" "$rt"; do
  [[ -e $f ]] || { echo "missing $f (build it in a clang build)" >&2; exit 2; }
done
[[ -n $work ]] || work=$(mktemp -d)
mkdir -p "$work"

# The baseline (afl-clang-fast), built as scripts/build-service-afl-global.sh
# says.
src=examples/service
global=$work/remcov_service_afl_global
scripts/build-service-afl-global.sh "$build" "$global"

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
stat_of() { sed -n "s/^$2[[:space:]]*: //p" "$1/fuzzer_stats"; }
echo "| target | seed | execs_done | execs_per_sec | stability | corpus_count | bitmap_cvg | saved_crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for s in $seeds; do
  for t in $targets; do
    case $t in
      global) bin=$global label="afl-clang-fast" ;;
      remcov_service_afl) bin=$h/$t label="remcov persistent" ;;
      *) bin=$h/$t label="remcov fork server" ;;
    esac
    out=$work/$t.$s
    rm -rf "$out"
    afl-fuzz -s "$s" -t 2000 -i "$src/fuzz_harness/seeds" -o "$out" \
      -V "$secs" -- "$bin" > "$out.log" 2>&1 || true
    d=$out/default
    [[ -f $d/fuzzer_stats ]] || { echo "| $label | $s | failed: $out.log |"; continue; }
    echo "| $label | $s | $(stat_of "$d" execs_done) | $(stat_of "$d" execs_per_sec) |" \
         "$(stat_of "$d" stability) | $(stat_of "$d" corpus_count) |" \
         "$(stat_of "$d" bitmap_cvg) | $(stat_of "$d" saved_crashes) |"
  done
done
echo "(work directory: $work)"
