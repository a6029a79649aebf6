#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Each coverage callback must also be defined under its __remcov_cov_* name,
# at the same address (an alias: the same code, so the same hot-path rules),
# and the object must call no coverage callback itself (it is not
# instrumented). With --localized (the copy linked next to libFuzzer,
# src/libfuzzer/CMakeLists.txt) the __sanitizer_cov_* names must be local, so they
# cannot clash with libFuzzer's, while the __remcov_cov_* ones stay global.
# Usage: check_aliases.sh [--localized] OBJECT CALLBACK...
#   CALLBACK: the names without __sanitizer_cov_ (CMake passes the list of
#   src/runtime/sancov_callbacks.inc).
set -eu
localized=0
if [ "$1" = "--localized" ]; then localized=1; shift; fi
obj=$1
shift
if [ $# -eq 0 ]; then echo "check_aliases.sh: no callback names given" >&2; exit 2; fi
names="$*"
status=0
syms=$(nm "$obj")
for n in $names; do
  orig=$(echo "$syms" | awk -v s="__sanitizer_cov_$n" '$3 == s {print $1, $2}')
  alias=$(echo "$syms" | awk -v s="__remcov_cov_$n" '$3 == s {print $1, $2}')
  want_orig=T
  [ "$localized" = 1 ] && want_orig=t
  if [ -z "$orig" ] || [ -z "$alias" ]; then
    echo "MISSING: __sanitizer_cov_$n='$orig' __remcov_cov_$n='$alias'"; status=1; continue
  fi
  set -- $orig; orig_addr=$1; orig_type=$2
  set -- $alias; alias_addr=$1; alias_type=$2
  if [ "$orig_addr" != "$alias_addr" ]; then
    echo "NOT AN ALIAS: __remcov_cov_$n at $alias_addr, __sanitizer_cov_$n at $orig_addr"; status=1
  fi
  if [ "$alias_type" != T ]; then
    echo "NOT GLOBAL: __remcov_cov_$n has type $alias_type"; status=1
  fi
  if [ "$orig_type" != "$want_orig" ]; then
    echo "WRONG BINDING: __sanitizer_cov_$n has type $orig_type, want $want_orig"; status=1
  fi
done
# Not instrumented: no reference to any coverage callback, under either name.
calls=$(nm -u "$obj" | awk 'NF >= 2 {print $2}' | grep -E '^__(sanitizer|remcov)_cov_' || true)
if [ -n "$calls" ]; then
  echo "INSTRUMENTED: the object calls $calls"; status=1
fi
[ "$status" = 0 ] && echo "aliases: all 12 callbacks aliased (localized=$localized)"
exit $status
