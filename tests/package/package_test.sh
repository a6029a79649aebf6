#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, checked without installing it (label package):
#  1. cpack builds remcov_<version>_<arch>.deb from this build tree;
#  2. its Depends covers every shared library its ELF files need (each
#     DT_NEEDED is found in a package named there, or in remcov itself), and
#     `apt-get install --simulate` accepts it (against the packages installed
#     here, with an empty package list: no network, nothing changed);
#  3. `dpkg-deb -x` into a temporary root holds the tool, headers, libraries,
#     the CMake package, remcov.pc and remcov(1), which `man -l` renders;
#  4. a consumer (instrumented with -fsanitize-coverage=trace-pc) is built
#     against that root four ways -- pkg-config (shared runtime), pkg-config
#     --static (static runtime), pkg-config --static with -static (a
#     statically linked program) and find_package with CMAKE_PREFIX_PATH --
#     traced with the root's `remcov trace --in-process` and reported with its
#     `remcov report`: the function that ran is covered, the other is not;
#     and `remcov report --html` writes the HTML report (genhtml).
#     A C++ program using remcov::Collector is built with pkg-config too, and
#     the runtime test's static program (tests/integration/static) with
#     pkg-config --static and -static.
#
# Usage: package_test.sh BUILD_DIR WORK_DIR SOURCE_DIR CPACK CMAKE CC CXX
#                        VERSION LIBDIR
set -euo pipefail
# (No `cmd | grep -q`: grep exits at the first match, cmd gets SIGPIPE and
# pipefail fails the pipeline; grep reads <(cmd) instead.)
build=$1 work=$2 src=$3 cpack=$4 cmake=$5 cc=$6 cxx=$7 version=$8 libdir=$9

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# Runs a command; on failure prints its output and fails with the message.
run() {
  local what=$1
  shift
  if ! "$@" >"$work/last.log" 2>&1; then
    cat "$work/last.log" >&2
    fail "$what"
  fi
}

rm -rf "$work"
mkdir -p "$work"
cd "$work"

# --- 1. the package ---------------------------------------------------------
run "cpack" "$cpack" --config "$build/CPackConfig.cmake" -B "$work/pkg"
deb=$work/pkg/remcov_${version}_$(dpkg --print-architecture).deb
[[ -f $deb ]] || fail "no $deb (cpack wrote: $(ls "$work/pkg"))"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes," \
  "Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
[[ $(dpkg-deb -f "$deb" Package) == remcov ]] || fail "Package is not remcov"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "Version is not $version"

