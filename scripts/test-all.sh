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

run_config() {  # name cmake-args... -- ctest-args... [-- build-targets...]
  local name=$1; shift
  local cfg=() ct=() targets=()
  while (($#)) && [[ $1 != -- ]]; do cfg+=("$1"); shift; done
  shift
  while (($#)) && [[ $1 != -- ]]; do ct+=("$1"); shift; done
  (($#)) && { shift; targets=(--target "$@"); }
  local dir=build/ci-$name t0=$SECONDS
  mkdir -p build
  echo "=== [$name] configure + build"
  cmake -S . -B "$dir" -G Ninja -DREMCOV_WERROR=ON "${cfg[@]}" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j "$jobs" "${targets[@]}"
  echo "=== [$name] test"
  (cd "$dir" && ctest --output-on-failure --no-tests=error -j "$jobs" "${ct[@]}") 2>&1 |
    tee "$dir.ctest.log"
  if grep -q "The following tests did not run" "$dir.ctest.log"; then
    echo "=== [$name] FAILED: tests were skipped or not run (a skip is a failure under CI):"
    sed -n '/The following tests did not run/,/^$/p' "$dir.ctest.log"
    return 1
  fi
  summary+=("$name: ok in $((SECONDS - t0)) s")
}

echo "=== format"
scripts/check-format.sh

if ((quick)); then
  run_config gcc -DCMAKE_BUILD_TYPE=Debug -- -L 'unit|runtime'
else
  run_config gcc -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc --
  light=(-DREMCOV_HEAVY_TESTS=OFF -DREMCOV_BUILD_EXAMPLES=OFF)
  # clang also runs the stability lane (its global-counter baseline needs
  # clang's inline-8bit-counters), the fuzz lane (libFuzzer is clang's), and
  # the report and symbolize lanes (golden reports and addr2line equality per
  # compiler). The browser lane runs once, in the g++ configuration.
  run_config clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_COMPILER=clang-14 -DREMCOV_HEAVY_TESTS=OFF -- -L 'unit|runtime|stability|fuzz|report|symbolize'
  run_config asan -DCMAKE_BUILD_TYPE=Debug -DREMCOV_SANITIZE=address,undefined \
    -DREMCOV_INSTALL=OFF "${light[@]}" -- -L 'unit|runtime'
  run_config tsan -DCMAKE_BUILD_TYPE=Debug -DREMCOV_SANITIZE=thread -DREMCOV_INSTALL=OFF \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 "${light[@]}" \
    -- -L 'unit|runtime'
  # perf-smoke: callgrind counts of a release build against
  # bench/perf_targets.txt, per compiler; only the bench drivers are built.
  # (CI=true: a missing valgrind fails the lane instead of skipping it.)
  perf=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREMCOV_BUILD_BENCHMARKS=ON -DREMCOV_INSTALL=OFF
        -DREMCOV_BUILD_TOOLS=OFF "${light[@]}")
  perf_targets=(callback_cost callback_cost_shared remote_cost remote_cost_shared handle_churn
                fork_server_cost cross_process_section)
  run_config perf-gcc -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc "${perf[@]}" \
    -- -L perf-smoke -- "${perf_targets[@]}"
  run_config perf-clang -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 \
    "${perf[@]}" -- -L perf-smoke -- "${perf_targets[@]}"
fi
printf '%s\n' "${summary[@]}"
echo "all test configurations passed in $((SECONDS - start)) s"
