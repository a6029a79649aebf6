#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing (Debian packages, as root), builds remcov and runs
# the main demo: concurrent requests to the example service, whose handlers
# run on a worker pool, each request with its own collector; then reports on
# the coverage files it wrote with `remcov report` and `remcov diff`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREMCOV_BUILD_TESTS=OFF \
  > build-demo-configure.log 2>&1 || { cat build-demo-configure.log; exit 1; }
rm -f build-demo-configure.log
cmake --build "$build" -j "$(nproc)" --target remcov_demo remcov_tool
cov="$build/demo-coverage"
rm -rf "$cov" && mkdir -p "$cov"
"$build/examples/demo/remcov_demo" --cov-dir "$cov" "$@"
remcov="$build/tools/remcov"
echo
echo "== remcov report $cov/all.cov  (every request of the demo; the housekeeping"
echo "   thread's functions ran all along, but no request was charged for them)"
"$remcov" report -q --root "$PWD" "$cov/all.cov"
echo
echo "== remcov diff $cov/sum.cov $cov/sum-magic.cov  (what the magic sum reached)"
"$remcov" diff -q --root "$PWD" "$cov/sum.cov" "$cov/sum-magic.cov"
echo
if command -v genhtml > /dev/null; then
  "$remcov" report -q --root "$PWD" --html "$build/demo-report" "$cov/all.cov" > /dev/null
  echo "HTML report: $build/demo-report/index.html"
fi
