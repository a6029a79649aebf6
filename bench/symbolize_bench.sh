#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# remcov's symbolizer against addr2line and llvm-symbolizer on the same
# addresses of one ELF file with DWARF: each tool is one process reading every
# address on stdin (addr2line -f -i -C; llvm-symbolizer --inlining --demangle;
# remcov's symbolize_bench driver, libdw + its own CU index). Wall time of the
# whole process (and its user + sys time), median of RUNS runs, all tools in
# the same run; prints a Markdown table.
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

# "wall cpu": medians over `runs` runs of a command (stdin: the addresses);
# cpu is user + sys, less sensitive than wall time to a loaded machine.
measure() {
  local w=() c=() line
  for ((r = 0; r < runs; r++)); do
    line=$( { TIMEFORMAT='%R %U %S'; time "$@" < "$tmp/pcs" > /dev/null 2>&1; } 2>&1 | tail -1)
    read -r real user sys <<< "$line"
    w+=("$real")
    c+=("$(echo "$user + $sys" | bc -l)")
  done
  local mw mc
  mw=$(printf '%s\n' "${w[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  mc=$(printf '%s\n' "${c[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "$mw $mc"
}

read -r remcov_w remcov_c <<< "$(measure "$driver" "$elf")"
read -r addr2line_w addr2line_c <<< "$(measure addr2line -f -i -C -e "$elf")"
if [[ -n $llvm ]]; then
  read -r llvm_w llvm_c <<< "$(measure "$llvm" --inlining --demangle --obj="$elf")"
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
