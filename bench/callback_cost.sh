#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per call of each coverage callback (the callback's own, call site
# excluded), counted by callgrind: repeatable on noisy shared machines.
# Usage: bench/callback_cost.sh BUILD_DIR [callback_cost|callback_cost_shared]
# CALLBACKS="pc cmp1 ..." restricts the rows (default: every callback).
set -euo pipefail
bin=$1/bench/${2:-callback_cost}   # callback_cost_shared for the shared runtime
n=200000
printf '| callback | enabled (instr/call) | disabled (instr/call) |\n|---|---|---|\n'
for cb in ${CALLBACKS:-pc cmp1 cmp2 cmp4 cmp8 const_cmp1 const_cmp2 const_cmp4 const_cmp8 switch16 pc_guard pc_guard_unique}; do
  sym=__sanitizer_cov_trace_$cb
  [[ $cb == switch16 ]] && sym=__sanitizer_cov_trace_switch
  [[ $cb == pc_guard* ]] && sym=__sanitizer_cov_trace_pc_guard
  row="| $sym "
  [[ $cb == switch16 ]] && row="| $sym (16 cases) "
  [[ $cb == pc_guard ]] && row="| $sym (PC mode) "
  [[ $cb == pc_guard_unique ]] && row="| $sym (unique mode, bit already set) "
  for mode in enabled disabled; do
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$cb" "$mode" "$n" \
      > /dev/null 2>&1
    # The callback's self cost, summed over the files its inlined code came
    # from, plus its out-of-line part (TraceSwitchEnabled, switch only).
    ir=$(callgrind_annotate --auto=no --threshold=100 "$out" 2>/dev/null |
         awk -v s=":$sym " '{line = $0 " "}
                            index(line, s) || index(line, "TraceSwitchEnabled(") {
                              gsub(",", "", $1); t += $1 }
                            END {print t + 0}')
    rm -f "$out"
    row+="| $(awk -v ir="${ir:-0}" -v n="$n" 'BEGIN {printf "%.2f", ir / n}') "
  done
  echo "$row|"
done
