#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ctest driver of the real-kernel lane (label "kernel"):
#   1. kernel/build.sh      (cached outside the checkout; seconds when warm)
#   2. kernel/run-vm.sh     boots QEMU with the static test binary + remcov_kmod
#   3. kernel/vm/check-log.sh parses the serial log into pass/fail
#
#   run-kernel-lane.sh --source DIR --binary KCOV_CONFORMANCE --workdir DIR
#                      [--no-seed-patch]
# Exit: 0 pass; 1 fail; 77 skip (QEMU, kernel source or busybox missing, and
# CI is not "true"; with CI=true a missing prerequisite is a failure).
set -uo pipefail
src="" bin="" workdir="" build_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --source) src="$2"; shift ;;
    --binary) bin="$2"; shift ;;
    --workdir) workdir="$2"; shift ;;
    --no-seed-patch) build_args+=(--no-seed-patch) ;;
    *) echo "run-kernel-lane.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$workdir"
tarball="${REMCOV_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}"

missing=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=("qemu-system-x86_64 (apt install qemu-system-x86)")
[ -r "$tarball" ] || missing+=("kernel source $tarball (apt install linux-source-6.1)")
[ -x "${REMCOV_BUSYBOX:-/bin/busybox}" ] || missing+=("static busybox (apt install busybox-static)")
for tool in gcc make flex bison bc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
skip_or_fail() {
  if [ "${CI:-}" = true ]; then
    echo "kernel lane: FAIL (CI=true, prerequisites missing): $*"
    exit 1
  fi
  echo "kernel lane: SKIP: $*"
  exit 77
}
[ ${#missing[@]} -eq 0 ] || skip_or_fail "missing: ${missing[*]}"

t0=$SECONDS
env_file="$workdir/kernel.env"
"$src/kernel/build.sh" --env-out "$env_file" --quiet "${build_args[@]}"
rc=$?
[ $rc -eq 77 ] && skip_or_fail "kernel/build.sh reports missing prerequisites"
[ $rc -eq 0 ] || { echo "kernel lane: FAIL: kernel/build.sh exited $rc"; exit 1; }
t_build=$((SECONDS - t0))

log="$workdir/serial.log"
"$src/kernel/run-vm.sh" --env "$env_file" --log "$log" \
  --test "$bin::--require-module" \
  --require boot/kcov_device --require boot/smp --require boot/module_load \
  --require kcov/remote_kthread_usb --require kcov_conformance
rc=$?
t_total=$((SECONDS - t0))
echo "kernel lane: build ${t_build}s, total ${t_total}s, serial log $log"
grep -E '^(REMCOV-RESULT|SUMMARY)' <(tr -d '\r' < "$log") | sed 's/^/  /'
case $rc in
  0) echo "kernel lane: PASS"; exit 0 ;;
  77) skip_or_fail "run-vm.sh reports missing prerequisites" ;;
  *) echo "kernel lane: FAIL (run-vm.sh exit $rc)"; exit 1 ;;
esac
