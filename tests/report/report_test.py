#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`remcov report` / `remcov diff` through the real pipeline (label report;
the browser case is label browser).

Usage: report_test.py CASE REMCOV FIXTURE SRCDIR GOLDENDIR FIXTURE_NOPIE
Each case runs `remcov trace --in-process -o run.cov -- FIXTURE ARG` and then
`remcov report` or `remcov diff`, and pins exit codes, messages and (golden
cases) the whole output against GOLDENDIR/<case>.<ext>, after replacing the
parts that change from build to build (temporary and build paths, build-ids,
load addresses). REMCOV_UPDATE_GOLDEN=1 rewrites the golden files instead.
Exit 77 = skip (the reason is printed).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)
    return p.returncode, p.stdout, p.stderr


def expect(cond, what, out=("", "")):
    if not cond:
        print("FAIL: " + what)
        print("--- stdout ---\n" + out[0] + "--- stderr ---\n" + out[1])
        sys.exit(1)


class Ctx:
    def __init__(self, remcov, fixture, src, golden, tmp):
        self.remcov, self.fixture, self.src, self.golden, self.tmp = \
            remcov, fixture, src, golden, tmp

    def trace(self, arg, name="run.cov", fixture=None):
        path = os.path.join(self.tmp, name)
        rc, out, err = run([self.remcov, "trace", "--in-process", "-q", "-o", path,
                            "--", fixture or self.fixture, arg])
        expect(rc == 0 and out == "" and err == "", "trace %s: rc %d" % (arg, rc),
               (out, err))
        return path

    def normalize(self, text):
        text = text.replace(self.tmp + "/", "$TMP/")
        text = text.replace(os.path.realpath(self.fixture), "$FIXTURE")
        text = text.replace(os.path.realpath(self.src), "$SRC")
        text = re.sub(r"build-id [0-9a-f]{8,}", "build-id $BUILDID", text)
        text = re.sub(r'"build_id": "[0-9a-f]*"', '"build_id": "$BUILDID"', text)
        text = re.sub(r'"(start|end|bias)": "0x[0-9a-f]+"', r'"\1": "$ADDR"', text)
        return text

    def golden_compare(self, name, text):
        path = os.path.join(self.golden, name)
        text = self.normalize(text)
        if os.environ.get("REMCOV_UPDATE_GOLDEN") == "1":
            os.makedirs(self.golden, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            print("updated " + path)
            return
        expect(os.path.exists(path), "no golden file %s (REMCOV_UPDATE_GOLDEN=1 "
               "creates it)" % path)
        want = open(path).read()
        if want != text:
            diff = subprocess.run(["diff", "-u", path, "-"], input=text,
                                  capture_output=True, text=True).stdout
            expect(False, "%s differs from the golden file:\n%s" % (name, diff))


def report(c, *args, **kw):
    return run([c.remcov, "report", "--root", c.src] + list(args), **kw)


def case_golden_text(c):
    cov = c.trace("123")
    rc, out, err = report(c, cov)
    expect(rc == 0 and err == "", "report rc %d" % rc, (out, err))
    # Things that must hold whatever the golden file says.
    expect(re.search(r"^tests/report/fixture_report.c +\d+/\d+ ", out, re.M),
           "the fixture's file", (out, err))
    expect(re.search(r"^  rep_never +0/\d+ +0\.0%$", out, re.M),
           "rep_never uncovered", (out, err))
    expect(re.search(r"^  rep_clamp +[1-9]\d*/\d+ ", out, re.M),
           "the inlined rep_clamp covered", (out, err))
    expect(re.search(r"^  rep_letters +0/\d+ ", out, re.M),
           "rep_letters uncovered with digits", (out, err))
    c.golden_compare("report.txt", out)


def case_golden_json(c):
    cov = c.trace("123")
    rc, out, err = report(c, "--format", "json", cov)
    expect(rc == 0 and err == "", "report rc %d" % rc, (out, err))
    import json
    doc = json.loads(out)
    expect(doc["schema"] == "remcov-report" and doc["input"]["format_version"] == 3,
           "schema and format version", (out, err))
    files = {f["path"]: f for f in doc["files"]}
    f = files["tests/report/fixture_report.c"]
    fns = {fn["name"]: fn for fn in f["functions"]}
    expect(fns["rep_never"]["lines_covered"] == 0 and
           fns["rep_classify"]["lines_covered"] > 0, "functions", (out, err))
    expect(sum(m["pcs_not_sites"] for m in doc["modules"]) == 0 and
           doc["unattributed_pcs"] == 0, "every PC is a site in a module", (out, err))
    c.golden_compare("report.json", out)


def case_cmp_report(c):
    # Comparison records: their ips are checked against the comparison sites
    # (trace-cmp callbacks) and attributed to lines like PCs.
    path = os.path.join(c.tmp, "cmp.cov")
    rc, out, err = run([c.remcov, "trace", "--in-process", "--cmp", "-q", "-o",
                        path, "--", c.fixture, "123"])
    expect(rc == 0 and out == "" and err == "", "trace --cmp: rc %d" % rc,
           (out, err))
    rc, out, err = report(c, "--format", "json", path)
    expect(rc == 0 and err == "", "report rc %d" % rc, (out, err))
    import json
    doc = json.loads(out)
    expect(doc["input"]["mode"] == "cmp" and doc["input"]["entries"] > 0,
           "a comparison-mode file with records", (out, err))
    expect(doc["unattributed_pcs"] == 0 and
           all(m["pcs_not_sites"] == 0 for m in doc["modules"]),
           "every record's ip is a comparison site of a module", (out, err))
    sites = sum(m["sites"] for m in doc["modules"])
    expect(sites > 0, "comparison sites listed", (out, err))
    f = {x["path"]: x for x in doc["files"]}["tests/report/fixture_report.c"]
    fns = {fn["name"]: fn for fn in f["functions"]}
    # "123": the digit comparisons of rep_classify ran, rep_never's did not.
    expect(fns["rep_classify"]["lines_covered"] > 0, "rep_classify's compares",
           (out, err))
    expect(fns["rep_never"]["lines_covered"] == 0 and
           fns["rep_never"]["lines_instrumented"] > 0,
           "rep_never's compare instrumented, not covered", (out, err))
    t = doc["totals"]
    expect(0 < t["lines_covered"] < t["lines_instrumented"], "totals", (out, err))


def case_golden_lcov(c):
    cov = c.trace("123")
    rc, out, err = report(c, "--format", "lcov", cov)
    expect(rc == 0 and err == "", "report rc %d" % rc, (out, err))
    expect("SF:" + os.path.realpath(c.src) + "/tests/report/fixture_report.c\n" in out,
           "absolute SF path", (out, err))
    expect(re.search(r"^FNDA:0,rep_never$", out, re.M), "rep_never", (out, err))
    c.golden_compare("report.lcov", out)


def case_golden_diff(c):
    a = c.trace("123", "a.cov")
    b = c.trace("abc", "b.cov")
    rc, out, err = run([c.remcov, "diff", "--root", c.src, a, b])
    expect(rc == 0 and err == "", "diff rc %d" % rc, (out, err))
    expect(re.search(r"^  rep_letters: lines? ", out, re.M), "rep_letters new in B",
           (out, err))
    gained, lost = out.split("\nLost: lines covered only by A\n")
    expect("\nGained: lines covered only by B\n" in gained, "gained section",
           (out, err))
    expect(not re.search(r"^  rep_clamp:", gained, re.M) and
           re.search(r"^  rep_clamp: lines? ", lost, re.M),
           "rep_clamp only in A: lost, not gained", (out, err))
    c.golden_compare("diff.txt", out)
    rc, out, err = run([c.remcov, "diff", "--root", c.src, "--format", "json", a, b])
    expect(rc == 0 and '"schema": "remcov-diff"' in out, "diff json", (out, err))
    import json
    doc = json.loads(out)
    lost = {fn["name"] for f in doc["only_a"] for fn in f["functions"]}
    expect("rep_clamp" in lost and
           sum(len(fn["lines"]) for f in doc["only_a"] for fn in f["functions"])
           == doc["summary"]["lines_only_a"], "only_a lists the lost lines",
           (out, err))
    c.golden_compare("diff.json", out)
    # A against itself: nothing new.
    rc, out, err = run([c.remcov, "diff", a, a])
    expect(rc == 0 and "only by B: 0, only by A: 0" in out, "self diff", (out, err))


def json_report(c, *args, **kw):
    import json
    rc, out, err = run([c.remcov, "report", "--root", c.src, "--format", "json"]
                       + list(args), **kw)
    expect(rc == 0, "report --format json %r: rc %d" % (args, rc), (out, err))
    return json.loads(out)


def line_hits(doc):
    """{(path, line): hits} of a JSON report."""
    return {(f["path"], l["line"]): l["hits"] for f in doc["files"]
            for l in f["lines"]}


def header(path):
    """(mode, flags, modules, entries, raw_count, dropped) of a coverage file."""
    h = open(path, "rb").read(64)
    _, _, _, mode, _, flags, mods, n, raw, dropped, _ = struct.unpack(
        "<8sIIIIIIQQQQ", h)
    return mode, flags, mods, n, raw, dropped


def case_merge(c):
    # The union of two runs of one program: per-line hits are the sums of the
    # runs' hits, covered lines the union; the entries are the sum (repeats
    # kept) or the distinct PCs (--unique). The same with "-" for one input.
    a = c.trace("123", "a.cov")
    b = c.trace("abc", "b.cov")
    m = os.path.join(c.tmp, "m.cov")
    rc, out, err = run([c.remcov, "merge", "-o", m, a, b])
    expect(rc == 0 and out == "" and
           re.search(r"^remcov merge: 2 files, \d+ entries read, \d+ distinct, "
                     r"\d+ modules in the load map; wrote \d+ entries to " +
                     re.escape(m), err),
           "merge: rc %d" % rc, (out, err))
    ha, hb, hm = header(a), header(b), header(m)
    expect(hm[3] == ha[3] + hb[3] and hm[5] == 0 and not hm[1] & 1,
           "merged entries %r = %r + %r" % (hm, ha, hb))
    da, db, dm = json_report(c, a), json_report(c, b), json_report(c, m)
    la, lb, lm = line_hits(da), line_hits(db), line_hits(dm)
    expect(set(lm) == set(la) | set(lb), "the same instrumented lines")
    for k in lm:
        expect(lm[k] == la.get(k, 0) + lb.get(k, 0), "hits of %r: %d != %d + %d" %
               (k, lm[k], la.get(k, 0), lb.get(k, 0)))
    cov = lambda d: {k for k, v in line_hits(d).items() if v}
    expect(cov(dm) == cov(da) | cov(db) and cov(dm) != cov(da),
           "covered lines are the union")
    # report A B: the same union, without a merged file.
    dab = json_report(c, a, b)
    expect(line_hits(dab) == lm and dab["input"]["paths"] == [a, b] and
           dab["totals"] == dm["totals"], "report A B == report (merge A B)")
    # --unique: each PC once.
    u = os.path.join(c.tmp, "u.cov")
    rc, out, err = run([c.remcov, "merge", "-q", "--unique", "-o", u, a, b])
    expect(rc == 0 and err == "", "merge --unique: rc %d" % rc, (out, err))
    hu = header(u)
    expect(hu[1] & 1 and hu[3] < hm[3] and
           set(line_hits(json_report(c, u))) == set(lm), "--unique %r" % (hu,))
    # Standard input: the same bytes.
    m2 = os.path.join(c.tmp, "m2.cov")
    with open(a, "rb") as f:
        rc, out, err = run([c.remcov, "merge", "-q", "-o", m2, "-", b], stdin=f)
    expect(rc == 0 and open(m2, "rb").read() == open(m, "rb").read(),
           "merge - B < A: rc %d" % rc, (out, err))
    # One file: the same coverage.
    rc, out, err = run([c.remcov, "merge", "-q", "-o", m2, a])
    expect(rc == 0 and line_hits(json_report(c, m2)) == la, "merge of one file",
           (out, err))
    # Two programs (PIE and non-PIE): both modules, side by side.
    n = c.trace("abc", "n.cov", fixture=c.fixture_nopie)
    rc, out, err = run([c.remcov, "merge", "-q", "-o", m2, a, n])
    expect(rc == 0, "merge of two programs: rc %d" % rc, (out, err))
    d2 = json_report(c, m2)
    paths = {mod["path"] for mod in d2["modules"]}
    expect({os.path.realpath(c.fixture), os.path.realpath(c.fixture_nopie)} <= paths
           and d2["unattributed_pcs"] == 0 and
           all(mod["pcs_not_sites"] == 0 for mod in d2["modules"]),
           "two programs' modules", (json.dumps(d2["modules"]), ""))


def case_merge_refusals(c):
    a = c.trace("123", "a.cov")
    cmp_ = os.path.join(c.tmp, "cmp.cov")
    rc, out, err = run([c.remcov, "trace", "--in-process", "--cmp", "-q", "-o",
                        cmp_, "--", c.fixture, "123"])
    expect(rc == 0, "trace --cmp", (out, err))
    m = os.path.join(c.tmp, "m.cov")
    before = open(a, "rb").read()
    for full, code, msg in [
            (["-o", m, a, cmp_], 120, "cannot be merged"),
            (["-o", a, a], 120, "would destroy the input"),
            ([a], 120, "needs -o OUT"),
            (["-o", m], 120, "needs at least one coverage file"),
            (["-o", "-", a], 120, "-o - is not supported"),
            (["-o", m, "-", "-"], 120, "standard input ('-') can be read only once"),
            (["-o", m, "--bogus", a], 120, "unknown option '--bogus'"),
            (["-o", "/nonexistent/m.cov", a], 125, "cannot create /nonexistent/m.cov"),
            (["-o", m, a, os.path.join(c.tmp, "none.cov")], 117, "cannot open"),
            (["-o", m, a, "/dev/zero"], 117, "not a regular file: read 64 bytes")]:
        rc, out, err = run([c.remcov, "merge"] + full)
        expect(rc == code and out == "" and msg in err,
               "merge %r: rc %d (want %d, %r)" % (full, rc, code, msg), (out, err))
        expect(not os.path.exists(m), "merge %r left %s" % (full, m))
        expect(not [f for f in os.listdir(c.tmp) if ".tmp" in f],
               "merge %r left a temporary file" % full)
    expect(open(a, "rb").read() == before, "an input was changed")
    rc, out, err = run([c.remcov, "merge", "-o", m, a, cmp_])
    expect(rc == 120 and "cmp.cov: its mode is cmp but the inputs before it are pc"
           in err, "the mode message names the file", (out, err))
    # Dropped counters are summed and said (even with -q).
    data = open(a, "rb").read()
    body = data[64:]
    def with_dropped(name, dropped):
        p = os.path.join(c.tmp, name)
        h = bytearray(data[:64])
        h[24:28] = struct.pack("<I", struct.unpack("<I", h[24:28])[0] | 2)
        h[48:56] = struct.pack("<Q", dropped)
        open(p, "wb").write(bytes(h) + body)
        return p
    rc, out, err = run([c.remcov, "merge", "-q", "-o", m, with_dropped("d1.cov", 5),
                        with_dropped("d2.cov", 7), a])
    expect(rc == 0 and "warning: 12 entries dropped (buffer overflow) in 2 of 3 "
           "files: the merged coverage is partial" in err,
           "dropped summed: rc %d" % rc, (out, err))
    expect(header(m)[5] == 12 and header(m)[1] & 2, "dropped and overflow in %s" % m)


def case_several_inputs(c):
    # report takes 1..N files and "-"; diff takes A and B, each may be "-".
    a = c.trace("123", "a.cov")
    b = c.trace("abc", "b.cov")
    rc, want, err = report(c, a)
    with open(a, "rb") as f:
        rc, out, err = report(c, "-", stdin=f)
    expect(rc == 0 and out == want.replace(a, "-", 1), "report - < A: rc %d" % rc,
           (out, err))
    rc, out, err = report(c, a, b)
    expect(rc == 0 and out.startswith("remcov report: %s, %s (format 3" % (a, b)),
           "report A B: rc %d" % rc, (out, err))
    with open(b, "rb") as f:
        rc, out2, err = report(c, a, "-", stdin=f)
    expect(rc == 0 and out2 == out.replace(a + ", " + b, a + ", -", 1),
           "report A - < B: rc %d" % rc, (out2, err))
    for args, msg in [(["-", "-"], "can be read only once")]:
        rc, out, err = report(c, *args)
        expect(rc == 120 and msg in err, "report %r: rc %d" % (args, rc), (out, err))
    rc, want, err = run([c.remcov, "diff", a, b])
    with open(a, "rb") as f:
        rc, out, err = run([c.remcov, "diff", "-", b], stdin=f)
    expect(rc == 0 and out == want.replace(a, "-", 1), "diff - B < A: rc %d" % rc,
           (out, err))
    rc, out, err = run([c.remcov, "diff", "-", "-"])
    expect(rc == 120 and "only once" in err, "diff - -: rc %d" % rc, (out, err))
    rc, out, err = run([c.remcov, "diff", a, b, a])
    expect(rc == 120 and "two coverage files" in err, "diff A B A", (out, err))
    # Mixed modes in report A B: refused like diff's.
    cmp_ = os.path.join(c.tmp, "cmp.cov")
    rc, out, err = run([c.remcov, "trace", "--in-process", "--cmp", "-q", "-o",
                        cmp_, "--", c.fixture, "123"])
    rc, out, err = report(c, a, cmp_)
    expect(rc == 120 and "cannot be merged" in err, "report pc + cmp: rc %d" % rc,
           (out, err))


def case_diff_other_program(c):
    # A and B of different programs: a warning, and the diff still printed.
    a = c.trace("123", "a.cov")
    n = c.trace("123", "n.cov", fixture=c.fixture_nopie)
    rc, out, err = run([c.remcov, "diff", a, n])
    expect(rc == 0 and "warning: %s and %s share no module" % (a, n) in err and
           "Gained: lines covered only by B" in out, "diff of two programs: rc %d" % rc,
           (out, err))
    rc, out, err = run([c.remcov, "diff", a, a])
    expect(rc == 0 and err == "", "no warning for one program", (out, err))


def tail_jumps(c):
    """{function: [line of each `jmp callback` in it]} of the -O2 fixture,
    from objdump and addr2line (the jump's own address)."""
    rc, dis, err = run(["objdump", "-d", "--no-show-raw-insn", c.fixture])
    expect(rc == 0, "objdump -d: rc %d" % rc, (dis, err))
    jumps, fn = {}, None
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            fn = m.group(1)
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s+jmp\s+[0-9a-f]+ "
                     r"<__(sanitizer|remcov)_cov_trace_pc(@plt)?>", line)
        if m:
            jumps.setdefault(fn, []).append(m.group(1))
    lines = {}
    for fn, addrs in jumps.items():
        rc, out, err = run(["addr2line", "-e", c.fixture] + ["0x" + a for a in addrs])
        expect(rc == 0, "addr2line: rc %d" % rc, (out, err))
        lines[fn] = [(os.path.relpath(l.split(":")[0], c.src),
                      int(l.split(":")[1].split()[0])) for l in out.splitlines()]
    return lines


