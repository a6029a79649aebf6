#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing and runs every test: the whole suite once with g++
# (including the heavy lanes: ordering, kernel, install), then the unit and
# runtime suites again with clang, ASan+UBSan and TSan, and the perf-smoke lane
# on a release build of each compiler.
#   scripts/test-all.sh           everything (what CI runs)
#   scripts/test-all.sh --quick   g++ unit + runtime only
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing may go quietly green, here or on a CI runner: with CI=true a lane
# whose tool is missing fails configure (REMCOV_STRICT_TESTS), a test that
# would skip fails, and any test ctest reports as not run fails the run.
export CI=true
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
if ((quick)); then scripts/setup.sh; else scripts/setup.sh --kernel; fi
jobs=$(nproc)
start=$SECONDS
summary=()

# Each configuration is a preset of CMakePresets.json (ci-*): its cache
# variables, build targets and test labels are defined there, once.
run_config() {  # configure-preset [test-preset]
  local name=$1 tests=${2:-$1}
  local dir=build/$name t0=$SECONDS
  mkdir -p build
  echo "=== [$tests] configure + build"
  cmake --preset "$name" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  cmake --build --preset "$name" -j "$jobs"
  echo "=== [$tests] test"
  ctest --preset "$tests" -j "$jobs" 2>&1 | tee "$dir.ctest.log"
  if grep -q "The following tests did not run" "$dir.ctest.log"; then
    echo "=== [$tests] FAILED: tests were skipped or not run (a skip is a failure under CI):"
    sed -n '/The following tests did not run/,/^$/p' "$dir.ctest.log"
    return 1
  fi
  summary+=("$tests: ok in $((SECONDS - t0)) s")
}

echo "=== format"
scripts/check-format.sh

if ((quick)); then
  run_config ci-gcc ci-gcc-quick
else
  # g++ runs every lane. clang also runs the stability lane (its
  # global-counter baseline needs clang's inline-8bit-counters), the fuzz lane
  # (libFuzzer is clang's), and the report and symbolize lanes (golden
  # reports and addr2line equality per compiler); the browser lane runs once,
  # in the g++ configuration. ASan+UBSan and TSan run the unit and runtime
  # suites.
  run_config ci-gcc
  run_config ci-clang
  run_config ci-asan
  run_config ci-tsan
  # perf-smoke: callgrind counts of a release build against
  # bench/perf_targets.txt, per compiler; only the bench drivers are built.
  # (CI=true: a missing valgrind fails the lane instead of skipping it.)
  run_config ci-perf-gcc
  run_config ci-perf-clang
fi
printf '%s\n' "${summary[@]}"
echo "all test configurations passed in $((SECONDS - start)) s"
