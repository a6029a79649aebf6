#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# kernel/build.sh: build the remcov test kernel (Debian linux-source-6.1) and the
# project's test module remcov_kmod, in a cache outside the checkout.
#
#   kernel/build.sh [--no-seed-patch] [--cache DIR] [--jobs N] [--env-out FILE]
#                   [--print-key] [--no-module] [--quiet] [--fragment FILE]
#
# Environment:
#   REMCOV_KERNEL_CACHE      cache root (default /var/cache/remcov/kernel)
#   REMCOV_KERNEL_TARBALL    source tarball (default /usr/src/linux-source-6.1.tar.xz)
#   REMCOV_KERNEL_SEED_PATCH 0 = same as --no-seed-patch (default 1)
#   REMCOV_KERNEL_JOBS       make -j (default: nproc)
#   REMCOV_KERNEL_FRAGMENT   config fragment (default kernel/config/remcov.config;
#                            --fragment FILE; for experiments, part of the key)
#
# Layout of the cache:
#   $CACHE/pristine-<tarball-id>/  the extracted tarball (never modified)
#   $CACHE/ws-<base-key>/src/      workspace source: hard-linked copy of pristine;
#                                  the selected patches are applied in place
#                                  (patched files are real copies)
#   $CACHE/ws-<base-key>/build/    O= build dir, configured once per base key
#   $CACHE/<key>/                  artifacts of one variant: bzImage, vmlinux,
#                                  System.map, config, gen_init_cpio,
#                                  module/remcov_kmod.ko, env, key.txt
# base key = recipe version + tarball identity (package version, size, sha256 of
# the first MiB) + sha256 of the config fragment + compiler version.
# key = base key + sha256 of every applied patch + the seed-patch switch.
# A variant whose artifacts exist ($CACHE/<key>/kernel.done) is a cache hit: only
# the module is (re)built, which takes seconds. Switching the seed patch on/off
# reuses the workspace: patches are reverted/applied in place and make rebuilds
# kernel/kcov.o and relinks.
#
# Exit codes: 0 ok; 1 build/verification failure; 77 prerequisites missing
# (no tarball / no compiler): callers turn that into a skip.
set -euo pipefail

RECIPE_VERSION=1   # bump when this script's build steps change the result
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${REMCOV_KERNEL_CACHE:-/var/cache/remcov/kernel}"
tarball="${REMCOV_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}"
seed_patch="${REMCOV_KERNEL_SEED_PATCH:-1}"
jobs="${REMCOV_KERNEL_JOBS:-$(nproc)}"
env_out=""
fragment="${REMCOV_KERNEL_FRAGMENT:-$here/config/remcov.config}"
print_key_only=0
build_module=1
quiet=0

while [ $# -gt 0 ]; do
  case "$1" in
    --no-seed-patch) seed_patch=0 ;;
    --seed-patch) seed_patch=1 ;;
    --cache) cache="$2"; shift ;;
    --jobs|-j) jobs="$2"; shift ;;
    --env-out) env_out="$2"; shift ;;
    --print-key) print_key_only=1 ;;
    --no-module) build_module=0 ;;
    --fragment) fragment="$2"; shift ;;
    --quiet) quiet=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[kernel/build.sh] $*" >&2; }
die() { echo "[kernel/build.sh] FATAL: $*" >&2; exit 1; }
t_start=$(date +%s)
elapsed() { echo $(( $(date +%s) - t_start )); }

# ---------- prerequisites ----------
if [ ! -r "$tarball" ]; then
  log "kernel source tarball $tarball not found (install linux-source-6.1)"
  exit 77
fi
for tool in gcc make flex bison bc xz tar patch; do
  command -v "$tool" >/dev/null 2>&1 || { log "missing tool: $tool"; exit 77; }
done

