#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs-to-bug of the example service's two libFuzzer targets
# (docs/fuzzing.md): remcov feedback (remcov_service_fuzz) against libFuzzer's
# global counters (remcov_service_fuzz_global). For every seed, each fuzzer
# starts from a fresh copy of examples/service/fuzz_harness/seeds (no dictionary) and
# runs with -seed=S -runs=BUDGET -reload=0; the harness prints the run at
# which the first planted bug was hit. Prints a Markdown table.
# -reload=0: libFuzzer otherwise re-reads its corpus directory once a second
# and runs units it finds there, which shifts run numbers by wall-clock time.
#   scripts/runs-to-bug.sh [-b BUILD_DIR] [-r BUDGET] [-s "SEEDS"] [-g BUG]
#                             [-v] [-w WORKDIR]
# Defaults: build/clang, 200000 runs, seeds 1..20, stop at any planted bug,
# a temporary directory. -g BUG (1..3) stops only at that bug
# (REMCOV_FUZZ_BUG, examples/service/fuzz_harness/fuzz_common.h). The environment is
# passed on: REMCOV_FUZZ_CMP_HINTS=0 turns off the adaptor's comparison hints.
# -v turns on value profiles in both: -use_value_profile=1 for the global
# target, REMCOV_FUZZ_VALUE_PROFILE=1 (the adaptor's) for the remcov target.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/clang budget=200000 seeds=$(seq -s ' ' 1 20) work=""
bug="" vp=0
while getopts "b:r:s:g:vw:" opt; do
  case $opt in
    b) build=$OPTARG ;;
    r) budget=$OPTARG ;;
    s) seeds=$OPTARG ;;
    g) bug=$OPTARG ;;
    v) vp=1 ;;
    w) work=$OPTARG ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-r BUDGET] [-s SEEDS] [-g BUG] [-v] [-w WORKDIR]" >&2
       exit 2 ;;
  esac
done
fuzzers=(remcov_service_fuzz remcov_service_fuzz_global)
labels=("remcov feedback" "global counters")
for f in "${fuzzers[@]}"; do
  [[ -x $build/examples/service/fuzz_harness/$f ]] ||
    { echo "missing $build/examples/service/fuzz_harness/$f (build it with clang)" >&2; exit 2; }
done
if [[ -z $work ]]; then work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"

# run FUZZER SEED -> "RUNS BUG CORPUS" or "- - CORPUS"
run() {
  local f=$1 seed=$2 dir=$work/$1-$2
  rm -rf "$dir" && mkdir -p "$dir/corpus"
  cp examples/service/fuzz_harness/seeds/* "$dir/corpus/"
  local extra=()
  [[ $vp == 1 && $f == *_global ]] && extra=(-use_value_profile=1)
  REMCOV_FUZZ_BUG=${bug:-0} REMCOV_FUZZ_VALUE_PROFILE=$vp \
    "$build/examples/service/fuzz_harness/$f" -seed="$seed" -runs="$budget" -reload=0 \
    "${extra[@]}" -artifact_prefix="$dir/" "$dir/corpus" > "$dir/log" 2>&1 || true
  local hit corpus
  hit=$(sed -n 's/^remcov-fuzz: planted bug \([0-9]*\) hit at run \([0-9]*\)$/\2 \1/p' \
    "$dir/log" | head -1)
  corpus=$(ls "$dir/corpus" | wc -l)
  echo "${hit:-- -} $corpus"
}

# median of a list where "-" (not found) counts as larger than any number
median() {
  tr ' ' '\n' | grep . | sed 's/^-$/999999999999/' | sort -n |
    awk '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
         if (m >= 999999999999) print "not found"; else printf "%d\n", m}'
}

declare -A res
for seed in $seeds; do
  for i in 0 1; do
    res[$i,$seed]=$(run "${fuzzers[$i]}" "$seed")
    echo "seed $seed ${labels[$i]}: ${res[$i,$seed]}" >&2
  done
done

echo "Bug: ${bug:-any}. Value profile: $([[ $vp == 1 ]] && echo on || echo off). Budget: $budget runs per seed (-reload=0); seed corpus: examples/service/fuzz_harness/seeds ($(ls examples/service/fuzz_harness/seeds | wc -l) files), no dictionary."
echo
echo "| seed | ${labels[0]}: runs to bug (bug) | corpus | ${labels[1]}: runs to bug (bug) | corpus |"
echo "|---:|---:|---:|---:|---:|"
for seed in $seeds; do
  row="| $seed"
  for i in 0 1; do
    read -r runs bug corpus <<< "${res[$i,$seed]}"
    if [[ $runs == - ]]; then row+=" | not found"; else row+=" | $runs ($bug)"; fi
    row+=" | $corpus"
  done
  echo "$row |"
done
n=$(wc -w <<< "$seeds")
row="| median"
rate="| found"
for i in 0 1; do
  all="" found=0
  for seed in $seeds; do
    read -r runs _ _ <<< "${res[$i,$seed]}"
    all+=" $runs"
    [[ $runs != - ]] && found=$((found + 1))
  done
  row+=" | $(median <<< "$all") | "
  rate+=" | $found/$n | "
done
echo "$row |"
echo "$rate |"
