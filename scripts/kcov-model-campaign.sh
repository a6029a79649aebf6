#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The long run of the model-based sequence test (tests/kcov_model): N
# sequences in model mode and N/10 in threads mode, split into chunks of
# 100,000 sequences, each chunk its own seed (its index), JOBS chunks at a
# time. Stops at the first failing chunk and prints its command (rerun it to
# reproduce). Results go to docs/kcov.md by hand, with this command.
#   scripts/kcov-model-campaign.sh BUILD_DIR [SEQUENCES] [JOBS]
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SEQUENCES] [JOBS]}
total=${2:-10000000}
jobs=${3:-$(nproc)}
bin=$build/tests/kcov_model/kcov_sequence_test
[[ -x $bin ]] || { echo "no $bin: build the target kcov_sequence_test first" >&2; exit 2; }
chunk=100000
chunks=$(((total + chunk - 1) / chunk))
log=$(mktemp -d)
echo "campaign: $total model sequences in $chunks chunks, $jobs at a time; logs in $log"
start=$SECONDS
run_chunk() {  # index
  local i=$1 mode=model n=$chunk
  "$bin" --mode $mode --seed "$((1000 + i))" --sequences $n > "$log/model.$i" 2>&1 ||
    { echo "FAIL: $bin --mode $mode --seed $((1000 + i)) --sequences $n"; tail -40 "$log/model.$i"; return 1; }
  "$bin" --mode threads --seed "$((1000 + i))" --sequences $((n / 10)) > "$log/threads.$i" 2>&1 ||
    { echo "FAIL: $bin --mode threads --seed $((1000 + i)) --sequences $((n / 10))"; tail -20 "$log/threads.$i"; return 1; }
}
export -f run_chunk
export bin log chunk
seq 0 $((chunks - 1)) | xargs -P "$jobs" -I{} bash -c 'run_chunk {}' || {
  echo "campaign: FAILED after $((SECONDS - start)) s"; exit 1; }
model=$(cat "$log"/model.* | awk '/^PASS/ {n += $2} END {print n + 0}')
threads=$(cat "$log"/threads.* | awk '/^PASS/ {n += $2} END {print n + 0}')
echo "campaign: PASS: $model model sequences, $threads threaded sequences," \
  "0 disagreements, 0 crashes, 0 hangs in $((SECONDS - start)) s"
