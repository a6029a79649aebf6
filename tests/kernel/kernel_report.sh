#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kernel report of the kernel lane (issue 7): the coverage file the VM
# wrote for `busybox ls /` (trace_cli_vm.sh, printed base64 on the serial
# console) is extracted on the host and turned into a JSON and an HTML
# report against the lane's vmlinux, and both are checked.
#   kernel_report.sh --remcov HOST_REMCOV --log SERIAL_LOG --env KERNEL_ENV
#                    --workdir DIR
# Exit 0 pass, 1 fail (the reason is printed).
set -uo pipefail
remcov="" log="" env_file="" workdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --remcov) remcov="$2"; shift ;;
    --log) log="$2"; shift ;;
    --env) env_file="$2"; shift ;;
    --workdir) workdir="$2"; shift ;;
    *) echo "kernel_report.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
here="$(cd "$(dirname "$0")" && pwd)"
fail() { echo "kernel report: FAIL: $*"; exit 1; }
# shellcheck disable=SC1090
source "$env_file" || fail "cannot read $env_file"
src="$REMCOV_KERNEL_WORKSPACE/src"
out="$workdir/report"
rm -rf "$out" && mkdir -p "$out"

python3 "$here/extract_vm_file.py" "$log" ls.cov "$out/ls.cov" ||
  fail "no coverage file from the VM"
t0=$SECONDS
"$remcov" report -q --vmlinux "$REMCOV_KERNEL_VMLINUX" --root "$src" \
  --format json -o "$out/ls.json" "$out/ls.cov" || fail "remcov report --format json exited $?"
t_json=$((SECONDS - t0))
"$remcov" report -q --vmlinux "$REMCOV_KERNEL_VMLINUX" --root "$src" \
  "$out/ls.cov" > "$out/ls.txt" || fail "remcov report (text) exited $?"
t0=$SECONDS
"$remcov" report -q --vmlinux "$REMCOV_KERNEL_VMLINUX" --root "$src" \
  --html "$out/html" "$out/ls.cov" > "$out/html.log" 2>&1 ||
  { tail -20 "$out/html.log"; fail "remcov report --html exited $?"; }
t_html=$((SECONDS - t0))

python3 - "$out" <<'PY' || exit 1
import json, os, sys
out = sys.argv[1]
r = json.load(open(os.path.join(out, 'ls.json')))
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
check(r['input']['format_version'] >= 2, 'the VM wrote a file without a load map')
kernel = [m for m in r['modules'] if m['kind'] == 'kernel']
check(len(kernel) == 1, 'one kernel module expected, got %r' % r['modules'])
if kernel:
    k = kernel[0]
    check(k['sites'] > 10000, 'vmlinux has only %d instrumented sites' % k['sites'])
    # A function that ends in a tail call (`jmp __sanitizer_cov_trace_pc`)
    # records its caller's return address, which is no call site of the
    # callback (2,325 such jumps in the lane's vmlinux; measured: every one of
    # the 204 such PCs of `ls` follows a call). Counted, bounded here.
    check(k['pcs_not_sites'] * 10 < k['pcs'],
          '%d of %d recorded PCs are not call sites of the callback' %
          (k['pcs_not_sites'], k['pcs']))
check(r['unattributed_pcs'] == 0, '%d PCs outside vmlinux' % r['unattributed_pcs'])
t = r['totals']
check(500 < t['lines_covered'] < t['lines_instrumented'],
      'implausible totals %r' % t)
files = {f['path']: f for f in r['files']}
rd = files.get('fs/readdir.c')
check(rd is not None and rd['lines_covered'] > 0, 'fs/readdir.c not covered')
if rd:
    covered = {f['name'] for f in rd['functions'] if f['hits'] > 0}
    check(any('getdents64' in n for n in covered),
          'no getdents64 function covered in fs/readdir.c: %r' % sorted(covered))
    uncovered = [l for l in rd['lines'] if l['hits'] == 0]
    check(uncovered, 'fs/readdir.c has no uncovered instrumented line')
html = os.path.join(out, 'html')
index = os.path.join(html, 'index.html')
check(os.path.exists(index), 'no html/index.html')
page = os.path.join(html, 'fs', 'readdir.c.gcov.html')
check(os.path.exists(page), 'no page for fs/readdir.c')
if os.path.exists(page):
    text = open(page, errors='replace').read()
    check('lineCov' in text and 'lineNoCov' in text,
          'fs/readdir.c page lacks covered or uncovered lines')
if bad:
    print('kernel report: FAIL:\n  ' + '\n  '.join(bad))
    sys.exit(1)
print('kernel report: %d files, %d of %d instrumented lines covered, '
      '%d sites in vmlinux' % (len(files), t['lines_covered'],
                               t['lines_instrumented'], kernel[0]['sites']))
PY
# The module: a remote trace of remcov_kmod_target_a on a kernel thread
# (trace_cli_vm.sh, file_remote), symbolized with the module's .ko.
python3 "$here/extract_vm_file.py" "$log" remote.cov "$out/remote.cov" ||
  fail "no remote coverage file from the VM"
"$remcov" report -q --vmlinux "$REMCOV_KERNEL_VMLINUX" --root "$src" \
  --module-dir "$(dirname "$REMCOV_KERNEL_MODULE")" --format json \
  -o "$out/remote.json" "$out/remote.cov" || fail "remcov report (module) exited $?"
python3 - "$out/remote.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
bad = []
mods = [m for m in r['modules'] if m['kind'] == 'kernel-module']
if len(mods) != 1 or mods[0]['path'] != 'remcov_kmod':
    bad.append('one remcov_kmod module expected, got %r' % r['modules'])
else:
    m = mods[0]
    if m['sites'] == 0 or m['pcs'] == 0 or m['pcs_not_sites'] != 0:
        bad.append('module sites/PCs: %r' % m)
files = [f for f in r['files'] if f['path'].endswith('remcov_kmod.c')]
if len(files) != 1:
    bad.append('remcov_kmod.c not in the report: %r' % [f['path'] for f in r['files']])
else:
    fns = {f['name']: f for f in files[0]['functions']}
    a, c = fns.get('remcov_kmod_target_a'), fns.get('remcov_kmod_target_c')
    if not a or a['lines_covered'] == 0:
        bad.append('remcov_kmod_target_a not covered: %r' % a)
    if not c or c['lines_covered'] != 0 or c['lines_instrumented'] == 0:
        bad.append('remcov_kmod_target_c should be instrumented, not covered: %r' % c)
if bad:
    print('kernel report (module): FAIL:\n  ' + '\n  '.join(bad))
    sys.exit(1)
print('kernel report (module): remcov_kmod %d sites, %d PCs; target_a %d/%d lines'
      % (mods[0]['sites'], mods[0]['pcs'], a['lines_covered'], a['lines_instrumented']))
PY
echo "kernel report: json ${t_json}s, html ${t_html}s; $out/html/index.html"
echo "kernel report: PASS"