# --- 2. declared dependencies -------------------------------------------------
root=$work/root
run "dpkg-deb -x" dpkg-deb -x "$deb" "$root"
declare -A declared=()
IFS=',|' read -ra alternatives <<<"$depends"
for a in "${alternatives[@]}"; do
  name=${a%%(*}
  name=${name// /}
  declared[${name%%:*}]=1
done
[[ -n ${declared[libc6]:-} ]] || fail "Depends has no libc6: '$depends'"
provided=$(find "$root" -name '*.so*' -printf '%f\n')
checked=0
while IFS= read -r -d '' f; do
  [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == 177ELF ]] || continue
  [[ $f == *.a ]] && continue
  while read -r soname; do
    grep -qxF "$soname" <<<"$provided" && continue
    owners=$(dpkg-query -S "*/$soname" 2>/dev/null | cut -d: -f1 | tr ',' '\n' |
      tr -d ' ' | sort -u)
    [[ -n $owners ]] || fail "${f#"$root"} needs $soname, which no installed package has"
    ok=0
    for o in $owners; do [[ -n ${declared[$o]:-} ]] && ok=1; done
    ((ok)) || fail "${f#"$root"} needs $soname (package $owners), not in Depends: $depends"
    checked=$((checked + 1))
  done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$root" -type f -print0)
((checked > 0)) || fail "no DT_NEEDED entry checked"
echo "dependencies: $checked DT_NEEDED entries covered by Depends"
# A consumer of remcov::symbolize (a static archive) links the files its
# exported INTERFACE_LINK_LIBRARIES name by path (libdw.so, libiberty.a...),
# which dpkg-shlibdeps cannot see: each must belong to a declared package.
targets=$(find "$root" -name 'remcovTargets.cmake')
[[ -n $targets ]] || fail "no remcovTargets.cmake in the package"
sym_libs=$(sed -n '/^set_target_properties(remcov::symbolize /,/^)/s/.*INTERFACE_LINK_LIBRARIES "\(.*\)"/\1/p' \
  "$targets" | tr ';' '\n' | sed 's/^\$<LINK_ONLY:\(.*\)>$/\1/' | grep '^/' || true)
[[ -n $sym_libs ]] || fail "remcov::symbolize links no library by path: $(grep -A6 'remcov::symbolize ' "$targets")"
for lib in $sym_libs; do
  owner=$(dpkg-query -S "$lib" 2>/dev/null | cut -d: -f1)
  [[ -n $owner ]] || fail "remcov::symbolize links $lib, which no installed package has"
  [[ -n ${declared[$owner]:-} ]] ||
    fail "remcov::symbolize links $lib (package $owner), not in Depends: $depends"
  echo "remcov::symbolize links $lib: $owner, declared"
done

# An empty list directory: apt resolves against what is installed only, so
# the check needs no network and no `apt-get update`; the caches stay in
# memory and the planner's log goes to the work directory. A simulation takes
# no dpkg lock: it runs beside another apt.
mkdir -p "$work/apt-lists/partial"
run "apt-get install --simulate" apt-get install --simulate \
  -o Dir::State::Lists="$work/apt-lists" -o Dir::Cache::pkgcache= \
  -o Dir::Cache::srcpkgcache= -o Dir::Log::Planner="$work/apt-planner.log.xz" \
  "$deb"
grep -q "^Inst remcov " "$work/last.log" || {
  cat "$work/last.log"
  fail "apt-get --simulate would not install remcov"
}
grep "^Inst " "$work/last.log"

# --- 3. the files -------------------------------------------------------------
for f in usr/bin/remcov usr/include/remcov/remcov.h usr/include/remcov/collector.h \
  usr/include/remcov/version.h "usr/$libdir/libremcov_runtime.a" \
  "usr/$libdir/libremcov_rt.a" "usr/$libdir/libremcov_rt.so" \
  "usr/$libdir/libremcov_rt.so.0" "usr/$libdir/libremcov_client.a" \
  "usr/$libdir/cmake/remcov/remcovConfig.cmake" \
  "usr/$libdir/cmake/remcov/remcovConfigVersion.cmake" \
  "usr/$libdir/pkgconfig/remcov.pc" usr/share/man/man1/remcov.1.gz \
  usr/share/doc/remcov/copyright usr/share/doc/remcov/docs/tools/remcov.md; do
  [[ -e $root/$f ]] || fail "the package has no /$f"
done
remcov=$root/usr/bin/remcov
out=$("$remcov" --version)
[[ $out == "remcov $version"$'\n'* ]] || fail "remcov --version: $out"

man_page=$root/usr/share/man/man1/remcov.1.gz
# LC_ALL=C: ASCII output (tables drawn with |), whatever the caller's locale.
LC_ALL=C MANWIDTH=80 man -l "$man_page" >"$work/man.txt" 2>"$work/man.err" ||
  fail "man -l failed: $(cat "$work/man.err")"
[[ ! -s $work/man.err ]] || fail "man -l warns: $(cat "$work/man.err")"
for want in "REMCOV\(1\)" "^ +remcov +- +collect KCOV coverage" "^SYNOPSIS" \
  "remcov --help \| --version" "^EXIT STATUS" "in-process mode" "remcov $version"; do
  LC_ALL=C grep -qE -- "$want" "$work/man.txt" || fail "man remcov has no /$want/"
done
# Table rows come out as rows (tbl ran): code and meaning on one line.
grep -qE '^ +\|127 +\| COMMAND not found +\|$' "$work/man.txt" ||
  fail "man remcov: the EXIT STATUS table is not rendered"
echo "man: $(wc -l <"$work/man.txt") lines at 80 columns, no warnings"

# --- 4. consumers ---------------------------------------------------------------
consumer=$src/tests/package/consumer
export PKG_CONFIG_LIBDIR=$root/usr/$libdir/pkgconfig
unset PKG_CONFIG_PATH
[[ $(pkg-config --modversion remcov) == "$version" ]] || fail "pkg-config --modversion"
# pkg-config's output is split into words, as a Makefile would.
read -ra cflags <<<"$(pkg-config --cflags remcov)"
read -ra libs <<<"$(pkg-config --libs remcov)"
read -ra static_libs <<<"$(pkg-config --libs --static remcov)"
[[ ${cflags[*]} == *"$root"* ]] || fail "pkg-config --cflags does not point into the root: ${cflags[*]}"
echo "pkg-config --libs: ${libs[*]}"
echo "pkg-config --libs --static: ${static_libs[*]}"
run "compile target.c" "$cc" -c -g -O0 -fsanitize-coverage=trace-pc \
  "$consumer/target.c" -o target.o
run "compile main.c" "$cc" -c -g "${cflags[@]}" "$consumer/main.c" -o main.o

# Traces ./PROG 50 with the root's remcov and reports it: pkg_classify ran
# (lines covered), pkg_never did not.
trace_and_report() {
  local prog=$1
  run "remcov trace $prog" "$remcov" trace --in-process -o "$prog.cov" -- "./$prog" 50
  grep -q "pkg_consumer: remcov $version, class 2, " "$work/last.log" ||
    fail "$prog printed: $(cat "$work/last.log")"
  grep -qE "remcov trace: pc mode, [1-9][0-9]* entries" "$work/last.log" ||
    fail "$prog: no coverage: $(cat "$work/last.log")"
  run "remcov report $prog" "$remcov" report "$prog.cov"
  if ! grep -qE '^ +pkg_classify +[1-9][0-9]*/[0-9]+ ' "$work/last.log" ||
    ! grep -qE '^ +pkg_never +0/[1-9][0-9]* ' "$work/last.log"; then
    cat "$work/last.log"
    fail "$prog: report does not show pkg_classify covered and pkg_never not"
  fi
  echo "$prog: $(grep -E '^ +pkg_' "$work/last.log" | tr -s ' ' | tr '\n' ';')"
  # The README's last step: an HTML report (genhtml from lcov).
  run "remcov report --html $prog" "$remcov" report --html "$prog.html" "$prog.cov"
  [ -f "$prog.html/index.html" ] && grep -rqF "target.c" "$prog.html" ||
    fail "$prog: no HTML report naming target.c in $prog.html"
}

run "link (pkg-config, shared)" "$cc" main.o target.o "${libs[@]}" -o shared
grep -q 'NEEDED.*\[libremcov_rt\.so\.0\]' <(readelf -d shared) ||
  fail "pkg-config --libs: not linked with libremcov_rt.so.0"
export LD_LIBRARY_PATH=$root/usr/$libdir
grep -qF "$root/usr/$libdir/libremcov_rt.so.0" <(LD_TRACE_LOADED_OBJECTS=1 ./shared) ||
  fail "shared: libremcov_rt.so.0 is not loaded from the extracted root"
trace_and_report shared
unset LD_LIBRARY_PATH

run "link (pkg-config --static)" "$cc" main.o target.o -Wl,-Bstatic "${static_libs[@]}" \
  -Wl,-Bdynamic -o static
! grep -q 'NEEDED.*libremcov' <(readelf -d static) ||
  fail "pkg-config --static: still linked with a shared remcov library"
grep -q ' T __sanitizer_cov_trace_pc$' <(nm static) ||
  fail "pkg-config --static: the runtime is not in the executable"
# Instrumented shared objects it loads must find the callbacks and the C API
# in the executable: Libs.private exports them.
for sym in __sanitizer_cov_trace_const_cmp4 __sanitizer_cov_trace_switch remcov_remote_start; do
  grep -q " T $sym\$" <(nm -D static) ||
    fail "pkg-config --static: $sym is not in the executable's dynamic symbol table"
done
trace_and_report static

# A statically linked program (-static) with the same pkg-config line:
# Libs.private brings the options it needs, and nothing else is added. First
# the consumer above, traced and reported like the others ...
run "link (pkg-config --static, -static)" "$cc" -static main.o target.o \
  "${static_libs[@]}" -o static_program
! grep -q 'INTERP' <(readelf -l static_program) ||
  fail "-static: static_program has a program interpreter"
trace_and_report static_program
# ... then the runtime test's static program (tests/integration/static):
# threads inherit the common handle, handlers are wrapped.
static_src=$src/tests/integration/static
run "compile static_program.c" "$cc" -c "${cflags[@]}" \
  "$static_src/static_program.c" -o static_main.o
run "compile probes.c" "$cc" -c -O0 -fsanitize-coverage=trace-pc \
  "$static_src/probes.c" -o static_probes.o
run "compile std_thread.cc" "$cxx" -c "$static_src/std_thread.cc" \
  -o static_std_thread.o
run "link the static program (pkg-config --static, -static)" "$cxx" -static \
  static_main.o static_probes.o static_std_thread.o "${static_libs[@]}" \
  -o static_checks
./static_checks >static_checks.out 2>&1 ||
  fail "static_checks: exit $?: $(cat static_checks.out)"
grep -q '^static program: ok$' static_checks.out ||
  fail "static_checks printed: $(cat static_checks.out)"
echo "static_checks: $(head -2 static_checks.out | tr '\n' ';')"

run "configure (find_package)" "$cmake" -S "$consumer" -B cmake-build \
  -DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug
grep -qF "remcov_DIR:PATH=$root/usr/$libdir/cmake/remcov" cmake-build/CMakeCache.txt ||
  fail "find_package did not use the extracted root: $(grep remcov_DIR cmake-build/CMakeCache.txt)"
run "build (find_package)" "$cmake" --build cmake-build
cp cmake-build/pkg_consumer find_package
trace_and_report find_package
# remcov::symbolize from the root: its sites of the consumer, with lines.
run "pkg_symbolize" cmake-build/pkg_symbolize find_package
grep -qE '^site 0x[0-9a-f]+ pkg_classify .*/target\.c:[0-9]+$' "$work/last.log" &&
  grep -qE '^site 0x[0-9a-f]+ pkg_never .*/target\.c:[0-9]+$' "$work/last.log" ||
  fail "pkg_symbolize printed: $(cat "$work/last.log")"
echo "remcov::symbolize consumer: $(tail -1 "$work/last.log")"

# The C++ client (remcov::Collector) over the shared runtime, with pkg-config.
run "compile the consumer's plugin" "$cc" -shared -fPIC \
  -fsanitize-coverage=trace-pc,trace-cmp "$src/tests/install/consumer/plugin.c" \
  -o "$work/plugin.so"
run "compile the C++ consumer" "$cxx" -std=c++20 -c "${cflags[@]}" \
  "-DCONSUMER_PLUGIN=\"$work/plugin.so\"" \
  "$src/tests/install/consumer/main.cc" -o collector_main.o
run "compile its target" "$cc" -c -fsanitize-coverage=trace-pc \
  "$src/tests/install/consumer/target.c" -o collector_target.o
run "link the C++ consumer" "$cxx" collector_main.o collector_target.o "${libs[@]}" \
  -o collector
LD_LIBRARY_PATH=$root/usr/$libdir ./collector >collector.out ||
  fail "collector: exit $?: $(cat collector.out)"
grep -qE "^consumer: [1-9][0-9]* pcs, plugin: [1-9][0-9]* pcs \(remcov $version\)" collector.out ||
  fail "collector printed: $(cat collector.out)"
cat collector.out
echo "package: ok"
