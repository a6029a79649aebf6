#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mkinitramfs.sh: pack the test VM's initramfs without root privileges, using
# the kernel tree's usr/gen_init_cpio (it creates /dev/console itself).
#
#   mkinitramfs.sh --gen-init-cpio PATH --out FILE [--module KO] [--busybox PATH]
#                  [--test BIN[::ARGS]]... [--file SRC::DEST]...
# Each test binary lands in /tests/<basename> and is run by /init in name
# order, with ARGS (split on spaces) as its command line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gen="" out="" module="" busybox="${REMCOV_BUSYBOX:-/bin/busybox}"
tests=() files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --gen-init-cpio) gen="$2"; shift ;;
    --out) out="$2"; shift ;;
    --module) module="$2"; shift ;;
    --busybox) busybox="$2"; shift ;;
    --test) tests+=("$2"); shift ;;
    --file) files+=("$2"); shift ;;
    *) echo "mkinitramfs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$gen" ] || { echo "mkinitramfs.sh: gen_init_cpio '$gen' not executable" >&2; exit 1; }
[ -n "$out" ] || { echo "mkinitramfs.sh: --out missing" >&2; exit 2; }
[ -x "$busybox" ] || { echo "mkinitramfs.sh: busybox '$busybox' missing (apt install busybox-static)" >&2; exit 1; }
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  echo "mkinitramfs.sh: warning: $busybox may not be static" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
list="$work/list"
{
  echo "dir /dev 0755 0 0"
  echo "nod /dev/console 0600 0 0 c 5 1"
  echo "nod /dev/null 0666 0 0 c 1 3"
  for d in /bin /sbin /proc /sys /tmp /tests /tests-args /root; do echo "dir $d 0755 0 0"; done
  echo "file /bin/busybox $busybox 0755 0 0"
  echo "slink /bin/sh busybox 0777 0 0"
  echo "file /init $here/init.sh 0755 0 0"
  [ -n "$module" ] && echo "file /remcov_kmod.ko $module 0644 0 0"
  for spec in "${files[@]}"; do  # extra files (e.g. /bin/remcov), not run
    src="${spec%%::*}"
    dest="${spec#*::}"
    [ -r "$src" ] || { echo "mkinitramfs.sh: file '$src' missing" >&2; exit 1; }
    echo "file $dest $src 0755 0 0"
  done
  for spec in "${tests[@]}"; do
    bin="${spec%%::*}"
    args=""
    [ "$bin" != "$spec" ] && args="${spec#*::}"
    [ -x "$bin" ] || { echo "mkinitramfs.sh: test '$bin' not executable" >&2; exit 1; }
    name="$(basename "$bin")"
    echo "file /tests/$name $bin 0755 0 0"
    if [ -n "$args" ]; then
      printf '%s\n' "$args" > "$work/args-$name"
      echo "file /tests-args/$name $work/args-$name 0644 0 0"
    fi
  done
} > "$list"
"$gen" "$list" > "$out.tmp"
mv "$out.tmp" "$out"
echo "[mkinitramfs] $out ($(stat -c %s "$out") bytes, ${#tests[@]} test(s))" >&2
