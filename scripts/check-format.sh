#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails if a tracked C or C++ file differs from clang-format's output
# (.clang-format: Google style). Fix with: scripts/check-format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.c' | grep -v '^kernel/module/')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then
    echo "not clang-formatted: $f"
    bad=1
  fi
done
((bad == 0)) && echo "format: ${#files[@]} files clean"
exit $bad
