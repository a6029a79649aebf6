#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per empty remote section (start+stop), counted by callgrind:
# (Ir(N) - Ir(0)) / N. Usage: bench/remote_cost.sh BUILD_DIR
set -euo pipefail
bin=$1/bench/remote_cost
n=100000
total() {
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" > /dev/null 2>&1
  callgrind_annotate --auto=no "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
  rm -f "$out"
}
declare -A per
for mode in unregistered registered registered_pc baseline; do
  a=$(total "$mode" 0); b=$(total "$mode" "$n")
  per[$mode]=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / n}')
done
printf '| section (start+stop) | instructions | baseline / this |\n|---|---|---|\n'
for mode in unregistered registered registered_pc; do
  label="$mode handle"
  [[ $mode == registered_pc ]] && label="registered handle, one PC recorded (callback included)"
  printf '| %s | %s | %.1fx |\n' "$label" "${per[$mode]}" \
    "$(awk -v x="${per[baseline]}" -v y="${per[$mode]}" 'BEGIN {print x / y}')"
done
printf '| baseline: mutex + std::unordered_map | %s | 1.0x |\n' "${per[baseline]}"
