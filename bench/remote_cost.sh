#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per empty remote section (start+stop), counted by callgrind:
# (Ir(N) - Ir(0)) / N with N = 100,000, the loop around the calls included.
# Usage: bench/remote_cost.sh BUILD_DIR [remote_cost|remote_cost_shared] [--tsv]
# MODES="unregistered registered ..." restricts the runs (default: all four;
# the table's ratio column needs baseline); --tsv prints "MODE - FIGURE" lines
# instead of the Markdown table.
#
# The driver checks that its sections did what is measured (the device
# counted N sections, or none for the unregistered handle); the N run's
# profile must show N calls to remcov_remote_start (found by address) and the
# 0 run's none; the difference must be positive. Anything else fails with a
# message and prints no figure (bench/callgrind_cost.py).
exec python3 "$(dirname "$0")/callgrind_cost.py" remote "$@"