def case_tail_calls(c):
    """gcc -O2 tail jumps to the callback: the PC recorded is the return
    address of the caller's call. Each jump is a site on its own line; a hit
    lands there when the callee has one jump (rep_tail_store, rep_tail_other)
    and is counted as unattributed when it has several (rep_tail_two), never
    on the caller's line (main, not instrumented) and never as "not an
    instrumented site"."""
    jumps = tail_jumps(c)
    expect(len(jumps.get("rep_tail_store", [])) == 1 and
           len(jumps.get("rep_tail_other", [])) == 1 and
           len(jumps.get("rep_tail_two", [])) == 2,
           "the -O2 fixture's tail jumps are not as the case needs: %r" % jumps)
    covs = [c.trace(arg, name="run%d.cov" % i)
            for i, arg in enumerate(["123", "abc", "-", ""])]
    rc, out, err = report(c, *covs)
    expect(rc == 0 and "not instrumented sites" not in out + err,
           "report rc %d: every recorded PC is a site" % rc, (out, err))
    expect("recorded PCs come from functions with several tail jumps" in out,
           "the unattributed tail calls are reported", (out, err))
    doc = json_report(c, *covs)
    mods = doc["modules"]
    expect(sum(m["pcs_not_sites"] for m in mods) == 0,
           "pcs_not_sites is 0", (json.dumps(mods), ""))
    # Each run calls each function once: 4 runs x 2 single-jump functions,
    # and 4 calls of rep_tail_two.
    expect(sum(m["tail_call_pcs"] for m in mods) == 8 and
           sum(m["unattributed_tail_call_pcs"] for m in mods) == 4,
           "tail calls: 8 attributed, 4 not", (json.dumps(mods), ""))
    bad = [(f["path"], l["line"]) for f in doc["files"] for l in f["lines"]
           if l["hits"] > 0 and l["sites"] == 0]
    expect(not bad, "lines with hits but no sites: %r" % bad)
    paths = [f["path"] for f in doc["files"]]
    expect(not any(p.endswith("fixture_report_o2_main.c") for p in paths),
           "no hit on the (uninstrumented) caller's lines: %r" % paths)
    sites = {(f["path"], l["line"]): l for f in doc["files"] for l in f["lines"]}
    for fn in ("rep_tail_store", "rep_tail_other", "rep_tail_two"):
        for at in jumps[fn]:
            expect(at in sites and sites[at]["sites"] >= 1,
                   "%s's tail jump at %s:%d is a site" % ((fn,) + at),
                   (json.dumps(doc["files"]), ""))
    for fn in ("rep_tail_store", "rep_tail_other"):
        at = jumps[fn][0]
        expect(sites[at]["hits"] >= 4, "%s's tail jump at %s:%d has the 4 "
               "runs' hits" % ((fn,) + at), (json.dumps(sites[at]), ""))


