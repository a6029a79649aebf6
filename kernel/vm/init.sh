#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the remcov test VM (kernel/vm/mkinitramfs.sh packs it).
# Prints machine-readable lines on the serial console:
#   REMCOV-BOOT <facts>
#   REMCOV-RESULT <name> PASS|FAIL|SKIP <detail>
#   REMCOV-DONE
# then powers off with `reboot -f` (QEMU runs with -no-reboot, so it exits).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

test_timeout=$(sed -n 's/.*remcov.test_timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$test_timeout" ] || test_timeout=300

echo   # the firmware leaves escape sequences without a newline
echo "REMCOV-BOOT kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) kcov=$([ -e /sys/kernel/debug/kcov ] && echo yes || echo no)"

result() { echo "REMCOV-RESULT $*"; }

[ -e /sys/kernel/debug/kcov ] && result boot/kcov_device PASS present || result boot/kcov_device FAIL "/sys/kernel/debug/kcov missing"
ncpu=$(grep -c ^processor /proc/cpuinfo)
[ "$ncpu" -ge 2 ] && result boot/smp PASS "cpus=$ncpu" || result boot/smp FAIL "cpus=$ncpu (want >= 2)"

if [ -f /remcov_kmod.ko ]; then
  if out=$(insmod /remcov_kmod.ko 2>&1); then
    result boot/module_load PASS remcov_kmod
  else
    result boot/module_load FAIL "insmod: $out"
  fi
fi

for t in /tests/*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  args=""
  [ -f "/tests-args/$name" ] && args=$(cat "/tests-args/$name")
  echo "REMCOV-TEST-START $name $args"
  timeout -s KILL "$test_timeout" "$t" $args
  rc=$?
  if [ $rc -eq 0 ]; then result "$name" PASS "exit=0"
  elif [ $rc -eq 137 ]; then result "$name" FAIL "killed after ${test_timeout}s (exit=$rc)"
  else result "$name" FAIL "exit=$rc"
  fi
done

# Kernel warnings (e.g. a kcov WARN_ON) are failures even if no test noticed.
warn=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace' | head -5 | tr '\n' '|')
if [ -n "$warn" ]; then
  result boot/kernel_log FAIL "$warn"
  dmesg | grep -B2 -A25 -E 'WARNING:|BUG:' | head -60 | sed 's/^/DMESG /'
else
  result boot/kernel_log PASS "no WARNING/BUG in dmesg"
fi
echo REMCOV-DONE
sync
reboot -f
# never reached; a hang here is caught by the host timeout
sleep 5
poweroff -f
