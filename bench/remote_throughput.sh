#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Remote sections per second (wall clock) with 1 and 2 threads on one
# registered handle, half of the sections empty and half recording one PC:
# the median of R runs of N sections per thread. Reported, not a target: it
# depends on the machine and its load (printed with the numbers).
# Usage: bench/remote_throughput.sh BUILD_DIR [N] [R]   (docs/performance.md used N=3000000)
set -euo pipefail
bin=$1/bench/remote_cost
n=${2:-1000000}
runs=${3:-7}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# One run: its rate, or a failure with a message (the driver prints a rate
# only after checking that the device counted every section and PC).
one() {
  local v
  v=$("$bin" throughput "$n" "$1") || { echo "remote_throughput.sh: $bin throughput $n $1 failed" >&2; return 1; }
  [[ $v =~ ^[0-9]+$ ]] && ((v > 0)) || { echo "remote_throughput.sh: rate '$v' is not a positive number" >&2; return 1; }
  echo "$v"
}
[[ -x $bin ]] || { echo "remote_throughput.sh: no $bin (build the target remote_cost)" >&2; exit 1; }
table=$(printf '| threads | sections/s (median of %s) | min | max |\n|---|---|---|---|' "$runs")
for t in 1 2; do
  vals=$(for _ in $(seq "$runs"); do one "$t" || exit 1; done) || exit 1
  table+=$(printf '\n| %s | %s | %s | %s |' "$t" "$(median <<< "$vals")" \
    "$(sort -n <<< "$vals" | head -1)" "$(sort -n <<< "$vals" | tail -1)")
done
echo "$table"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