def case_bad_files(c):
    cov = c.trace("123")
    data = open(cov, "rb").read()
    cases = [
        (data[:40], "truncated header"),
        (data[:-3], "truncated?"),
        (b"NOTACOVF" + data[8:], "bad magic"),
        (data[:64] + bytes([data[64] ^ 1]) + data[65:], "corrupt coverage file"),
    ]
    for i, (bytes_, msg) in enumerate(cases):
        path = os.path.join(c.tmp, "bad%d.cov" % i)
        open(path, "wb").write(bytes_)
        rc, out, err = run([c.remcov, "report", path])
        expect(rc == 117 and out == "" and msg in err and path in err,
               "corrupt file %d: rc %d" % (i, rc), (out, err))
        rc, out, err = run([c.remcov, "diff", cov, path])
        expect(rc == 117 and msg in err, "diff with corrupt file %d" % i, (out, err))
    rc, out, err = run([c.remcov, "report", os.path.join(c.tmp, "none.cov")])
    expect(rc == 117 and "cannot open" in err, "missing file: rc %d" % rc, (out, err))
    for args, msg in [([], "needs one coverage file or more"),
                      (["--format", "xml", cov], "unknown format 'xml'"),
                      (["--bogus", cov], "unknown option '--bogus'")]:
        rc, out, err = run([c.remcov, "report"] + args)
        expect(rc == 120 and msg in err, "usage %r: rc %d" % (args, rc), (out, err))
    rc, out, err = run([c.remcov, "diff", cov])
    expect(rc == 120 and "two coverage files" in err, "diff usage", (out, err))


