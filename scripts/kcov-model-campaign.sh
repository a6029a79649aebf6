#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The long run of the model-based sequence test (tests/kcov_model): N
# sequences in model mode and N/10 in threads mode, split into chunks of
# 100,000 sequences, each chunk its own seed (1000 + its index), JOBS chunks
# at a time, starting at chunk FIRST (so a campaign can be continued where an
# earlier one stopped: chunk i is the same run on every machine). Prints a
# line per chunk as it passes (and appends it to $REMCOV_CAMPAIGN_LOG if set),
# stops at the first failing chunk and prints its command (rerun it to
# reproduce). Results go to docs/kcov.md by hand, with this command.
#   scripts/kcov-model-campaign.sh BUILD_DIR [SEQUENCES] [JOBS] [FIRST]
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [SEQUENCES] [JOBS] [FIRST]}
total=${2:-10000000}
jobs=${3:-$(nproc)}
first=${4:-0}
bin=$build/tests/kcov_model/kcov_sequence_test
[[ -x $bin ]] || { echo "no $bin: build the target kcov_sequence_test first" >&2; exit 2; }
chunk=100000
chunks=$(((total + chunk - 1) / chunk))
log=$(mktemp -d)
echo "campaign: $total model sequences in $chunks chunks (seeds $((1000 + first))..$((1000 + first + chunks - 1))), $jobs at a time; logs in $log"
start=$SECONDS
run_chunk() {  # index
  local i=$1 mode=model n=$chunk t0=$SECONDS
  "$bin" --mode $mode --seed "$((1000 + i))" --sequences $n > "$log/model.$i" 2>&1 ||
    { echo "FAIL: $bin --mode $mode --seed $((1000 + i)) --sequences $n"; tail -40 "$log/model.$i"; return 1; }
  "$bin" --mode threads --seed "$((1000 + i))" --sequences $((n / 10)) > "$log/threads.$i" 2>&1 ||
    { echo "FAIL: $bin --mode threads --seed $((1000 + i)) --sequences $((n / 10))"; tail -20 "$log/threads.$i"; return 1; }
  local line="chunk $i (seed $((1000 + i))): PASS $n model, $((n / 10)) threaded sequences in $((SECONDS - t0)) s"
  echo "$line"
  [[ -z ${REMCOV_CAMPAIGN_LOG:-} ]] || echo "$line" >> "$REMCOV_CAMPAIGN_LOG"
}
export -f run_chunk
export bin log chunk
seq "$first" $((first + chunks - 1)) | xargs -P "$jobs" -I{} bash -c 'run_chunk {}' || {
  echo "campaign: FAILED after $((SECONDS - start)) s"; exit 1; }
model=$(cat "$log"/model.* | awk '/^PASS/ {n += $2} END {print n + 0}')
threads=$(cat "$log"/threads.* | awk '/^PASS/ {n += $2} END {print n + 0}')
echo "campaign: PASS: $model model sequences, $threads threaded sequences," \
  "0 disagreements, 0 crashes, 0 hangs in $((SECONDS - start)) s"
