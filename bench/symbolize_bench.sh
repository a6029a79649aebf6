#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# remcov's symbolizer against addr2line and llvm-symbolizer on the same
# addresses of one ELF file with DWARF: each tool is one process reading every
# address on stdin (addr2line -f -i -C; llvm-symbolizer --inlining --demangle;
# remcov's symbolize_bench driver, libdw + its own CU index). Wall time of the
# whole process (and its user + sys time), median of RUNS runs, all tools in
# the same run; prints a Markdown table. Every run must exit 0 and answer for
# every address (remcov's driver counts them; addr2line prints a function
# and a location per frame; llvm-symbolizer ends each address with a blank
# line), or the script fails with a message and prints no figure.
# Usage: bench/symbolize_bench.sh BUILD_DIR [ELF] [COUNT] [RUNS]
#   BUILD_DIR  a build with bench/symbolize_bench (REMCOV_BUILD_BENCHMARKS=ON,
#              RelWithDebInfo for meaningful numbers)
#   ELF        default: the first build/*/tests/integration/runtime_test (a
#              Debug build, ~6 MB with DWARF)
#   COUNT      addresses, default 12000 (random, inside function symbols,
#              seeded)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/symbolize_bench.sh BUILD_DIR [ELF] [COUNT] [RUNS]}
elf=${2:-$(ls build/*/tests/integration/runtime_test 2> /dev/null | head -1)}
count=${3:-12000}
runs=${4:-5}
driver=$build/bench/symbolize_bench
[[ -x $driver ]] || { echo "no $driver (build target symbolize_bench)" >&2; exit 1; }
[[ -f $elf ]] || { echo "no ELF to symbolize (pass one)" >&2; exit 1; }
llvm=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -S --defined-only "$elf" | python3 -c '
import random, sys
f = [(int(p[0], 16), int(p[1], 16)) for p in (l.split() for l in sys.stdin)
     if len(p) >= 4 and p[2] in "tTwW" and int(p[1], 16) > 0]
r = random.Random(1)
for _ in range(int(sys.argv[1])):
    a, s = r.choice(f)
    print(hex(a + r.randrange(s)))' "$count" | sort -u > "$tmp/pcs"
pcs=$(wc -l < "$tmp/pcs")
((pcs > 0)) || { echo "symbolize_bench.sh: no function symbols in $elf" >&2; exit 1; }
fail() { echo "symbolize_bench.sh: $*" >&2; exit 1; }

# Whether one tool's output ($tmp/out, $tmp/err) answers every address.
answered() { # tool
  local n
  case $1 in
    remcov) n=$(sed -n 's/^\([0-9]*\) addresses in .*/\1/p' "$tmp/err") ;;
    addr2line) n=$(($(wc -l < "$tmp/out") / 2))  # at least 2 lines each
               (($(grep -cv '^??' "$tmp/out") > 0)) || n=0 ;;  # not all unknown
    llvm) n=$(grep -c '^$' "$tmp/out" || true) ;;
  esac
  [[ $1 == addr2line ]] && ((n >= pcs)) && return 0
  [[ ${n:-} == "$pcs" ]]
}

# "wall cpu": medians over `runs` runs of a command (stdin: the addresses);
# cpu is user + sys, less sensitive than wall time to a loaded machine.
measure() { # tool command...
  local w=() c=() line tool=$1 rc
  shift
  for ((r = 0; r < runs; r++)); do
    rc=0
    line=$( { TIMEFORMAT='%R %U %S'; time "$@" < "$tmp/pcs" > "$tmp/out" 2> "$tmp/err"; } 2>&1) ||
      rc=$?
    ((rc == 0)) || fail "$* exited with $rc: $(head -3 "$tmp/err")"
    answered "$tool" || fail "$* did not answer for all $pcs addresses"
    read -r real user sys <<< "$(tail -1 <<< "$line")"
    awk -v t="$real" 'BEGIN {exit !(t > 0)}' || fail "$*: wall time '$real'"
    w+=("$real")
    c+=("$(echo "$user + $sys" | bc -l)")
  done
  local mw mc
  mw=$(printf '%s\n' "${w[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  mc=$(printf '%s\n' "${c[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "$mw $mc"
}

m=$(measure remcov "$driver" "$elf") || exit 1
read -r remcov_w remcov_c <<< "$m"
m=$(measure addr2line addr2line -f -i -C -e "$elf") || exit 1
read -r addr2line_w addr2line_c <<< "$m"
if [[ -n $llvm ]]; then
  m=$(measure llvm "$llvm" --inlining --demangle --obj="$elf") || exit 1
  read -r llvm_w llvm_c <<< "$m"
fi

echo "$pcs addresses of \`$elf\` ($(du -h "$elf" | cut -f1)), median of $runs runs, $(nproc) cores:"
echo
echo "| tool | wall (s) | PCs/s (wall) | cpu (s) | PCs/s (cpu) | wall / remcov's |"
echo "|---|---:|---:|---:|---:|---:|"
row() { awk -v n="$pcs" -v w="$2" -v c="$3" -v r="$remcov_w" -v name="$1" \
  'BEGIN { printf "| %s | %.3f | %.0f | %.3f | %.0f | %.2fx |\n", name, w, n / w, c, n / c, w / r }'; }
row "remcov (libdw)" "$remcov_w" "$remcov_c"
row "addr2line -f -i -C" "$addr2line_w" "$addr2line_c"
if [[ -n $llvm ]]; then row "$(basename "$llvm") --inlining --demangle" "$llvm_w" "$llvm_c"; fi
