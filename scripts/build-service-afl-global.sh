#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the example service's afl-clang-fast baseline (docs/afl.md): the
# AFL++ harness (examples/service/afl_harness/service_afl.cc) with
# service_core.cc compiled by afl-clang-fast++ (AFL++'s own instrumentation
# and global map), linked with AFL++'s libAFLDriver.a: persistent mode,
# shared-memory test cases. Only service_core.cc carries AFL++'s
# instrumentation, as only it carries remcov's, at remcov_service_core's
# flags (-O1 -fno-inline); the glue and harness are not instrumented.
# Used by scripts/afl-bench.sh and bench/fuzz_campaign.sh.
#   scripts/build-service-afl-global.sh BUILD_DIR OUTPUT
# BUILD_DIR is a clang build (the baseline links its
# remcov_runtime_libfuzzer, whose trace-pc-guard callbacks are local).
# Exit codes: 0 built; 2 usage error or a missing input or tool.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -eq 2 ]] || { echo "usage: $0 BUILD_DIR OUTPUT" >&2; exit 2; }
build=$1 global=$2
rt=$build/src/libfuzzer/libremcov_runtime_libfuzzer.a
[[ -e $rt ]] || { echo "missing $rt (build it in a clang build)" >&2; exit 2; }
command -v afl-clang-fast++ > /dev/null || { echo "afl-clang-fast++ not found" >&2; exit 2; }
src=examples/service
obj=$global.objs
mkdir -p "$obj"
flags=(-std=c++20 -O1 -fno-inline -fno-exceptions -fno-rtti -Iinclude
       -I"$build/include" -I"$src" -I"$src/fuzz_harness" -Ifuzz_targets/common)
AFL_QUIET=1 afl-clang-fast++ "${flags[@]}" -DSERVICE_NS=svc_aflcc \
  -c "$src/service_core.cc" -o "$obj/service_core_aflcc.o"
clang++-14 "${flags[@]}" -DREMCOV_SERVICE_AFL_GLOBAL -c \
  "$src/afl_harness/service_afl.cc" -o "$obj/service_afl_global.o"
clang++-14 "${flags[@]}" -c "$src/server.cc" -o "$obj/server.o"
AFL_QUIET=1 afl-clang-fast++ -fsanitize=fuzzer "$obj/service_afl_global.o" \
  "$obj/server.o" "$obj/service_core_aflcc.o" "$rt" -lpthread -ldl \
  -o "$global"
