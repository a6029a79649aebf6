#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ctest driver of the real-kernel lane (label "kernel"):
#   1. kernel/build.sh      (cached outside the checkout; seconds when warm)
#   2. kernel/run-vm.sh     boots QEMU with the static test binary + remcov_kmod
#   3. kernel/vm/check-log.sh parses the serial log into pass/fail
#
#   run-kernel-lane.sh --source DIR --binary KCOV_CONFORMANCE --workdir DIR
#                      [--remcov REMCOV_STATIC] [--report-remcov HOST_REMCOV]
#                      [--no-seed-patch]
# With --report-remcov, the kernel report (kernel_report.sh) is made and
# checked from the coverage file the VM printed.
# Exit: 0 pass; 1 fail; 77 skip (QEMU, kernel source or busybox missing, and
# CI is not "true"; with CI=true a missing prerequisite is a failure).
set -uo pipefail
src="" bin="" workdir="" remcov="" report_remcov="" build_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --source) src="$2"; shift ;;
    --binary) bin="$2"; shift ;;
    --remcov) remcov="$2"; shift ;;
    --report-remcov) report_remcov="$2"; shift ;;
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
  ${remcov:+--file "$remcov::/bin/remcov" --test "$src/tests/kernel/trace_cli_vm.sh"} \
  --require boot/kcov_device --require boot/smp --require boot/module_load \
  --require kcov/remote_kthread_usb --require kcov_conformance \
  ${remcov:+--require trace/local_ls --require trace/file_ls --require trace/file_remote --require trace/remote_common --require trace/remote_usb}
rc=$?
t_total=$((SECONDS - t0))
echo "kernel lane: build ${t_build}s, total ${t_total}s, serial log $log"
grep -E '^(REMCOV-RESULT|SUMMARY)' <(tr -d '\r' < "$log") | sed 's/^/  /'
# The kernel is the authority: its transcript must be the recorded one, which
# the runtime is held to by conformance.runtime_vs_kernel.
golden="$src/tests/kernel/testdata/kernel-6.1.192.transcript"
if [ $rc -eq 0 ] && ! python3 "$src/tests/kernel/compare_transcripts.py" "$golden" "$log"; then
  echo "kernel lane: FAIL: the kernel's transcript differs from $golden"
  echo "  (if the kernel or the catalogue changed on purpose, refresh it:"
  echo "   grep -E '^(STEP|CASE) ' <(tr -d '\\r' < $log) > $golden)"
  exit 1
fi
if [ $rc -eq 0 ] && [ -n "$report_remcov" ] && [ -n "$remcov" ]; then
  "$src/tests/kernel/kernel_report.sh" --remcov "$report_remcov" --log "$log" \
    --env "$env_file" --workdir "$workdir" || { echo "kernel lane: FAIL (kernel report)"; exit 1; }
fi
case $rc in
  0) echo "kernel lane: PASS"; exit 0 ;;
  77) skip_or_fail "run-vm.sh reports missing prerequisites" ;;
  *) echo "kernel lane: FAIL (run-vm.sh exit $rc)"; exit 1 ;;
esac
