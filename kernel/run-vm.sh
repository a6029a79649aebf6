#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# kernel/run-vm.sh: boot the remcov test kernel in QEMU with an initramfs that
# holds busybox, remcov_kmod.ko and the given static test binaries; /init runs
# the tests and prints REMCOV-RESULT lines on the serial console; the log is
# then checked (kernel/vm/check-log.sh).
#
#   kernel/run-vm.sh [--env FILE] [--kernel BZIMAGE] [--module KO]
#                    [--gen-init-cpio PATH] [--log FILE] [--timeout SEC]
#                    [--boot-timeout SEC] [--test-timeout SEC]
#                    [--accel auto|tcg|kvm] [--append ARGS]
#                    [--require NAME]... [--file SRC::DEST]... --test BIN[::ARGS]...
#
#   --env FILE     the env file written by kernel/build.sh (--env-out); gives
#                  kernel, module and gen_init_cpio. Explicit options override.
#   --timeout      hard limit for the whole VM run (default 600 s); qemu is
#                  killed after it and the run fails.
#   --boot-timeout the guest must print REMCOV-BOOT within this (default 120 s
#                  for TCG, 20 s for the KVM probe).
#   --accel auto   (default) try KVM once (if /dev/kvm is usable and no earlier
#                  probe on this machine failed), else TCG. The probe's verdict is
#                  cached in $REMCOV_KERNEL_CACHE/kvm-probe.
#
# Exit: 0 all results PASS/SKIP; 1 a result failed; 3 the VM failed (timeout,
# panic, no REMCOV-DONE); 77 qemu missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${REMCOV_KERNEL_CACHE:-/var/cache/remcov/kernel}"
env_file="" kernel="" module="" gen="" log="" append_extra=""
timeout_s=600 boot_timeout="" test_timeout=300 accel="${REMCOV_VM_ACCEL:-auto}"
tests=() required=() files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --env) env_file="$2"; shift ;;
    --kernel) kernel="$2"; shift ;;
    --module) module="$2"; shift ;;
    --gen-init-cpio) gen="$2"; shift ;;
    --log) log="$2"; shift ;;
    --timeout) timeout_s="$2"; shift ;;
    --boot-timeout) boot_timeout="$2"; shift ;;
    --test-timeout) test_timeout="$2"; shift ;;
    --accel) accel="$2"; shift ;;
    --append) append_extra="$2"; shift ;;
    --test) tests+=("$2"); shift ;;
    --file) files+=("$2"); shift ;;
    --require) required+=(--require "$2"); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run-vm.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "[kernel/run-vm.sh] $*" >&2; }

qemu="$(command -v qemu-system-x86_64 || true)"
[ -n "$qemu" ] || { say "qemu-system-x86_64 not found (apt install qemu-system-x86)"; exit 77; }

if [ -n "$env_file" ]; then
  # shellcheck disable=SC1090
  . "$env_file"
  kernel="${kernel:-$REMCOV_KERNEL_BZIMAGE}"
  module="${module:-$REMCOV_KERNEL_MODULE}"
  gen="${gen:-$REMCOV_KERNEL_GEN_INIT_CPIO}"
fi
[ -f "$kernel" ] || { say "no kernel image '$kernel' (run kernel/build.sh)"; exit 3; }
[ -z "$log" ] && log="$(mktemp /tmp/remcov-vm.XXXXXX.log)"
work="$(mktemp -d)"
qpid=""
cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mk_args=(--gen-init-cpio "$gen" --out "$work/initramfs.cpio")
[ -n "$module" ] && mk_args+=(--module "$module")
for t in "${tests[@]}"; do mk_args+=(--test "$t"); done
for f in "${files[@]}"; do mk_args+=(--file "$f"); done
"$here/vm/mkinitramfs.sh" "${mk_args[@]}"

cmdline="console=ttyS0 panic=-1 oops=panic quiet remcov.test_timeout=$test_timeout $append_extra"

