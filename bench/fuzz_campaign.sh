#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Side-by-side fuzzing campaign on a third-party target (fuzz_targets/,
# docs/fuzzing.md "Third-party targets"): the SQLite sort target (-T sqlite,
# binaries sqlite_sort_*) or the zstd multi-threaded target (-T zstd,
# binaries zstd_mt_*); or on the example service (-T service, binaries
# remcov_service_afl, remcov_service_fuzz and remcov_service_fuzz_global;
# docs/fuzzing.md and docs/afl.md). For every RNG seed, the same wall-clock budget for
# each of four variants, one after the other, each from a fresh copy of the
# target's seeds:
#   afl       remcov   PREFIX_afl (persistent; remcov's map)
#   afl       global   the same harness, the code base built by
#                      afl-clang-fast, linked with AFL++'s libAFLDriver.a
#                      (built here into BUILD_DIR/fuzz_targets/TARGET/aflcc
#                      when missing or older than its sources; the
#                      service's by scripts/build-service-afl-global.sh)
#   libfuzzer remcov   PREFIX_fuzz (remcov::LibFuzzerAdaptor)
#   libfuzzer global   PREFIX_fuzz_global (-fsanitize=fuzzer counters)
# Appends one CSV row per run to OUT.csv (header written when the file is
# new); bench/fuzz_campaign_tables.py turns the rows into tables. The rows
# do not name the target: keep one CSV per target.
#   bench/fuzz_campaign.sh [-T sqlite|zstd|service] [-b BUILD_DIR] [-t SECONDS]
#                          [-s "SEEDS"] [-w WORKDIR] [-x] -o OUT.csv
# Defaults: sqlite, build/clang-rel (a clang RelWithDebInfo build configured
# with -DREMCOV_BUILD_THIRDPARTY_FUZZ=ON), 60 seconds, seeds "1 2 3", a
# temporary work directory. -x gives both fuzzers the target's dictionary
# (sort.dict, zstd.dict, service.dict). -F afl|libfuzzer runs that fuzzer's
# two variants only. -c runs AFL++'s remcov variant in counters mode
# (REMCOV_AFL_COUNTERS=1, docs/afl.md) instead of PC mode.
#
# Columns: fuzzer, variant, seed, seconds (budget), execs, execs_per_sec,
# stability (AFL++'s own figure; empty for libFuzzer), coverage and
# coverage_unit (AFL++: bitmap_cvg, the share of the 64 KiB map that is set;
# libFuzzer: ft, its feature count; neither is comparable across variants,
# whose maps count different things), corpus (queue or corpus entries at
# the end), runs_to_bug and seconds_to_bug (the first planted-bug hit:
# AFL++'s first crash file name, libFuzzer's harness line with
# REMCOV_FUZZ_BUG_CONTINUE=1; empty if not hit within the budget).
# Exit codes: 0 done; 2 usage error or a missing binary or tool.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: $0 [-T sqlite|zstd|service] [-F afl|libfuzzer] [-c] [-b BUILD_DIR] [-t SECONDS] [-s SEEDS] [-w WORKDIR] [-x] -o OUT.csv"
target=sqlite build=build/clang-rel secs=60 seeds="1 2 3" work="" out="" dict=0
fuzzers="afl libfuzzer" afl_counters=0
while getopts "T:F:cb:t:s:w:o:x" opt; do
  case $opt in
    c) afl_counters=1 ;;
    F) fuzzers=$OPTARG ;;
    T) target=$OPTARG ;;
    b) build=$OPTARG ;;
    t) secs=$OPTARG ;;
    s) seeds=$OPTARG ;;
    w) work=$OPTARG ;;
    o) out=$OPTARG ;;
    x) dict=1 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[[ -n $out ]] || { echo "$usage" >&2; exit 2; }
[[ $fuzzers == "afl libfuzzer" || $fuzzers == afl || $fuzzers == libfuzzer ]] ||
  { echo "$usage" >&2; exit 2; }
rt=$build/src/libfuzzer/libremcov_runtime_libfuzzer.a
check_binaries() {  # check_binaries AFL_REMCOV FUZZ_REMCOV FUZZ_GLOBAL: those of -F
  local f tool want=("$rt")
  [[ $fuzzers == *afl* ]] && want+=("$1")
  [[ $fuzzers == *libfuzzer* ]] && want+=("$2" "$3")
  for f in "${want[@]}"; do
    [[ -e $f ]] || { echo "missing $f (build it in a clang build; the third-party targets need -DREMCOV_BUILD_THIRDPARTY_FUZZ=ON)" >&2; exit 2; }
  done
  for tool in afl-fuzz afl-clang-fast afl-clang-fast++ clang++-14; do
    command -v $tool > /dev/null || { echo "$tool not found" >&2; exit 2; }
  done
}
case $target in
  sqlite|zstd|service) ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
