#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Whole-workload benchmark: two third-party code bases
# (scripts/fetch-thirdparty.sh) compiled from the same sources with each kind
# of instrumentation, each driven by a deterministic driver (sqlite_driver.c,
# brotli_driver.c), counting the instructions of the whole run with callgrind. Prints one Markdown table per
# workload (ratios against the uninstrumented build of the same compiler,
# measured in the same run), the call sites per compiler and the targets of
# issue 8. Usage: bench/workloads/run.sh [OUT.md]
#
# Each variant also runs on an empty input (the program's fixed cost: loader,
# libFuzzer's or remcov's start-up); ratios are of the net counts, whole run
# minus empty run. Object files are cached under build/workloads/, keyed by a
# hash of the sources, compiler and flags.
#
# Environment: REMCOV_BENCH_CACHE (scripts/fetch-thirdparty.sh), SQLITE_INPUT / BROTLI_INPUT
# ("SEED SCALE"; defaults below size each run to a few seconds of callgrind).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The report goes to fd 3: a duplicate of stdout unless OUT.md is given.
# (Reopening /dev/stdout would truncate a file stdout already writes to, as
# bench/run's report does when it calls this script.)
if (($# >= 1)); then exec 3> "$1"; else exec 3>&1; fi
wl=bench/workloads
bdir=build/workloads
jobs=$(nproc)
cache=${REMCOV_BENCH_CACHE:-/var/cache/remcov/bench}
sqlite_input=${SQLITE_INPUT:-1 1000}
brotli_input=${BROTLI_INPUT:-1 12}
start=$(date +%s)

fetch_report=$(scripts/fetch-thirdparty.sh)
sqlite_src=$cache/better-sqlite3-12.4.1/deps/sqlite3
brotli_src=$cache/iltorb-2.4.5/brotli/c
mkdir -p "$bdir/obj" "$bdir/bin" "$bdir/run"

# remcov's static runtime, per compiler, from the release builds bench/run uses.
for c in gcc clang; do
  dir=build/bench-$c
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    if [[ $c == clang ]]; then cc=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14)
    else cc=(-DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++); fi
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREMCOV_BUILD_BENCHMARKS=ON \
      -DREMCOV_BUILD_TESTS=OFF -DREMCOV_BUILD_EXAMPLES=OFF "${cc[@]}" > /dev/null
  fi
  cmake --build "$dir" --target remcov_runtime > /dev/null
done

# Compiler and flags of each flavour of instrumentation. AFL++'s compiler
# wrapper would add -O3 -funroll-loops; AFL_DONT_OPTIMIZE keeps the -O2 every
# other flavour gets.
export AFL_DONT_OPTIMIZE=1 AFL_QUIET=1
cc_of() { # compiler flavour
  if [[ $2 == afl ]]; then echo afl-clang-fast
  elif [[ $1 == clang ]]; then echo clang-14
  else echo gcc; fi
}
flags_of() { # flavour
  case $1 in
    none | afl) ;;
    pc) echo -fsanitize-coverage=trace-pc ;;
    guard) echo -fsanitize-coverage=trace-pc-guard ;;
    pccmp) echo -fsanitize-coverage=trace-pc,trace-cmp ;;
    counters) echo -fsanitize-coverage=inline-8bit-counters ;;
    fuzzer) echo -fsanitize=fuzzer-no-link ;;
  esac
}
lib_sources() {
  if [[ $1 == sqlite ]]; then echo "$sqlite_src/sqlite3.c"
  else ls "$brotli_src"/common/*.c "$brotli_src"/dec/*.c "$brotli_src"/enc/*.c; fi
}
lib_defs() {
  if [[ $1 == sqlite ]]; then
    echo "-I$sqlite_src -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION"
  else echo "-I$brotli_src/include"; fi
}
declare -A src_hash
for w in sqlite brotli; do
  src_hash[$w]=$(cat $(lib_sources $w) | sha256sum | cut -c1-16)
done

# The builds: (compiler flavour) pairs, and which variants link which.
builds=("clang none" "clang pc" "clang pccmp" "clang afl" "clang counters"
        "clang fuzzer" "clang guard" "gcc none" "gcc pc")
objdir() { # workload compiler flavour
  local cc key
  cc=$(cc_of "$2" "$3")
  key=$(printf '%s %s %s %s' "${src_hash[$1]}" "$($cc --version | head -1)" \
        "$(flags_of "$3")" "$(lib_defs "$1")" | sha256sum | cut -c1-12)
  echo "$bdir/obj/$1-$2-$3-$key"
}

# Compile every library source of every build not yet cached, all in one
# parallel batch (SQLite's single 9 MB file first: it takes the longest).
cmds=$bdir/compile.cmds
: > "$cmds"
for w in sqlite brotli; do
  for b in "${builds[@]}"; do
    read -r c fl <<< "$b"
    d=$(objdir $w "$c" "$fl")
    [[ -f $d/.done ]] && continue
    mkdir -p "$d"
    for s in $(lib_sources $w); do
      o=$d/$(basename "$(dirname "$s")")_$(basename "$s" .c).o
      echo "$(cc_of "$c" "$fl") -O2 -g0 $(flags_of "$fl") $(lib_defs $w) -c $s -o $o" >> "$cmds"
    done
  done
done
if [[ -s $cmds ]]; then
  echo "run.sh: compiling $(wc -l < "$cmds") library sources" >&2
  xargs -P "$jobs" -d '\n' -n 1 sh -c < "$cmds"
fi
for w in sqlite brotli; do
  for b in "${builds[@]}"; do
    read -r c fl <<< "$b"
    touch "$(objdir $w "$c" "$fl")/.done"
  done
done

# Link the variants: library + driver (same instrumentation) + harness (none).
# variant: name compiler flavour harness-macro
variants=("none clang none -" "minimal clang pc BENCH_MINIMAL"
          "remcov-pc clang pc BENCH_REMCOV" "remcov-cmp clang pccmp BENCH_REMCOV"
          "remcov-unique clang guard BENCH_REMCOV"
          "afl clang afl -" "counters clang counters BENCH_COUNTERS"
          "libfuzzer clang fuzzer BENCH_LIBFUZZER"
          "none gcc none -" "minimal gcc pc BENCH_MINIMAL" "remcov-pc gcc pc BENCH_REMCOV")
for w in sqlite brotli; do
  for v in "${variants[@]}"; do
    read -r name c fl macro <<< "$v"
    cc=$(cc_of "$c" "$fl")
    cxx=$([[ $c == clang ]] && echo clang++-14 || echo g++)
    [[ $fl == afl ]] && cxx=afl-clang-fast++
    plain=$([[ $c == clang ]] && echo clang-14 || echo gcc)
    bin=$bdir/bin/$w-$c-$name
    tmp=$bdir/bin/.$w-$c-$name
    mkdir -p "$tmp"
    # shellcheck disable=SC2046
    $cc -O2 $(flags_of "$fl") $(lib_defs $w) -I$wl -c "$wl/${w}_driver.c" -o "$tmp/driver.o"
    extra=()
    if [[ $macro != - ]]; then
      $plain -O2 -D"$macro" -Iinclude -I$wl -c "$wl/harness.c" -o "$tmp/harness.o"
    else
      $plain -O2 -I$wl -c "$wl/harness.c" -o "$tmp/harness.o"
    fi
    case $macro in
      BENCH_MINIMAL)
        $plain -O2 -c "$wl/minimal_kcov.c" -o "$tmp/minimal_kcov.o"
        extra=("$tmp/minimal_kcov.o") ;;
      BENCH_REMCOV)
        # The static runtime's link options (src/CMakeLists.txt writes them).
        read -ra rt_opts <"build/bench-$c/src/libremcov_runtime.link-options"
        extra=("build/bench-$c/src/libremcov_runtime.a" -pthread -ldl
          "${rt_opts[@]}") ;;
      BENCH_LIBFUZZER) extra=(-fsanitize=fuzzer) ;;
    esac
    $cxx -O2 "$(objdir $w "$c" "$fl")"/*.o "$tmp/driver.o" "$tmp/harness.o" \
      "${extra[@]}" -lm -o "$bin"
  done
done

# Runs: (workload variant compiler mode). Each on the real and the empty input.
printf '%s' "$sqlite_input" > "$bdir/run/sqlite.in"
printf '%s' "$brotli_input" > "$bdir/run/brotli.in"
: > "$bdir/run/empty.in"
runs=()
for w in sqlite brotli; do
  for r in "none clang -" "minimal clang off" "minimal clang pc" "remcov-pc clang off" \
           "remcov-pc clang pc" "remcov-cmp clang off" "remcov-cmp clang cmp" \
           "afl clang -" "counters clang -" "libfuzzer clang -" "none gcc -" \
           "minimal gcc off" "minimal gcc pc" "remcov-pc gcc off" "remcov-pc gcc pc" \
           "remcov-unique clang unique" "remcov-unique clang off" \
           "remcov-pc clang pc-small" "remcov-unique clang unique-small"; do
    runs+=("$w $r full" "$w $r empty")
  done
done
one_run() { # workload variant compiler mode input
  local bin=$bdir/bin/$1-$3-$2 in=$bdir/run/$1.in args=() env=()
  [[ $5 == empty ]] && in=$bdir/run/empty.in
  local log=$bdir/run/$1-$3-$2-$4-$5 mode=$4
  # MODE-small: syzkaller's 512Ki-word area, for the overflow comparison.
  if [[ $mode == *-small ]]; then mode=${mode%-small}; env=(BENCH_AREA_WORDS=524288); fi
  if [[ $2 == libfuzzer ]]; then args=(-rss_limit_mb=0 "$in")
  elif [[ $mode == - ]]; then args=("$in")
  else args=("$mode" "$in"); fi
  env "${env[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "${args[@]}" \
    > "$log.out" 2> "$log.err" || { echo "run.sh: $bin ${args[*]} failed" >&2; cat "$log.err" >&2; return 1; }
}
export -f one_run
export bdir
echo "run.sh: ${#runs[@]} callgrind runs" >&2
rm -f "$bdir"/run/*.ir
printf '%s\n' "${runs[@]}" | xargs -P "$jobs" -d '\n' -n 1 bash -c 'one_run $0' || exit 1
# No table from impossible figures: check_runs.py refuses them (a count that
# is missing or not a number, a variant cheaper than no instrumentation, a
# collecting run that collected nothing, different checksums, ...) and only
# then writes the .ir files the tables read.
printf '%s\n' "${runs[@]}" | awk '$NF == "full" {print $1, $3, $2, $4}' |
  python3 "$wl/check_runs.py" "$bdir/run" || exit 1

# Tables.
val() { cat "$bdir/run/$1.ir"; }                  # instructions of one run
field() { grep -o "$2=[0-9a-f]*" "$bdir/run/$1.out" | cut -d= -f2; }
net() { echo $(( $(val "$1-full") - $(val "$1-empty") )); }
label() {
  case $1 in
    none) echo "none (no instrumentation)" ;;
    minimal) echo "minimal KCOV-style callback (trace-pc)" ;;
    remcov-pc) echo "remcov PC mode (trace-pc)" ;;
    remcov-cmp) echo "remcov CMP mode (trace-pc,trace-cmp)" ;;
    remcov-unique) echo "remcov unique-PC mode (trace-pc-guard, KCOV_UNIQUE_ENABLE)" ;;
    afl) echo "AFL++ afl-clang-fast (PCGUARD edge counters, afl-compiler-rt)" ;;
    counters) echo "libFuzzer inline 8-bit counters" ;;
    libfuzzer) echo "libFuzzer full (-fsanitize=fuzzer, runtime)" ;;
  esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
{
  echo "## Whole workloads ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))"
  echo
  echo "Command: \`bench/workloads/run.sh\`. $(clang-14 --version | head -1);" \
       "$(gcc --version | head -1); $(valgrind --version); AFL++ $(dpkg-query -W -f='${Version}' afl++ 2>/dev/null || echo '?')."
  echo "Instructions of the whole run (callgrind), and of a run on an empty input"
  echo "(the fixed cost); ratios are of the difference, against \`none\` of the same compiler."
  echo "Area: 4Mi words (PC) / 64Mi words (CMP), large enough that nothing overflows;"
  echo "the count is reset between the drivers' steps (statements, blocks)."
  echo
  echo '```'
  echo "$fetch_report"
  echo '```'
  for w in sqlite brotli; do
    in=$([[ $w == sqlite ]] && echo "$sqlite_input" || echo "$brotli_input")
    echo
    echo "### $w (input \"$in\")"
    echo
    echo "| variant | compiler | collecting | instructions | empty input | net | ratio vs none | vs minimal callback | records | max step | overflow | checksum |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for c in clang gcc; do
      base=$(net "$w-$c-none--")
      for r in "none -" "minimal pc" "minimal off" "remcov-pc pc" "remcov-pc off" \
               "remcov-cmp cmp" "remcov-cmp off" "remcov-unique unique" "remcov-unique off" \
               "afl -" "counters -" "libfuzzer -"; do
        read -r v m <<< "$r"
        id=$w-$c-$v-$m
        [[ -f $bdir/run/$id-full.ir ]] || continue
        n=$(net "$id")
        rat=$(ratio "$n" "$base")
        vsmin=""
        if [[ $v == remcov-pc ]]; then
          mn=$(net "$w-$c-minimal-$m")
          vsmin=$(ratio "$n" "$mn")
        fi
        coll=$([[ $m == - ]] && echo "-" || echo "$m")
        sum=$(field "$id-full" checksum)
        echo "| $(label "$v") | $c | $coll | $(val "$id-full") | $(val "$id-empty") | $n | ${rat}x | ${vsmin:+${vsmin}x} | $(field "$id-full" records) | $(field "$id-full" max_step) | $(field "$id-full" overflow) | $sum |"
      done
    done
    echo
    # Call sites of the library (driver excluded), from the disassembly.
    echo "| trace-pc call sites (library, static) and calls (run) | clang-14 | gcc 12 | gcc / clang |"
    echo "|---|---|---|---|"
    for c in clang gcc; do
      n=$(for o in "$(objdir $w $c pc)"/*.o; do objdump -dr "$o"; done |
          grep -cE 'R_X86_64_PLT32[[:space:]]+__sanitizer_cov_trace_pc-' || true)
      eval "sites_$c=$n"
    done
    echo "| \`__sanitizer_cov_trace_pc\` | $sites_clang | $sites_gcc | $(ratio "$sites_gcc" "$sites_clang") |"
    rc=$(field "$w-clang-remcov-pc-pc-full" records)
    rg=$(field "$w-gcc-remcov-pc-pc-full" records)
    echo "| callbacks executed in this run (PC records) | $rc | $rg | $(ratio "$rg" "$rc") |"
    echo
    # Targets.
    for c in clang gcc; do
      for m in pc off; do
        r=$(ratio "$(net "$w-$c-remcov-pc-$m")" "$(net "$w-$c-minimal-$m")")
        ok=$(awk -v r="$r" 'BEGIN {print (r <= 1.05) ? "met" : "missed"}')
        echo "- $c, PC $([[ $m == pc ]] && echo enabled || echo disabled): remcov / minimal = ${r}x (target ≤ 1.05): **$ok**"
      done
    done
    r=$(ratio "$(net "$w-clang-remcov-cmp-cmp")" "$(net "$w-clang-libfuzzer--")")
    ok=$(awk -v r="$r" 'BEGIN {print (r <= 1.0) ? "met" : "missed"}')
    echo "- clang, CMP enabled: remcov / libFuzzer full = ${r}x (target ≤ 1.0): **$ok**"
    echo "- PCs collected equal for minimal and remcov PC (same objects), both compilers: yes (check_runs.py)"
    echo
    echo "Unique mode against PC mode with syzkaller's area of 512Ki words (the"
    echo "count, and in unique mode the bitmap, reset at every step as between inputs):"
    echo
    echo "| clang, area 512Ki words | records kept | max step | overflow (dropped) | ratio vs none |"
    echo "|---|---|---|---|---|"
    base=$(net "$w-clang-none--")
    for r in "remcov-pc pc-small" "remcov-unique unique-small"; do
      read -r v m <<< "$r"
      id=$w-clang-$v-$m
      echo "| $(label "$v") | $(field "$id-full" records) | $(field "$id-full" max_step) | $(field "$id-full" overflow) | $(ratio "$(net "$id")" "$base")x |"
    done
  done
  echo
  echo "Total time of bench/workloads/run.sh: $(( $(date +%s) - start )) s."
} >&3
# Impossible figures failed the run above (check_runs.py); missed targets
# are reported, not failures.
exit 0
