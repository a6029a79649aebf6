#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Obtains the third-party code bases that the whole-workload benchmarks
# (bench/workloads) and the third-party fuzz targets (fuzz_targets/) compile,
# from npm packages that ship their C sources, pinned to exact versions and
# checked against the registry's sha512 integrity recorded here (the one list
# of pins). Nothing third-party is committed: the tarballs and their unpacked
# trees live in DIR, by default ${REMCOV_BENCH_CACHE:-/var/cache/remcov/bench}
# (CMake passes a directory of the build tree). Prints one line per code base
# with its version, source directory and lines of code.
# Usage: scripts/fetch-thirdparty.sh [-d DIR] [NAME...]   (default: every NAME)
# Exit codes: 0 done; 1 download or integrity failure; 2 usage error.
#
#   sqlite  SQLite 3.50.4 amalgamation, as shipped by better-sqlite3 12.4.1
#   brotli  Brotli 1.0.7 (C library), as shipped by iltorb 2.4.5
#   zstd    Zstandard 1.5.7 (lib/: compress, decompress, common, with the
#           multi-threaded compressor), as shipped by zstd-napi 0.0.13
set -euo pipefail
cache=${REMCOV_BENCH_CACHE:-/var/cache/remcov/bench}
while getopts "d:" opt; do
  case $opt in
    d) cache=$OPTARG ;;
    *) echo "usage: $0 [-d DIR] [NAME...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
wanted=("$@")
command -v npm > /dev/null || { echo "fetch: npm not found (Debian: npm)" >&2; exit 1; }
mkdir -p "$cache"

# name  npm package@version  integrity (dist.integrity)  source subdirectory
pins=(
  "sqlite better-sqlite3@12.4.1 sha512-3yVdyZhklTiNrtg+4WqHpJpFDd+WHTg2oM7UcR80GqL05AOV0xEJzc6qNvFYoEtE+hRp1n9MpN6/+4yhlGkDXQ== deps/sqlite3"
  "brotli iltorb@2.4.5 sha512-EMCMl3LnnNSZJS5QrxyZmMTaAC4+TJkM5woD+xbpm9RB+mFYCr7C05GFE3TEGCsVQSVHmjX+3sf5AiwsylNInQ== brotli/c"
  "zstd zstd-napi@0.0.13 sha512-ErGF+Ko1PsbooU6oC/sc/diiWKwVa0kd/5AkFSs7kg5kwcEuOtSzOy3xUOadXQlAVNab9TxsxaUk3hOq3cj/lA== deps/zstd/lib"
)

# Physical lines, and lines that are neither blank nor only comment (C block
# and line comments stripped; string contents are not parsed, which is close
# enough for a size claim).
count_loc() {
  cat "$@" | awk '
    { line = $0; out = ""
      while (length(line) > 0) {
        if (inc) { e = index(line, "*/"); if (!e) { line = ""; break }
                   line = substr(line, e + 2); inc = 0; continue }
        s = index(line, "/*"); d = index(line, "//")
        if (d && (!s || d < s)) { out = out substr(line, 1, d - 1); line = ""; break }
        if (s) { out = out substr(line, 1, s - 1); line = substr(line, s + 2); inc = 1; continue }
        out = out line; line = ""
      }
      total++; if (out ~ /[^ \t\r]/) code++ }
    END { printf "%d lines, %d code lines\n", total, code }'
}

for want in "${wanted[@]}"; do
  found=0
  for pin in "${pins[@]}"; do [[ ${pin%% *} == "$want" ]] && found=1; done
  ((found)) || { echo "fetch: unknown code base '$want'" >&2; exit 2; }
done
for pin in "${pins[@]}"; do
  read -r name spec integrity subdir <<< "$pin"
  if ((${#wanted[@]})); then
    found=0
    for want in "${wanted[@]}"; do [[ $want == "$name" ]] && found=1; done
    ((found)) || continue
  fi
  pkg=${spec%@*}
  ver=${spec##*@}
  tgz=$cache/$pkg-$ver.tgz
  if [[ ! -f $tgz ]]; then
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    if ! (cd "$tmp" && npm pack --silent "$spec" > /dev/null); then
      rm -rf "$tmp"
      echo "fetch: npm pack $spec failed" >&2
      exit 1
    fi
    mv "$tmp/$pkg-$ver.tgz" "$tgz"
    rmdir "$tmp"
  fi
  # npm's integrity string: "sha512-" + base64 of the tarball's SHA-512.
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ $got != "$integrity" ]]; then
    echo "fetch: $tgz: integrity $got, expected $integrity" >&2
    rm -f "$tgz"
    exit 1
  fi
  dest=$cache/$pkg-$ver
  if [[ ! -f $dest/.unpacked ]]; then
    rm -rf "$dest"
    mkdir -p "$dest"
    tar -xzf "$tgz" -C "$dest" --strip-components=1 "package/$subdir"
    touch "$dest/.unpacked"
  fi
  src=$dest/$subdir
  mapfile -t files < <(find "$src" -name '*.c' -o -name '*.h' | sort)
  echo "$name: $spec ($integrity), $src: ${#files[@]} files, $(count_loc "${files[@]}")"
done