[[ -n $work ]] || work=$(mktemp -d)
mkdir -p "$work"
if [[ $target == service ]]; then
  s=$build/examples/service
  afl_remcov=$s/afl_harness/remcov_service_afl
  fuzz_remcov=$s/fuzz_harness/remcov_service_fuzz
  fuzz_global=$s/fuzz_harness/remcov_service_fuzz_global
  check_binaries "$afl_remcov" "$fuzz_remcov" "$fuzz_global"
  seeds_dir=$PWD/examples/service/fuzz_harness/seeds
  dict_file=$PWD/examples/service/afl_harness/service.dict
  # The afl-clang-fast baseline, rebuilt when missing or older than its
  # sources.
  afl_global=$s/afl_harness/aflcc/remcov_service_afl_global
  stale=0
  [[ -x $afl_global ]] || stale=1
  for f in examples/service/*.cc examples/service/*.h examples/service/*/*.cc \
           examples/service/*/*.h fuzz_targets/common/planted_bug.h \
           scripts/build-service-afl-global.sh "$rt"; do
    [[ $f -nt $afl_global ]] && stale=1
  done
  if ((stale)); then
    rm -rf "$s/afl_harness/aflcc" && mkdir -p "$s/afl_harness/aflcc"
    scripts/build-service-afl-global.sh "$build" "$afl_global"
  fi
else
  # Per target: the binaries' prefix, the CMake cache variables' infix, the
  # target's own instrumented C file, its harness sources (uninstrumented,
  # besides fuzz_targets/common's) and its dictionary.
  case $target in
    sqlite) prefix=sqlite_sort var=SQLITE own=sort_collation.c
            harness=(sort_harness.cc) dict_name=sort.dict ;;
    zstd)   prefix=zstd_mt var=ZSTD own=zstd_job_hook.c
            harness=(zstd_mt_harness.cc zstd_mt_schedule.cc) dict_name=zstd.dict ;;
  esac
  t=$build/fuzz_targets/$target
  check_binaries "$t/${prefix}_afl" "$t/${prefix}_fuzz" "$t/${prefix}_fuzz_global"
  afl_remcov=$t/${prefix}_afl fuzz_remcov=$t/${prefix}_fuzz fuzz_global=$t/${prefix}_fuzz_global
  cache_of() { sed -n "s/^$1:INTERNAL=//p" "$build/CMakeCache.txt"; }
  list_of() { IFS=';' read -r -a "$1" <<< "$(cache_of "$2")"; }
  src=$(cache_of REMCOV_${var}_SRC)
  seeds_dir=$(cache_of REMCOV_${var}_FUZZ_SEEDS)
  # The instrumented part's sources, defines and options, as CMake compiles
  # it (fuzz_targets/TARGET/CMakeLists.txt, one definition); zstd's
  # zstdmt_compress.c gets REMCOV_ZSTD_MT_DEFINES besides.
  list_of defines REMCOV_${var}_DEFINES
  list_of options REMCOV_${var}_OPTIONS
  defines=("${defines[@]/#/-D}")
  case $target in
    sqlite) sources=("$src/sqlite3.c") includes=(-I"$src") ;;
    zstd)   list_of sources REMCOV_ZSTD_SOURCES
            list_of mt_defines REMCOV_ZSTD_MT_DEFINES
            mt_defines=("${mt_defines[@]/#/-D}")
            includes=(-I"$src" -I"$src/common") ;;
  esac
  h=fuzz_targets/$target
  c=fuzz_targets/common
  dict_file=$PWD/$h/$dict_name

  # The afl-clang-fast baseline: only the code base and the target's own C
  # file carry AFL++'s instrumentation, as only they carry remcov's;
  # AFL_DONT_OPTIMIZE keeps the -O1 of the remcov build (AFL++'s wrapper would
  # add -O3 -funroll-loops).
  aflcc=$t/aflcc
  afl_global=$aflcc/${prefix}_afl_global
  stale=0
  [[ -x $afl_global ]] || stale=1
  for f in "${sources[@]}" "$h"/*.c "$h"/*.cc "$h"/*.h "$c"/*.cc "$c"/*.h "$rt" "$build/CMakeCache.txt"; do
    [[ $f -nt $afl_global ]] && stale=1
  done
  if ((stale)); then
    rm -rf "$aflcc" && mkdir -p "$aflcc"
    export AFL_DONT_OPTIMIZE=1 AFL_QUIET=1
    objs=()
    for f in "${sources[@]}"; do
      extra=()
      [[ $target == zstd && $(basename "$f") == zstdmt_compress.c ]] && extra=("${mt_defines[@]}")
      o=$aflcc/$(basename "${f%.c}").o
      afl-clang-fast "${options[@]}" "${defines[@]}" "${extra[@]}" -w "${includes[@]}" -c "$f" -o "$o"
      objs+=("$o")
    done
    afl-clang-fast "${options[@]}" "${defines[@]}" "${includes[@]}" -I"$h" -c "$h/$own" -o "$aflcc/own.o"
    flags=(-std=c++20 -O2 -Iinclude -I"$build/include" "${includes[@]}" -I"$h" -I"$c")
    clang++-14 "${flags[@]}" -DREMCOV_FUZZ_GLOBAL -c "$c/entry.cc" -o "$aflcc/entry.o"
    clang++-14 "${flags[@]}" -c "$c/thirdparty_harness.cc" -o "$aflcc/thirdparty_harness.o"
    hobjs=()
    for f in "${harness[@]}"; do
      clang++-14 "${flags[@]}" -c "$h/$f" -o "$aflcc/${f%.cc}.o"
      hobjs+=("$aflcc/${f%.cc}.o")
    done
    afl-clang-fast++ -fsanitize=fuzzer "$aflcc/entry.o" "$aflcc/thirdparty_harness.o" \
      "${hobjs[@]}" "${objs[@]}" "$aflcc/own.o" "$rt" -lpthread -ldl -lm -o "$afl_global"
    unset AFL_DONT_OPTIMIZE AFL_QUIET
  fi
fi

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_CRASH_README=1
[[ -f $out ]] || echo "fuzzer,variant,seed,seconds,execs,execs_per_sec,stability,coverage,coverage_unit,corpus,runs_to_bug,seconds_to_bug" > "$out"
stat_of() { sed -n "s/^$2[[:space:]]*: //p" "$1/fuzzer_stats"; }

run_afl() {  # run_afl VARIANT BINARY SEED
  local dir=$work/afl-$1-$3 x=()
  rm -rf "$dir" && mkdir -p "$dir"
  ((dict)) && x=(-x "$dict_file")
  local counters=0
  [[ $1 == remcov ]] && counters=$afl_counters
  REMCOV_AFL_COUNTERS=$counters afl-fuzz -s "$3" -t 2000 -i "$seeds_dir" \
    -o "$dir/out" -V "$secs" "${x[@]}" -- "$2" > "$dir/log" 2>&1 || true
  local d=$dir/out/default
  if [[ ! -f $d/fuzzer_stats ]]; then echo "afl $1 seed $3: no fuzzer_stats ($dir/log)" >&2; return; fi
  local first runs="" at=""
  first=$(ls "$d/crashes" 2>/dev/null | grep '^id:' | sort | head -1 || true)
  if [[ -n $first ]]; then
    runs=$(sed -n 's/.*,execs:\([0-9]*\).*/\1/p' <<< "$first")
    at=$(sed -n 's/.*,time:\([0-9]*\).*/\1/p' <<< "$first")
    at=$(awk -v ms="$at" 'BEGIN { printf "%.1f", ms / 1000 }')
  fi
  echo "afl,$1,$3,$secs,$(stat_of "$d" execs_done),$(stat_of "$d" execs_per_sec),$(stat_of "$d" stability | tr -d %),$(stat_of "$d" bitmap_cvg | tr -d %),bitmap_cvg_percent,$(stat_of "$d" corpus_count),$runs,$at" >> "$out"
}

