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
printf '| threads | sections/s (median of %s) | min | max |\n|---|---|---|---|\n' "$runs"
for t in 1 2; do
  vals=$(for _ in $(seq "$runs"); do "$bin" throughput "$n" "$t"; done)
  printf '| %s | %s | %s | %s |\n' "$t" "$(median <<< "$vals")" \
    "$(sort -n <<< "$vals" | head -1)" "$(sort -n <<< "$vals" | tail -1)"
done
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
