#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per call of each coverage callback (the callback's own code and
# what it calls, call site excluded), counted by callgrind: repeatable on
# noisy shared machines.
# Usage: bench/callback_cost.sh BUILD_DIR [callback_cost|callback_cost_shared] [--tsv]
# CALLBACKS="pc cmp1 ..." restricts the rows (default: every callback); --tsv
# prints "CALLBACK MODE FIGURE" lines instead of the Markdown table.
#
# The callback is found by its address, under any of its names; the driver
# checks that its calls filled the area as N calls must, and the profile must
# show exactly N calls. Anything else (a renamed or missing callback, a driver
# or valgrind failure, a count of 0) fails with a message and prints no
# figure (bench/callgrind_cost.py).
exec python3 "$(dirname "$0")/callgrind_cost.py" callbacks "$@"