run_libfuzzer() {  # run_libfuzzer VARIANT BINARY SEED
  local dir=$work/libfuzzer-$1-$3 x=()
  rm -rf "$dir" && mkdir -p "$dir/corpus"
  cp "$seeds_dir"/* "$dir/corpus/"
  ((dict)) && x=(-dict="$dict_file")
  local start end
  start=$(date +%s.%N)
  REMCOV_FUZZ_BUG_CONTINUE=1 "$2" -seed="$3" -max_total_time="$secs" -reload=0 \
    -print_final_stats=1 "${x[@]}" -artifact_prefix="$dir/" "$dir/corpus" > "$dir/log" 2>&1 || true
  end=$(date +%s.%N)
  local execs ft corpus runs="" at=""
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  ft=$(grep -E '^#[0-9]+' "$dir/log" | sed -n 's/.* ft: \([0-9]*\).*/\1/p' | tail -1)
  corpus=$(ls "$dir/corpus" | wc -l)
  runs=$(sed -n 's/^remcov-fuzz: planted bug [0-9]* hit at run \([0-9]*\)$/\1/p' "$dir/log" | head -1)
  local rate
  rate=$(awk -v n="${execs:-0}" -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", n / (b - a) }')
  # Seconds to bug: the run number at the libFuzzer's average rate of this
  # run (libFuzzer prints no time per event).
  [[ -n $runs ]] && at=$(awk -v r="$runs" -v x="$rate" 'BEGIN { printf "%.1f", r / x }')
  echo "libfuzzer,$1,$3,$secs,${execs:-},$rate,,${ft:-},ft,$corpus,$runs,$at" >> "$out"
}

for seed in $seeds; do
  if [[ $fuzzers == *afl* ]]; then
    run_afl remcov "$afl_remcov" "$seed"
    run_afl global "$afl_global" "$seed"
  fi
  if [[ $fuzzers == *libfuzzer* ]]; then
    run_libfuzzer remcov "$fuzz_remcov" "$seed"
    run_libfuzzer global "$fuzz_global" "$seed"
  fi
done
echo "appended to $out (work directory: $work)"