def feed_fifo(path, data, endless):
    """Writes data into the FIFO at path, then (endless) zeros until the
    reader closes it."""
    import threading

    def writer():
        try:
            with open(path, "wb") as f:
                f.write(data)
                while endless:
                    f.write(b"\0" * 65536)
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    return t


def case_bounded_inputs(c):
    # Inputs that are not regular files are read with a bound: /dev/zero
    # (bad magic after the 64-byte header), a pipe whose header is valid but
    # that never ends (stopped after the bytes the header allows), and a
    # header whose counts exceed the 4 GiB limit of a non-regular file.
    def report_bounded(path):
        p = subprocess.run([c.remcov, "report", path], capture_output=True,
                           text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr
    rc, out, err = report_bounded("/dev/zero")
    expect(rc == 117 and out == "" and "/dev/zero" in err and "bad magic" in err
           and "not a regular file: read 64 bytes" in err,
           "report /dev/zero: rc %d" % rc, (out, err))
    fifo = os.path.join(c.tmp, "fifo")
    os.mkfifo(fifo)
    mods = [module_record(0, 0, c.fixture, 0, 1 << 40, 0)]
    ten = coverage_file(mods, list(range(10)))
    writer = feed_fifo(fifo, ten, endless=True)
    rc, out, err = report_bounded(fifo)
    expect(rc == 117 and "more bytes than its header allows" in err and
           "stopped reading after" in err, "endless pipe: rc %d" % rc, (out, err))
    # The writer must have closed its end before the FIFO is opened again:
    # while it holds it, the next reader joins the same pipe and reads the
    # old writer's zeros.
    writer.join(timeout=10)
    expect(not writer.is_alive(), "the endless writer did not stop", ("", ""))
    huge = ten[:32] + struct.pack("<Q", 1 << 40) + ten[40:]
    writer = feed_fifo(fifo, huge, endless=True)
    rc, out, err = report_bounded(fifo)
    writer.join(timeout=10)
    expect(rc == 117 and "exceed the 4294967296-byte limit of a non-regular file"
           in err, "huge counts through a pipe: rc %d" % rc, (out, err))
    # A pipe that holds a whole, valid file is read (and reported).
    whole = c.trace("123")
    feed_fifo(fifo, open(whole, "rb").read(), endless=False)
    rc, out, err = report_bounded(fifo)
    expect(rc == 0 and "TOTAL lines" in out, "a valid file through a pipe: rc %d" % rc,
           (out, err))


def case_output_is_input(c):
    # -o naming an input (by any name: compared by device and inode) is
    # refused before anything is written; the input is left intact.
    cov = c.trace("123")
    before = open(cov, "rb").read()
    link = os.path.join(c.tmp, "link.cov")
    os.link(cov, link)
    for args in (["report", "-o", cov, cov], ["report", "-o", link, cov],
                 ["report", "--format", "json", "-o", "./run.cov", "run.cov"],
                 ["diff", "-o", link, cov, cov]):
        rc, out, err = run([c.remcov] + args, cwd=c.tmp)
        expect(rc == 120 and out == "" and "is the input" in err and
               "would destroy the input" in err, "%r: rc %d" % (args, rc), (out, err))
        expect(open(cov, "rb").read() == before, "the input was changed by %r" % args)
    # A different output is fine.
    rc, out, err = run([c.remcov, "report", "-o", os.path.join(c.tmp, "r.txt"), cov])
    expect(rc == 0, "report -o another file: rc %d" % rc, (out, err))


ODD_MAIN = r"""
#include <stdio.h>
static void* pcs[64];
static int n;
void __sanitizer_cov_trace_pc(void) {
  if (n < 64) pcs[n++] = __builtin_return_address(0);
}
int odd_f(int);
int norm_f(int);
int main(void) {
  odd_f(1);
  norm_f(1);
  for (int i = 0; i < n; i++) printf("%p\n", pcs[i]);
  return 0;
}
"""


def case_odd_paths(c):
    # Paths are bytes. JSON stays valid UTF-8 with a lossless escape of the
    # bytes that are not UTF-8 (U+DC00 + byte, Python's surrogateescape);
    # lcov leaves out (and counts) source paths it cannot hold (a newline),
    # so genhtml does not fail on the tracefile.
    import json
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("SKIP: no C compiler")
        return SKIP
    tmp = c.tmp.encode()
    # 1. A module and a coverage file whose names hold byte 0xff.
    fix = tmp + b"/fix\xff"
    shutil.copy2(c.fixture, fix)
    cov = tmp + b"/run\xff.cov"
    p = subprocess.run([c.remcov.encode(), b"trace", b"--in-process", b"-q", b"-o",
                        cov, b"--", fix, b"123"], capture_output=True, timeout=60)
    expect(p.returncode == 0, "trace fix\\xff: rc %d" % p.returncode,
           (p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
    for args in ([b"report", b"--format", b"json", cov],
                 [b"diff", b"--format", b"json", cov, cov]):
        p = subprocess.run([c.remcov.encode()] + args, capture_output=True,
                           timeout=60)
        outs = (p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
        expect(p.returncode == 0, "%r: rc %d" % (args, p.returncode), outs)
        try:
            doc = json.loads(p.stdout)  # bytes: must be valid UTF-8
        except ValueError as e:
            expect(False, "%r is not valid JSON in UTF-8: %s" % (args, e), outs)
        expect(b"\\udcff" in p.stdout, "the escape of 0xff", outs)
        if args[0] == b"report":
            expect(os.fsencode(doc["input"]["path"]) == cov, "input.path round trip",
                   outs)
            paths = [os.fsencode(m["path"]) for m in doc["modules"]]
            expect(os.path.realpath(fix) in paths, "module path round trip: %r" % paths,
                   outs)
        else:
            expect(os.fsencode(doc["a"]) == cov, "diff a round trip", outs)
    # 2. A source file in a directory named with 0xff and a newline.
    odd_dir = tmp + b"/odd\xff\nsrc"
    os.mkdir(odd_dir)
    with open(odd_dir + b"/odd.c", "w") as f:
        f.write("int odd_f(int x) {\n  if (x) return 1;\n  return 2;\n}\n")
    with open(tmp + b"/norm.c", "w") as f:
        f.write("int norm_f(int x) {\n  return x + 1;\n}\n")
    with open(tmp + b"/main.c", "w") as f:
        f.write(ODD_MAIN)
    prog = tmp + b"/oddprog"
    for src, obj in ((odd_dir + b"/odd.c", b"odd.o"), (tmp + b"/norm.c", b"norm.o")):
        subprocess.run([cc.encode(), b"-g", b"-O0", b"-fsanitize-coverage=trace-pc",
                        b"-c", src, b"-o", tmp + b"/" + obj], check=True)
    subprocess.run([cc.encode(), b"-no-pie", b"-O0", tmp + b"/main.c", tmp + b"/odd.o",
                    tmp + b"/norm.o", b"-o", prog], check=True)
    pcs = [int(l, 16) for l in subprocess.run([prog], capture_output=True,
                                              check=True).stdout.split()]
    path = os.path.join(c.tmp, "odd.cov")
    open(path, "wb").write(coverage_file(
        [module_record(0, 0, prog.decode(errors="surrogateescape"), 0, 1 << 47, 0)],
        pcs))
    p = subprocess.run([c.remcov, "report", "--format", "json", path],
                       capture_output=True, timeout=60)
    outs = (p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
    expect(p.returncode == 0, "json with an odd source path: rc %d" % p.returncode,
           outs)
    doc = json.loads(p.stdout)
    files = [os.fsencode(f["path"]) for f in doc["files"]]
    expect(odd_dir + b"/odd.c" in files, "source path round trip: %r" % files, outs)
    rc, out, err = run([c.remcov, "report", "--format", "lcov", path])
    expect(rc == 0 and "SF:" + c.tmp + "/norm.c\n" in out and "odd.c" not in out,
           "lcov: the odd path left out: rc %d" % rc, (out, err))
    expect("lcov cannot hold a source path with a newline" in err and
           "1 source files (" in err, "lcov: the warning", (out, err))
    html = os.path.join(c.tmp, "html")
    rc, out, err = run([c.remcov, "report", "--html", html, path])
    expect(rc == 0 and "lcov cannot hold" in err, "--html: rc %d" % rc, (out, err))
    expect(os.path.exists(os.path.join(html, "index.html")), "index.html", (out, err))


def case_no_debug_info(c):
    # A module with recorded PCs but no line information (built without -g,
    # or stripped) exits 118 unless --allow-missing-debug, which reports it
    # with a warning (before: an empty table, "TOTAL lines 0/0", exit 0).
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("SKIP: no C compiler")
        return SKIP
    with open(os.path.join(c.tmp, "odd.c"), "w") as f:
        f.write("int odd_f(int x) {\n  if (x) return 1;\n  return 2;\n}\n")
    with open(os.path.join(c.tmp, "norm.c"), "w") as f:
        f.write("int norm_f(int x) {\n  return x + 1;\n}\n")
    with open(os.path.join(c.tmp, "main.c"), "w") as f:
        f.write(ODD_MAIN)
    for name, debug in (("nodebug", []), ("stripped", ["-g"])):
        prog = os.path.join(c.tmp, name)
        objs = []
        for src in ("odd", "norm"):
            objs.append(os.path.join(c.tmp, src + ".o"))
            subprocess.run([cc, "-O0"] + debug + [
                "-fsanitize-coverage=trace-pc", "-c",
                os.path.join(c.tmp, src + ".c"), "-o", objs[-1]], check=True)
        subprocess.run([cc, "-no-pie", "-O0", os.path.join(c.tmp, "main.c")] +
                       objs + ["-o", prog], check=True)
        if name == "stripped":
            subprocess.run(["strip", prog], check=True)
        pcs = [int(l, 16) for l in subprocess.run([prog], capture_output=True,
                                                  check=True).stdout.split()]
        expect(len(pcs) > 0, "%s recorded PCs" % name)
        path = os.path.join(c.tmp, name + ".cov")
        open(path, "wb").write(coverage_file(
            [module_record(0, 0, prog, 0, 1 << 47, 0)], pcs))
        for args in (["report", path], ["report", "--format", "json", path],
                     ["diff", path, path]):
            rc, out, err = run([c.remcov] + args)
            expect(rc == 118 and out == "" and
                   "module %s has no line information" % prog in err and
                   "--allow-missing-debug" in err, "%s %r: rc %d" % (name, args, rc),
                   (out, err))
        rc, out, err = run([c.remcov, "report", "--allow-missing-debug", path])
        expect(rc == 0 and "warning: module %s has no line information" % prog in err
               and re.search(r"^TOTAL lines +0/0 ", out, re.M),
               "%s --allow-missing-debug: rc %d" % (name, rc), (out, err))
        rc, out, err = run([c.remcov, "report", "-q", "--allow-missing-debug", path])
        expect(rc == 0 and err == "", "-q --allow-missing-debug", (out, err))


def case_missing_module(c):
    copy = os.path.join(c.tmp, "fixture-copy")
    shutil.copy2(c.fixture, copy)
    cov = c.trace("123", fixture=copy)
    # Changed: another ELF file in its place (a different build-id).
    shutil.copy2("/bin/true", copy)
    rc, out, err = run([c.remcov, "report", cov])
    expect(rc == 118 and "changed since the run" in err and copy in err,
           "changed module: rc %d" % rc, (out, err))
    os.unlink(copy)
    rc, out, err = run([c.remcov, "report", cov])
    expect(rc == 118 and "is missing" in err and copy in err,
           "missing module: rc %d" % rc, (out, err))


def case_html(c):
    cov = c.trace("123")
    html = os.path.join(c.tmp, "html")
    rc, out, err = report(c, "--html", html, cov)
    expect(rc == 0 and out == "", "report --html: rc %d" % rc, (out, err))
    index = os.path.join(html, "index.html")
    expect(os.path.exists(index) and os.path.exists(os.path.join(html, "remcov.info")),
           "index.html and remcov.info", (out, err))
    page = find_file_page(html)
    expect(page is not None, "a page for fixture_report.c", (out, err))
    rc, out, err = report(c, "--html", os.path.join(c.tmp, "h2"),
                          "--genhtml", "/nonexistent/genhtml", cov)
    expect(rc == 119 and "cannot run '/nonexistent/genhtml'" in err and "lcov" in err,
           "genhtml missing: rc %d" % rc, (out, err))
    rc, out, err = report(c, "--html", os.path.join(c.tmp, "h3"), "--genhtml", "false",
                          cov)
    expect(rc == 119 and "genhtml failed (exit status 1)" in err,
           "genhtml failing: rc %d" % rc, (out, err))


def case_html_missing_source(c):
    """genhtml stops at a source it cannot read; the report gives pages
    without source and says so (the last argument is the fixture's source,
    moved away for the run)."""
    src = c.fixture_nopie
    cov = c.trace("123")
    away = src + ".away"
    os.rename(src, away)
    try:
        html = os.path.join(c.tmp, "html")
        rc, out, err = report(c, "--html", html, cov)
    finally:
        os.rename(away, src)
    expect(rc == 0 and "1 source file cannot be read (e.g. %s)" % src in err,
           "report --html with a missing source: rc %d" % rc, (out, err))
    expect(os.path.exists(os.path.join(html, "index.html")), "index.html",
           (out, err))


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def module_record(kind, flags, path, start, end, bias, build_id=b""):
    path = path.encode()
    rec = struct.pack("<IIIIQQQ", kind, flags, len(path), len(build_id), start, end,
                      bias) + path + build_id
    return rec + b"\0" * (-len(rec) % 8)


def coverage_file(modules, pcs):
    """A version 2 coverage file as `remcov trace` writes it (docs/format.md)."""
    body = b"".join(modules) + b"".join(struct.pack("<Q", pc) for pc in pcs)
    return struct.pack("<8sIIIIIIQQQQ", b"RMCOVCOV", 2, 64, 0, 8, 0, len(modules),
                       len(pcs), len(pcs), 0, fnv1a(body)) + body


def case_kernel_modules(c):
    # A kernel-mode file: vmlinux (kind 1, bias 0) and a module (kind 2). The
    # non-PIE fixture stands in for vmlinux: its PCs are its own addresses,
    # as KCOV's are vmlinux's.
    rc, out, err = run([c.remcov, "trace", "--in-process", "-q", "--",
                        c.fixture_nopie, "123"])
    expect(rc == 0, "trace the non-PIE fixture: rc %d" % rc, (out, err))
    pcs = [int(l, 16) for l in out.split()]
    mods = [module_record(2, 0, "kvm_intel", 0xffffffffc0000000,
                          0xffffffffc0100000, 0xffffffffc0000000),
            module_record(2, 1, "hidden_mod", 0, 0, 0),
            module_record(1, 0, "vmlinux", 0, 0xffffffffffffffff, 0)]
    path = os.path.join(c.tmp, "kernel.cov")
    open(path, "wb").write(coverage_file(mods, pcs))
    rc, out, err = run([c.remcov, "report", path])
    expect(rc == 118 and "--vmlinux PATH" in err, "no --vmlinux: rc %d" % rc, (out, err))
    rc, out, err = run([c.remcov, "report", "--vmlinux", c.tmp + "/none", path])
    expect(rc == 118 and "does not exist" in err, "missing vmlinux: rc %d" % rc,
           (out, err))
    rc, out, err = run([c.remcov, "report", "--root", c.src, "--vmlinux",
                        c.fixture_nopie, path])
    expect(rc == 0 and re.search(r"^module vmlinux \(kernel\): %d PCs" % len(pcs), out,
                                 re.M), "report with --vmlinux: rc %d" % rc, (out, err))
    expect(re.search(r"^  rep_never +0/\d+ ", out, re.M) and
           re.search(r"^  rep_classify +[1-9]\d*/\d+ ", out, re.M),
           "functions through vmlinux", (out, err))
    # A PC in the module: --module-dir is needed, and NAME.ko must be there.
    open(path, "wb").write(coverage_file(mods, pcs + [0xffffffffc0000010]))
    rc, out, err = run([c.remcov, "report", "--vmlinux", c.fixture_nopie, path])
    expect(rc == 118 and "kernel module kvm_intel" in err and "--module-dir" in err,
           "module without --module-dir: rc %d" % rc, (out, err))
    rc, out, err = run([c.remcov, "report", "--vmlinux", c.fixture_nopie,
                        "--module-dir", c.tmp, path])
    expect(rc == 118 and "no kvm_intel.ko in " + c.tmp in err,
           "module not in --module-dir: rc %d" % rc, (out, err))


def case_progress_tty(c):
    # Many addresses (5000+) and stderr a terminal: a progress line. The PCs
    # that are not sites are counted and said, not dropped.
    rc, out, err = run([c.remcov, "trace", "--in-process", "-q", "--",
                        c.fixture_nopie, "123"])
    expect(rc == 0, "trace: rc %d" % rc, (out, err))
    pcs = [int(l, 16) for l in out.split()]
    fake = [min(pcs) + 2 * i for i in range(1, 6001) if min(pcs) + 2 * i not in pcs]
    path = os.path.join(c.tmp, "many.cov")
    open(path, "wb").write(coverage_file(
        [module_record(0, 0, c.fixture_nopie, 0, 0xffffffffffffffff, 0)], pcs + fake))
    if shutil.which("script") is None:
        print("SKIP: no script(1) to give remcov a terminal (Debian bsdutils)")
        return SKIP
    log = os.path.join(c.tmp, "tty.log")
    # stderr is the terminal script(1) records into log; stdout is not.
    rc, out, err = run(["script", "-qec", "%s report %s >/dev/null" % (c.remcov, path),
                        log])
    tty = open(log).read().replace("\r\n", "\n")
    expect(rc == 0, "report on a terminal: rc %d" % rc, (tty, err))
    expect(re.search(r"symbolizing %s: 100%% \(\d+/\d+\)\n" % re.escape(c.fixture_nopie),
                     tty), "a progress line", ("", tty))
    rc, out, err = run([c.remcov, "report", path])
    expect(rc == 0 and "symbolizing" not in err, "no progress without a terminal",
           (out, err))
    # Some of the made-up PCs land on real sites; the rest are counted.
    m = re.search(r"(\d+) recorded PCs are not instrumented sites \(counted\)", out)
    expect(m and len(fake) - 100 < int(m.group(1)) <= len(fake),
           "PCs that are not sites", (out, err))


def find_file_page(html):
    for root, _, files in os.walk(html):
        for f in files:
            if f == "fixture_report.c.gcov.html":
                return os.path.join(root, f)
    return None


def case_browser(c):
    chromium = shutil.which("chromium")
    if chromium is None:
        print("SKIP: chromium is not installed (scripts/setup.sh installs it)")
        return SKIP
    cov = c.trace("123")
    html = os.path.join(c.tmp, "html")
    rc, out, err = report(c, "--html", html, cov)
    expect(rc == 0, "report --html: rc %d" % rc, (out, err))

    def dump(page):
        profile = tempfile.mkdtemp(dir=c.tmp)
        rc, out, err = run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-quic", "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--user-data-dir=" + profile, "--dump-dom",
                            "file://" + page])
        expect(rc == 0 and "</html>" in out, "chromium --dump-dom %s: rc %d" % (page, rc),
               (out, err[-2000:]))
        return out

    index = dump(os.path.join(html, "index.html"))
    expect("tests/report" in index, "the index lists the fixture's directory",
           (index[-3000:], ""))
    dirpage = [os.path.join(r, f) for r, _, fs in os.walk(html) for f in fs
               if f == "index.html" and r != html]
    page = find_file_page(html)
    expect(page is not None, "a per-file page")
    src = dump(page)
    expect("fixture_report.c" in src, "the per-file page names the file",
           (src[-3000:], ""))
    # genhtml marks lines: class="lineCov" (covered) and "lineNoCov".
    expect("lineCov" in src and
           "lineNoCov" in src, "covered and uncovered lines", (src[-3000:], ""))
    # The uncovered rep_never body and a covered line of rep_classify.
    expect(re.search(r'<span class="lineNoCov">[^<]*return x \* 2;', src),
           "rep_never's body uncovered", (src[-3000:], ""))
    expect(re.search(r'<span class="lineCov">[^<]*digits\+\+;', src),
           "digits++ covered", (src[-3000:], ""))
    if dirpage:
        d = dump(dirpage[0])
        expect("fixture_report.c" in d, "the directory page lists the file",
               (d[-3000:], ""))


def main():
    case, remcov, fixture, src, golden, fixture_nopie = sys.argv[1:7]
    with tempfile.TemporaryDirectory() as tmp:
        c = Ctx(remcov, fixture, os.path.realpath(src), golden, os.path.realpath(tmp))
        c.fixture_nopie = fixture_nopie
        rc = globals()["case_" + case](c)
    if rc == SKIP and os.environ.get("CI") == "true":
        print("FAIL: a skip under CI=true is a failure")
        rc = 1
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
