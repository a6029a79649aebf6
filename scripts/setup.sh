#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what remcov needs from Debian 12's packages (as root), only what is
# missing. Usage: scripts/setup.sh [--kernel] [--bench]
# go-md2man builds remcov(1); pkgconf and man-db are what the package test
# (tests/package) checks the installed remcov.pc and man page with;
# libxml2-utils gives xmllint, which checks the Cobertura export
# (tests/report/export_test.py); afl++ (4.04c) is the fuzzer the 'afl' lane
# runs (tests/afl, docs/afl.md).
#   --kernel adds the QEMU lane and Chromium for the browser lane (what the
#   full run needs); --bench adds what bench/workloads/ needs (openssl for
#   the tarballs' sha512; AFL++, for its edge-counter variant, is installed
#   anyway; npm itself comes with the machine's nodejs and is not installed
#   here).
set -euo pipefail
packages=(build-essential cmake ninja-build g++ clang-14 libclang-rt-14-dev
          googletest libgtest-dev libbenchmark-dev binutils python3
          spin relacy-dev valgrind lcov libdw-dev libelf-dev libcapstone-dev
          libiberty-dev llvm-14 go-md2man pkgconf man-db libxml2-utils
          afl++)
kernel_packages=(qemu-system-x86 linux-source-6.1 busybox-static bc flex bison
                 libelf-dev libssl-dev cpio xz-utils kmod patch file
                 chromium)
bench_packages=(openssl)
for arg in "$@"; do
  case $arg in
    --kernel) packages+=("${kernel_packages[@]}") ;;
    --bench) packages+=("${bench_packages[@]}") ;;
    *) echo "usage: $0 [--kernel] [--bench]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
if [[ $(id -u) != 0 ]]; then
  echo "setup: must run as root to install packages (try: sudo $0 $*)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