[ -r "$fragment" ] || die "config fragment $fragment missing"
patches=()
if [ "$seed_patch" = 1 ]; then
  while IFS= read -r p; do patches+=("$p"); done < <(ls "$here"/patches/*.patch 2>/dev/null | sort)
fi

# ---------- cache key ----------
pkg_version="$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)"
tar_size="$(stat -c %s "$tarball")"
tar_head="$(head -c 1048576 "$tarball" | sha256sum | cut -c1-16)"
tarball_id="${pkg_version}-${tar_size}-${tar_head}"
cc_id="$(gcc --version | head -1)"
base_input="recipe=$RECIPE_VERSION
tarball=$tarball_id
fragment=$(sha256sum < "$fragment" | cut -c1-64)
cc=$cc_id"
base_key="$(printf '%s\n' "$base_input" | sha256sum | cut -c1-12)"
patch_input="seed_patch=$seed_patch"
for p in "${patches[@]}"; do
  patch_input="$patch_input
patch=$(basename "$p") $(sha256sum < "$p" | cut -c1-64)"
done
key_input="$base_input
$patch_input"
key="6.1-$(printf '%s\n' "$key_input" | sha256sum | cut -c1-16)$([ "$seed_patch" = 1 ] && echo -seed || echo -noseed)"
if [ "$print_key_only" = 1 ]; then echo "$key"; exit 0; fi
log "cache key: $key (base $base_key)"
while IFS= read -r l; do log "  key input: $l"; done <<<"$key_input"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # one builder at a time per cache

kdir="$cache/$key"
ws="$cache/ws-$base_key"
src="$ws/src"
bld="$ws/build"
pristine="$cache/pristine-$tarball_id"

# Applies exactly the wanted patches to the workspace source, reverting any
# others first. $ws/applied.d/ holds copies of the applied patches, in order.
sync_patches() {
  local want_ids="" p id
  for p in "${patches[@]}"; do want_ids="$want_ids $(sha256sum < "$p" | cut -c1-16)"; done
  local have_ids=""
  if [ -d "$ws/applied.d" ]; then
    for p in $(ls "$ws/applied.d" | sort); do have_ids="$have_ids ${p#*-}"; done
  fi
  have_ids="$(echo $have_ids | sed 's/\.patch//g')"
  if [ "$(echo $want_ids)" = "$have_ids" ]; then
    log "workspace source already has the wanted patches (${have_ids:-none})"
    return 0
  fi
  if [ -d "$ws/applied.d" ]; then
    for p in $(ls "$ws/applied.d" | sort -r); do
      log "reverting $p"
      patch -R -p1 --no-backup-if-mismatch -d "$src" < "$ws/applied.d/$p" >&2 \
        || die "cannot revert $p in $src (delete $ws to start over)"
      rm -f "$ws/applied.d/$p"
    done
  fi
  mkdir -p "$ws/applied.d"
  local n=0
  for p in "${patches[@]}"; do
    n=$((n + 1))
    while IFS= read -r f; do
      # break the hard link to pristine before modifying
      [ -f "$src/$f" ] && { cp "$src/$f" "$src/$f.tmp" && mv "$src/$f.tmp" "$src/$f"; }
    done < <(sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$p")
    log "applying $(basename "$p")"
    patch -p1 -N --no-backup-if-mismatch -d "$src" < "$p" >&2 || die "patch $(basename "$p") does not apply"
    cp "$p" "$ws/applied.d/$(printf %03d $n)-$(sha256sum < "$p" | cut -c1-16).patch"
  done
}

# ---------- kernel ----------
if [ -f "$kdir/kernel.done" ]; then
  log "kernel: cache hit ($kdir)"
else
  log "kernel: cache miss for $key"
  if [ ! -f "$pristine/.extracted" ]; then
    log "extracting $tarball -> $pristine"
    rm -rf "$pristine.tmp" && mkdir -p "$pristine.tmp"
    tar -xJf "$tarball" -C "$pristine.tmp" --strip-components=1
    touch "$pristine.tmp/.extracted"
    rm -rf "$pristine" && mv "$pristine.tmp" "$pristine"
    log "extracted in $(elapsed)s"
  fi
  if [ ! -f "$ws/config.done" ]; then
    log "new workspace $ws (cold build)"
    rm -rf "$ws" && mkdir -p "$ws"
    # Hard-linked copy: cheap. The build uses O=, so kbuild writes nothing
    # into src/; patched files are replaced by real copies first.
    cp -al "$pristine" "$src"
    rm -f "$src/.extracted"
    mkdir -p "$bld"
    make -s -C "$src" O="$bld" tinyconfig >"$ws/config.log" 2>&1 \
      || { cat "$ws/config.log" >&2; die "make tinyconfig failed"; }
    "$src/scripts/kconfig/merge_config.sh" -m -O "$bld" "$bld/.config" "$fragment" >>"$ws/config.log" 2>&1 \
      || { cat "$ws/config.log" >&2; die "merge_config failed"; }
    make -s -C "$src" O="$bld" olddefconfig >>"$ws/config.log" 2>&1 \
      || { cat "$ws/config.log" >&2; die "make olddefconfig failed"; }

    # Every requested option must have survived olddefconfig.
    bad=0
    while IFS= read -r line; do
      case "$line" in
        CONFIG_*=*)
          grep -qxF "$line" "$bld/.config" || { log "config: requested '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$bld/.config" || echo absent)'"; bad=1; } ;;
        "# CONFIG_"*" is not set")
          sym="${line#\# }"; sym="${sym%% *}"
          ! grep -q "^$sym=" "$bld/.config" || { log "config: requested $sym unset, got '$(grep "^$sym=" "$bld/.config")'"; bad=1; } ;;
      esac
    done < "$fragment"
    [ "$bad" = 0 ] || die "the kernel config does not honour $fragment (see above)"
    log "config verified: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$fragment") requested settings present"
    touch "$ws/config.done"
  else
    log "reusing workspace $ws (incremental build)"
  fi

  sync_patches
  if [ "$seed_patch" = 1 ]; then
    grep -q 'smp_wmb();' <(sed -n '/^static void kcov_move_area/,/^}/p' "$src/kernel/kcov.c") \
      || die "seed patch requested but kcov_move_area has no smp_wmb()"
  else
    ! grep -q 'smp_wmb();' <(sed -n '/^static void kcov_move_area/,/^}/p' "$src/kernel/kcov.c") \
      || die "--no-seed-patch but kcov_move_area has smp_wmb()"
  fi

  t_make=$(date +%s)
  log "make -j$jobs bzImage modules_prepare (the long step when cold)"
  make -s -C "$src" O="$bld" -j"$jobs" bzImage modules_prepare >"$ws/make.log" 2>&1 \
    || { tail -50 "$ws/make.log" >&2; die "kernel build failed (log: $ws/make.log)"; }
  if [ ! -x "$bld/usr/gen_init_cpio" ]; then
    gcc -O2 -o "$bld/usr/gen_init_cpio" "$src/usr/gen_init_cpio.c" || die "cannot build usr/gen_init_cpio"
  fi
  make_s=$(( $(date +%s) - t_make ))
  log "kernel built in ${make_s}s (make only)"

  rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp"
  cp "$bld/arch/x86/boot/bzImage" "$bld/vmlinux" "$bld/System.map" "$kdir.tmp/"
  cp "$bld/.config" "$kdir.tmp/config"
  cp "$bld/usr/gen_init_cpio" "$kdir.tmp/gen_init_cpio"
  echo "$make_s" > "$kdir.tmp/make.seconds"
  printf '%s\n' "$key_input" > "$kdir.tmp/key.txt"
  grep -q 'smp_wmb' <(sed -n '/^static void kcov_move_area/,/^}/p' "$src/kernel/kcov.c") \
    && echo 1 > "$kdir.tmp/seed_patch_applied" || echo 0 > "$kdir.tmp/seed_patch_applied"
  touch "$kdir.tmp/kernel.done"
  rm -rf "$kdir" && mv "$kdir.tmp" "$kdir"
fi

for f in bzImage vmlinux gen_init_cpio; do [ -f "$kdir/$f" ] || die "no $f in $kdir"; done

# ---------- module ----------
kmod=""
if [ "$build_module" = 1 ]; then
  mdir="$kdir/module"
  mkdir -p "$mdir"
  # Copy sources only when they changed, so make stays incremental.
  for f in "$here"/module/*; do
    [ -f "$f" ] || continue
    cmp -s "$f" "$mdir/$(basename "$f")" || cp "$f" "$mdir/"
  done
  [ -f "$ws/config.done" ] || die "workspace $ws is gone; delete $kdir and rebuild"
  if [ ! -f "$bld/Module.symvers" ]; then
    # `make modules` writes Module.symvers (vmlinux's exports, no in-tree
    # modules in this config): external modules then resolve symbols at modpost.
    make -s -C "$src" O="$bld" -j"$jobs" modules >>"$ws/make.log" 2>&1 \
      || { tail -30 "$ws/make.log" >&2; die "make modules failed"; }
  fi
  make -s -C "$bld" M="$mdir" -j"$jobs" modules >"$mdir/make.log" 2>&1 \
    || { cat "$mdir/make.log" >&2; die "module build failed"; }
  if grep -q 'undefined!' "$mdir/make.log"; then
    cat "$mdir/make.log" >&2; die "remcov_kmod.ko has unresolved symbols"
  fi
  kmod="$mdir/remcov_kmod.ko"
  [ -f "$kmod" ] || die "no $kmod"
  grep -q '__sanitizer_cov_trace_pc' <(nm "$kmod" 2>/dev/null) \
    || die "remcov_kmod.ko is not KCOV-instrumented (no __sanitizer_cov_trace_pc reference)"
fi

cat > "$kdir/env" <<EOF
REMCOV_KERNEL_KEY=$key
REMCOV_KERNEL_SEED_PATCH=$seed_patch
REMCOV_KERNEL_DIR=$kdir
REMCOV_KERNEL_WORKSPACE=$ws
REMCOV_KERNEL_BZIMAGE=$kdir/bzImage
REMCOV_KERNEL_VMLINUX=$kdir/vmlinux
REMCOV_KERNEL_SYSTEM_MAP=$kdir/System.map
REMCOV_KERNEL_GEN_INIT_CPIO=$kdir/gen_init_cpio
REMCOV_KERNEL_MODULE=$kmod
EOF
[ -n "$env_out" ] && cp "$kdir/env" "$env_out"
[ "$quiet" = 1 ] || cat "$kdir/env"
log "done in $(elapsed)s (key $key)"
