#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing (Debian packages, as root), builds remcov and runs
# the main demo: concurrent requests to an instrumented service whose handlers
# run on a worker pool, each request with its own collector.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREMCOV_BUILD_TESTS=OFF \
  > build-demo-configure.log 2>&1 || { cat build-demo-configure.log; exit 1; }
rm -f build-demo-configure.log
cmake --build build/demo -j "$(nproc)" --target remcov_demo
exec build/demo/examples/demo/remcov_demo "$@"
