#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The coverage callbacks must reference no allocation, locking, stdio or other
# libc symbols: they run on every basic block and in signal handlers.
# Usage: check_callbacks.sh OBJECT...
set -eu
status=0
undefined=$(nm -u "$@" | awk 'NF >= 2 {print $2}' | sort -u)
echo "undefined symbols referenced by the callbacks:"
echo "${undefined:-  (none)}" | sed 's/^/  /'
for sym in $undefined; do
  case "$sym" in
    # Thread-local storage access, sanitizer instrumentation in sanitizer builds.
    __tls_get_addr|__tsan_*|__asan_*|__ubsan_*|__sanitizer_*|_GLOBAL_OFFSET_TABLE_) ;;
    _ZN6remcov8internal9tls_stateE|_ZTHN6remcov8internal9tls_stateE|_ZTWN6remcov8internal9tls_stateE) ;;
    *) echo "FORBIDDEN: $sym"; status=1 ;;
  esac
done
[ "$status" = 0 ] && echo "callbacks: no forbidden symbols"
exit $status
