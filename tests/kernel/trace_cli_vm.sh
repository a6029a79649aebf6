#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the kernel lane's VM (busybox sh): `remcov trace` on the real
# kernel, local and remote, with its output checked. Prints
# REMCOV-RESULT trace/<case> PASS|FAIL lines; exits non-zero on any failure.
R=/bin/remcov
K=/sys/kernel/debug/remcov_kmod
fails=0
result() {
  echo "REMCOV-RESULT trace/$1 $2 $3"
  if [ "$2" = FAIL ]; then fails=$((fails + 1)); fi
  return 0
}

# The module's target functions: "name 0xaddr 0xsize" per line.
target_range() {  # name -> "start end" in decimal (64-bit shell arithmetic)
  while read -r name addr size; do
    if [ "$name" = "$1" ]; then
      echo "$((addr)) $((addr + size))"
      return
    fi
  done < "$K/targets"
}
count_in() {  # file range-name -> number of PCs in that target
  set -- "$1" $(target_range "$2")
  n=0
  while read -r pc; do
    v=$((pc))
    [ "$v" -ge "$2" ] && [ "$v" -lt "$3" ] && n=$((n + 1))
  done < "$1"
  echo $n
}

# 1. Kernel mode: the coverage of a real command (busybox ls, whose own output
# shares stdout: PCs are the 0x lines), in a buffer large enough not to fill.
$R trace --size 1048576 -- /bin/busybox ls / > /tmp/ls.out 2> /tmp/ls.err
rc=$?
n=$(grep -c '^0x' /tmp/ls.out)
if [ $rc -eq 0 ] && [ "$n" -gt 100 ] && grep -q "pc mode, $n entries" /tmp/ls.err &&
   grep -q "overflow no" /tmp/ls.err; then
  result local_ls PASS "$n PCs"
else
  result local_ls FAIL "rc=$rc pcs=$n $(head -c 300 /tmp/ls.err | tr '\n' ' ')"
fi

# 2. The exit code mirrors the command's.
$R trace -- /bin/busybox false > /dev/null 2>&1
rc=$?
[ $rc -eq 1 ] && result exit_code PASS "false -> 1" || result exit_code FAIL "rc=$rc"

# 3. Comparison mode: records with valid types.
$R trace --cmp -- /bin/busybox true > /tmp/cmp.out 2> /tmp/cmp.err
rc=$?
n=$(grep -c '^cmp' /tmp/cmp.out)
if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && grep -q "cmp mode" /tmp/cmp.err; then
  result cmp PASS "$n records"
else
  result cmp FAIL "rc=$rc lines=$n $(head -c 300 /tmp/cmp.err | tr '\n' ' ')"
fi

# 3b. A coverage file for the host's kernel report (tests/kernel/
# kernel_report.sh): the unique PCs of `busybox ls /`, written with -o and
# printed base64 between markers (the file carries its own checksum, so a
# damaged copy is rejected on the host, not misreported).
emit_file() {  # result-name file rc
  if [ "$3" -eq 0 ] && [ -s "$2" ]; then
    echo "REMCOV-FILE-BEGIN $(basename "$2") $(wc -c < "$2")"
    base64 "$2"
    echo "REMCOV-FILE-END $(basename "$2")"
    result "$1" PASS "$(wc -c < "$2") bytes"
  else
    result "$1" FAIL "rc=$3 $(head -c 300 /tmp/file.err | tr '\n' ' ')"
  fi
}
$R trace --unique -q --size 1048576 -o /tmp/ls.cov -- /bin/busybox ls / \
  > /dev/null 2> /tmp/file.err
emit_file file_ls /tmp/ls.cov $?

if [ ! -d "$K" ]; then
  result remote_common SKIP "remcov_kmod not loaded"
  exit $fails
fi

# Remote: `remcov trace --remote OPTS -- sh -c "echo CTL > ctl"`; the module
# runs a target in a remote section and the trace must hold PCs inside it.
remote_case() {  # name target "remcov options" "module command" what
  $R trace --remote $3 --timeout 300 -- /bin/sh -c "echo '$4' > $K/ctl" \
    > /tmp/$1.pcs 2> /tmp/$1.err
  rc=$?
  hits=$(count_in /tmp/$1.pcs "$2")
  if [ $rc -eq 0 ] && [ "$hits" -gt 0 ]; then
    result "$1" PASS "$hits PCs of $2 from $5"
  else
    result "$1" FAIL "rc=$rc $2=$hits $(head -c 300 /tmp/$1.err | tr '\n' ' ')"
  fi
}
# 4. Common handle: the command, a child of remcov, inherits it; the module
# reads it in the write and runs target_a on a kernel thread.
remote_case remote_common remcov_kmod_target_a "--common-id 4242" "kthread common" "a kthread"
# 4b. The same remote trace as a coverage file, for the host's report on
# the module (its PCs are in remcov_kmod.ko, whose .text address the load
# map records).
$R trace --remote --common-id 4243 --timeout 300 --unique -q -o /tmp/remote.cov \
  -- /bin/sh -c "echo 'kthread common' > $K/ctl" > /dev/null 2> /tmp/file.err
emit_file file_remote /tmp/remote.cov $?
# 5. USB handle: a work item runs target_b with usb:7.
remote_case remote_usb remcov_kmod_target_b "--usb-bus 7" "work usb:7" "a work item"
exit $fails