# run_qemu ACCEL CPU BOOT_DEADLINE LOG: 0 = the guest reached REMCOV-DONE or
# exited on its own; 10 = no REMCOV-BOOT before the deadline; 11 = overall timeout.
run_qemu() {
  local acc="$1" cpu="$2" boot_deadline="$3" out="$4"
  : > "$out"
  "$qemu" -accel "$acc" -cpu "$cpu" -m 512 -smp 2 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initramfs.cpio" -append "$cmdline" \
    </dev/null >"$out" 2>&1 &
  qpid=$!
  local t0=$SECONDS booted=0
  while kill -0 "$qpid" 2>/dev/null; do
    if [ $booted = 0 ] && grep -q 'REMCOV-BOOT' "$out"; then
      booted=1
      say "guest booted after $((SECONDS - t0))s ($acc)"
    fi
    if [ $booted = 0 ] && [ $((SECONDS - t0)) -ge "$boot_deadline" ]; then
      kill "$qpid" 2>/dev/null; sleep 1; kill -9 "$qpid" 2>/dev/null || true
      wait "$qpid" 2>/dev/null || true; qpid=""
      return 10
    fi
    if [ $((SECONDS - t0)) -ge "$timeout_s" ]; then
      kill "$qpid" 2>/dev/null; sleep 1; kill -9 "$qpid" 2>/dev/null || true
      wait "$qpid" 2>/dev/null || true; qpid=""
      echo "REMCOV-HOST-TIMEOUT after ${timeout_s}s" >> "$out"
      return 11
    fi
    sleep 0.5
  done
  wait "$qpid" 2>/dev/null || true
  qpid=""
  say "qemu exited after $((SECONDS - t0))s ($acc)"
  return 0
}

probe_file="$cache/kvm-probe"
qemu_id="$("$qemu" --version | head -1)"
use_kvm=0
case "$accel" in
  kvm) use_kvm=1 ;;
  tcg) use_kvm=0 ;;
  auto)
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
      if [ -f "$probe_file" ] && grep -qxF "bad $qemu_id" "$probe_file"; then
        say "KVM: an earlier probe failed on this machine ($probe_file); using TCG"
      else
        use_kvm=1
      fi
    fi ;;
  *) say "bad --accel $accel"; exit 2 ;;
esac

rc=0
if [ $use_kvm = 1 ]; then
  say "trying KVM (-cpu host)"
  run_qemu kvm host "${boot_timeout:-20}" "$log" || rc=$?
  if [ $rc = 0 ] && ! grep -q 'REMCOV-BOOT' "$log"; then rc=10; fi
  if [ $rc = 10 ]; then
    say "KVM did not boot the guest ($(grep -m1 -iE 'error|assert|abort|fail' "$log" || echo 'no REMCOV-BOOT')); falling back to TCG"
    mkdir -p "$cache" 2>/dev/null && echo "bad $qemu_id" > "$probe_file" 2>/dev/null || true
    cp "$log" "$log.kvm-probe" 2>/dev/null || true
    use_kvm=0
    rc=0
  elif [ "$accel" = auto ]; then
    mkdir -p "$cache" 2>/dev/null && echo "good $qemu_id" > "$probe_file" 2>/dev/null || true
  fi
fi
if [ $use_kvm = 0 ]; then
  say "booting with TCG (-cpu max)"
  run_qemu tcg max "${boot_timeout:-120}" "$log" || rc=$?
fi
say "serial log: $log"
case $rc in
  10) say "FAIL: the guest did not reach /init in time"; tail -20 "$log" >&2; exit 3 ;;
  11) say "FAIL: the VM run exceeded ${timeout_s}s"; tail -20 "$log" >&2; exit 3 ;;
esac
if "$here/vm/check-log.sh" "$log" "${required[@]}" >&2; then
  exit 0
fi
if ! grep -q '^REMCOV-DONE' <(tr -d '\r' < "$log"); then exit 3; fi
exit 1
