#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`remcov report`'s exports through the real pipeline (label report).

Usage: export_test.py CASE REMCOV FIXTURE SRCDIR DTD FIXTURE_NOPIE FIXTURE_GUARD
Each case traces a fixture with `remcov trace --in-process -o`, exports the
coverage file and checks the export with its consumer where Debian ships one
(xmllint against the Cobertura DTD, LLVM's sancov), else with a parser written
here from the format's published description (drcov: the DynamoRIO format as
Lighthouse reads it; raw cover and JSONL: syzkaller's syz-cover and
pkg/cover). Expected values come from the coverage file itself (read here
from docs/format.md), readelf and objdump, never from remcov's own exports.
FIXTURE_GUARD is the fixture built with -fsanitize-coverage=trace-pc-guard
(clang only; "-" otherwise). Exit 77 = skip (not under CI=true).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_test import Ctx, coverage_file, expect, module_record, run  # noqa: E402

SKIP = 77
SANCOV = "sancov-14"


def skip(why):
    if os.environ.get("CI") == "true":
        print("FAIL: would skip under CI=true: " + why)
        sys.exit(1)
    print("SKIP: " + why)
    return SKIP


def read_cov(path):
    """(modules, pcs) of a coverage file of one process, per docs/format.md."""
    d = open(path, "rb").read()
    (magic, version, _hs, mode, _wb, _flags, nmod, count, _raw, _dropped,
     _sum) = struct.unpack("<8sIIIIIIQQQQ", d[:64])
    expect(magic == b"RMCOVCOV" and version == 3 and mode == 0, "a v3 PC file")
    # One traced process: the process table (count, then 48-byte records).
    (nproc,) = struct.unpack("<Q", d[64:72])
    expect(nproc == 1, "one process")
    off, mods = 72 + 48 * nproc, []
    for _ in range(nmod):
        kind, flags, plen, blen, start, end, bias = struct.unpack(
            "<IIIIQQQ", d[off:off + 40])
        path_ = d[off + 40:off + 40 + plen].decode()
        mods.append(dict(kind=kind, flags=flags, path=path_, start=start, end=end,
                         bias=bias))
        n = 40 + plen + blen
        off += n + (-n % 8)
    pcs = list(struct.unpack("<%dQ" % count, d[off:off + 8 * count]))
    return mods, pcs


def module_of(mods, pc):
    for m in mods:
        if not m["flags"] & 1 and m["start"] <= pc < m["end"]:
            return m
    return None


def lowest_load(elf):
    """The lowest PT_LOAD p_vaddr, from readelf -lW."""
    rc, out, err = run(["readelf", "-lW", elf])
    expect(rc == 0, "readelf -lW", (out, err))
    loads = [int(m.group(1), 16) for m in
             re.finditer(r"^\s*LOAD\s+0x[0-9a-f]+\s+0x([0-9a-f]+)", out, re.M)]
    expect(loads, "PT_LOAD segments", (out, err))
    return min(loads)


def call_sites(elf):
    """Address -> length of every call to the PC callback (objdump names it
    __sanitizer_cov_trace_pc or by its alias __remcov_cov_trace_pc)."""
    rc, out, err = run(["objdump", "-d", "--no-show-raw-insn", elf])
    expect(rc == 0, "objdump -d", ("", err))
    lines = out.splitlines()
    sites = {}
    addr_re = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)")
    for i, line in enumerate(lines):
        m = re.match(r"^\s*([0-9a-f]+):\s+call\w*\s+[0-9a-f]+ "
                     r"<__(?:sanitizer|remcov)_cov_trace_pc(?:_guard)?(?:@plt)?>",
                     line)
        if not m:
            continue
        nxt = next((addr_re.match(l) for l in lines[i + 1:] if addr_re.match(l)),
                   None)
        sites[int(m.group(1), 16)] = int(nxt.group(1), 16) - int(m.group(1), 16)
    expect(sites, "calls to the coverage callback in %s" % elf)
    return sites


def report_json(c, cov):
    rc, out, err = run([c.remcov, "report", "--root", c.src, "--format", "json", cov])
    expect(rc == 0, "report --format json: rc %d" % rc, (out, err))
    return json.loads(out)


def parse_drcov(data):
    """A drcov version 2 log, read as the published description says
    (DynamoRIO's drcov; Lighthouse's reader): two header lines, a module
    table with a Columns line, a BB table of {u32 start, u16 size, u16 id}."""
    f = data
    pos = 0

    def line():
        nonlocal pos
        end = f.index(b"\n", pos)
        text = f[pos:end].decode("utf-8")
        pos = end + 1
        return text

    version = line()
    expect(version == "DRCOV VERSION: 2", "version line %r" % version)
    expect(line().startswith("DRCOV FLAVOR: "), "flavor line")
    m = re.fullmatch(r"Module Table: version (\d+), count (\d+)", line())
    expect(m and m.group(1) == "2", "module table version 2")
    columns = line()
    expect(columns == "Columns: id, base, end, entry, path", "columns %r" % columns)
    modules = []
    for _ in range(int(m.group(2))):
        fields = line().split(", ")
        expect(len(fields) == 5, "five columns")
        modules.append(dict(id=int(fields[0]), base=int(fields[1], 16),
                            end=int(fields[2], 16), entry=int(fields[3], 16),
                            path=fields[4]))
    m = re.fullmatch(r"BB Table: (\d+) bbs", line())
    expect(m, "BB table header")
    n = int(m.group(1))
    expect(len(f) - pos == 8 * n, "%d binary BB entries" % n)
    bbs = [struct.unpack("<IHH", f[pos + 8 * i:pos + 8 * i + 8]) for i in range(n)]
    return modules, bbs


def case_drcov(c):
    for fixture in (c.fixture, c.fixture_nopie):
        cov = c.trace("123", fixture=fixture)
        mods, pcs = read_cov(cov)
        out_path = os.path.join(c.tmp, "run.drcov")
        rc, out, err = run([c.remcov, "report", "--format", "drcov", "-o", out_path,
                            cov])
        expect(rc == 0 and out == "" and err == "", "report --format drcov: rc %d"
               % rc, (out, err))
        modules, bbs = parse_drcov(open(out_path, "rb").read())
        real = os.path.realpath(fixture)
        m = module_of(mods, pcs[0])
        expect(len(modules) == 1 and modules[0]["path"] == real and
               modules[0]["id"] == 0, "one module, the fixture", (str(modules), ""))
        # The base is the image base a disassembler gives the file: the load
        # bias plus the lowest PT_LOAD address.
        base = m["bias"] + lowest_load(fixture)
        expect(modules[0]["base"] == base and modules[0]["end"] == m["end"],
               "base 0x%x (want 0x%x)" % (modules[0]["base"], base))
        sites = call_sites(fixture)
        got = set()
        for start, size, mod_id in bbs:
            addr = base + start - m["bias"]  # the address in the ELF file
            expect(mod_id == 0 and addr in sites and size == sites[addr],
                   "BB 0x%x+%d is a call to the callback" % (addr, size))
            got.add(base + start + size)
        expect(got == set(pcs), "the BBs are the distinct recorded PCs' calls")
        expect(len(bbs) == len(set(pcs)), "one BB per distinct PC")


def case_drcov_refusals(c):
    # A path drcov's table cannot hold (its columns are split on ", ").
    odd = os.path.join(c.tmp, "a, b")
    os.mkdir(odd)
    copy = os.path.join(odd, "fixture")
    shutil.copy2(c.fixture, copy)
    cov = c.trace("123", fixture=copy)
    rc, out, err = run([c.remcov, "report", "--format", "drcov", "-o",
                        os.path.join(c.tmp, "x.drcov"), cov])
    expect(rc == 120 and "drcov cannot write the path of module " + copy in err,
           "a path with ', ': rc %d" % rc, (out, err))
    # Module file gone: drcov needs its program headers (118), rawcover and
    # sancov need nothing but the coverage file.
    copy = os.path.join(c.tmp, "fixture")
    shutil.copy2(c.fixture, copy)
    cov = c.trace("123", fixture=copy)
    os.unlink(copy)
    rc, out, err = run([c.remcov, "report", "--format", "drcov", "-o",
                        os.path.join(c.tmp, "x.drcov"), cov])
    expect(rc == 118 and "is missing" in err, "missing module: rc %d" % rc,
           (out, err))
    rc, out, err = run([c.remcov, "report", "--format", "rawcover", cov])
    expect(rc == 0 and len(out.splitlines()) == len(read_cov(cov)[1]),
           "rawcover without the module file: rc %d" % rc, (out, err))
    rc, out, err = run([c.remcov, "report", "-q", "--format", "sancov", "-o",
                        os.path.join(c.tmp, "sc"), cov])
    expect(rc == 0 and os.path.exists(os.path.join(c.tmp, "sc", "fixture.0.sancov")),
           "sancov without the module file: rc %d" % rc, (out, err))
    # Binary data is not written to a terminal.
    if shutil.which("script") is None:
        return skip("no script(1) to give remcov a terminal (Debian bsdutils)")
    cov = c.trace("123")
    log = os.path.join(c.tmp, "tty.log")
    rc, out, err = run(["script", "-qec", "%s report --format drcov %s" %
                        (c.remcov, cov), log])
    tty = open(log, errors="replace").read()
    expect(rc == 120 and "is binary: not writing it to a terminal" in tty,
           "drcov to a terminal: rc %d" % rc, (tty, err))


def case_cobertura(c):
    if shutil.which("xmllint") is None:
        return skip("no xmllint (Debian libxml2-utils; scripts/setup.sh installs it)")
    cov = c.trace("123")
    doc = report_json(c, cov)
    xml_path = os.path.join(c.tmp, "coverage.xml")
    rc, out, err = run([c.remcov, "report", "--format", "cobertura", "--root", c.src,
                        "-o", xml_path, cov])
    expect(rc == 0 and out == "" and err == "", "report --format cobertura: rc %d"
           % rc, (out, err))
    # Valid against the DTD; the catalog maps the DOCTYPE's system id to it,
    # so nothing is fetched from the network.
    catalog = os.path.join(c.tmp, "catalog.xml")
    with open(catalog, "w") as f:
        f.write('<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:'
                'xmlns:xml:catalog">\n  <system systemId="http://cobertura.'
                'sourceforge.net/xml/coverage-04.dtd" uri="file://%s"/>\n'
                '</catalog>\n' % c.dtd)
    env = dict(os.environ, XML_CATALOG_FILES=catalog)

    def xmllint(path):
        p = subprocess.run(["xmllint", "--noout", "--nonet", "--dtdvalid", c.dtd,
                            path], capture_output=True, text=True, env=env)
        return p.returncode, p.stdout, p.stderr

    rc, out, err = xmllint(xml_path)
    expect(rc == 0 and err == "", "xmllint --dtdvalid: rc %d" % rc, (out, err))
    # The DTD does check: without a required attribute, or with an element
    # it does not declare, the document is invalid.
    text = open(xml_path).read()
    for broken, what in [(re.sub(r' lines-valid="\d+"', "", text, count=1),
                          'does not carry attribute lines-valid'),
                         (text.replace("<methods>", "<methods><bogus/>", 1),
                          "bogus")]:
        bad = os.path.join(c.tmp, "bad.xml")
        open(bad, "w").write(broken)
        rc, out, err = xmllint(bad)
        expect(rc != 0 and what in err, "xmllint rejects %s" % what, (out, err))
    # What GitLab and Jenkins read: line-rate, <sources>, packages / classes /
    # lines with a filename under the source.
    root = ET.parse(xml_path).getroot()
    t = doc["totals"]
    expect(root.tag == "coverage" and
           int(root.get("lines-valid")) == t["lines_instrumented"] and
           int(root.get("lines-covered")) == t["lines_covered"] and
           abs(float(root.get("line-rate")) -
               t["lines_covered"] / t["lines_instrumented"]) < 1e-4,
           "totals and line-rate", (text[:600], ""))
    expect(re.fullmatch(r"remcov \S+", root.get("version")) and
           int(root.get("timestamp")) > 0, "version and timestamp")
    sources = [s.text for s in root.findall("./sources/source")]
    expect(sources == [c.src], "the source is --root", (str(sources), ""))
    classes = root.findall("./packages/package/classes/class")
    files = {f["path"]: f for f in doc["files"]}
    expect(sorted(k.get("filename") for k in classes) == sorted(files),
           "a class per source file", (str([k.get("filename") for k in classes]), ""))
    for k in classes:
        f = files[k.get("filename")]
        expect(os.path.exists(os.path.join(sources[0], k.get("filename"))),
               "filename %s under the source" % k.get("filename"))
        lines = {int(l.get("number")): int(l.get("hits"))
                 for l in k.findall("./lines/line")}
        expect(lines == {l["line"]: l["hits"] for l in f["lines"]},
               "lines and hits of %s" % f["path"], (str(lines), ""))
        methods = {m.get("name"): m for m in k.findall("./methods/method")}
        fns = {fn["name"]: fn for fn in f["functions"]}
        expect(set(methods) == set(fns), "a method per function", (str(methods), ""))
        for name, fn in fns.items():
            ml = methods[name].findall("./lines/line")
            expect(len(ml) == fn["lines_instrumented"] and
                   sum(int(l.get("hits")) > 0 for l in ml) == fn["lines_covered"],
                   "method %s" % name)
    rep_never = [m for m in root.iter("method") if m.get("name") == "rep_never"]
    expect(rep_never and rep_never[0].get("line-rate") == "0", "rep_never at 0")


def case_rawcover(c):
    cov = c.trace("123")
    mods, pcs = read_cov(cov)
    rc, out, err = run([c.remcov, "report", "--format", "rawcover", cov])
    expect(rc == 0 and err == "", "report --format rawcover: rc %d" % rc, (out, err))
    # syz-cover's readPCs: every non-empty line, trimmed, strconv.ParseUint(s, 0, 64).
    got = [int(l.strip(), 0) for l in out.splitlines() if l.strip()]
    expect(all(l.startswith("0x") for l in out.splitlines()), "0x-prefixed hex")
    m = module_of(mods, pcs[0])
    sites = call_sites(c.fixture)
    # syzkaller's PreviousInstructionPC: the call instruction, here as module
    # addresses; recorded order and repeats kept.
    expect(got == [pc - m["bias"] - 5 for pc in pcs], "the recorded PCs' calls",
           (out, ""))
    expect(all(a in sites for a in got), "every PC is a callback call site")


def case_jsonl(c):
    cov = c.trace("123")
    mods, pcs = read_cov(cov)
    doc = report_json(c, cov)
    rc, out, err = run([c.remcov, "report", "--format", "jsonl", cov])
    expect(rc == 0 and err == "", "report --format jsonl: rc %d" % rc, (out, err))
    # syzkaller's pkg/cover CoverageInfo JSON names, and remcov's "module".
    keys = {"file_path", "func_name", "sl", "sc", "el", "ec", "hit_count", "inline",
            "pc", "module"}
    rows = [json.loads(l) for l in out.splitlines()]
    expect(rows and all(set(r) == keys for r in rows), "the field names",
           (out[:500], ""))
    m = module_of(mods, pcs[0])
    real = os.path.realpath(c.fixture)
    expect(all(r["module"] == real for r in rows), "the module")
    by_pc = {}
    for r in rows:
        by_pc.setdefault(r["pc"], []).append(r)
    sites = call_sites(c.fixture)
    expect(all(pc in sites for pc in by_pc), "every pc is a callback call site")
    # Every site once, with the report's site count; hit counts as recorded.
    expect(len(by_pc) == doc["modules"][0]["sites"], "one pc per site")
    counts = {}
    for pc in pcs:
        counts[pc - m["bias"] - 5] = counts.get(pc - m["bias"] - 5, 0) + 1
    for pc, frames in by_pc.items():
        expect(all(f["hit_count"] == counts.get(pc, 0) for f in frames),
               "hit_count of 0x%x" % pc, (str(frames), ""))
        expect([f["inline"] for f in frames] ==
               [True] * (len(frames) - 1) + [False], "inline flags: outermost last")
        expect(all(f["sl"] == f["el"] and f["ec"] == -1 for f in frames),
               "one line per frame")
    # The innermost frames give the report's lines (its attribution rule).
    src = os.path.join(c.src, "tests/report/fixture_report.c")
    covered = {(f[0]["sl"]) for f in by_pc.values()
               if f[0]["hit_count"] > 0 and f[0]["file_path"] == src}
    lines = {f["path"]: f for f in doc["files"]}["tests/report/fixture_report.c"]
    expect(covered == {l["line"] for l in lines["lines"] if l["hits"] > 0},
           "covered lines as the report", (str(covered), ""))
    never = {f[0]["func_name"] for f in by_pc.values() if f[0]["hit_count"] == 0}
    expect("rep_never" in never and "rep_letters" in never, "uncovered sites listed")


def case_sancov(c):
    if shutil.which(SANCOV) is None:
        return skip("no %s (Debian llvm-14)" % SANCOV)
    cov = c.trace("123")
    mods, pcs = read_cov(cov)
    out_dir = os.path.join(c.tmp, "sancov")
    rc, out, err = run([c.remcov, "report", "--format", "sancov", "-o", out_dir, cov])
    name = os.path.basename(c.fixture) + ".0.sancov"
    path = os.path.join(out_dir, name)
    expect(rc == 0 and out == "" and re.search(
        r"wrote %s \(\d+ PCs of %s\)" % (re.escape(path),
                                         re.escape(os.path.realpath(c.fixture))),
        err), "report --format sancov: rc %d" % rc, (out, err))
    expect(os.listdir(out_dir) == [name], "one file, <module>.<n>.sancov")
    rc, out, err = run([SANCOV, "-print", path])
    expect(rc == 0 and err == "", "sancov -print: rc %d" % rc, (out, err))
    m = module_of(mods, pcs[0])
    want = sorted({pc - m["bias"] - 1 for pc in pcs})
    expect([int(l, 16) for l in out.split()] == want,
           "sancov -print: the distinct PCs - 1 as module addresses", (out, ""))
    # sancov finds no coverage points in a trace-pc build (it recognizes
    # trace-pc-guard calls only): -symbolize refuses, as the manual says.
    rc, out, err = run([SANCOV, "-symbolize", c.fixture, path])
    expect(rc != 0 and "Coverage points in binary and .sancov file do not match"
           in err, "sancov -symbolize on a trace-pc build: rc %d" % rc, (out, err))
    # Usage: -o DIR is needed.
    rc, out, err = run([c.remcov, "report", "--format", "sancov", cov])
    expect(rc == 120 and "give -o DIR" in err, "sancov without -o", (out, err))


def case_sancov_symbolize(c):
    # sancov -symbolize finds coverage points by calls to
    # __sanitizer_cov_trace_pc_guard (not trace_pc): the guard fixture.
    if shutil.which(SANCOV) is None:
        return skip("no %s (Debian llvm-14)" % SANCOV)
    fixture = c.fixture_guard
    cov = c.trace("123", fixture=fixture)
    mods, pcs = read_cov(cov)
    doc = report_json(c, cov)
    expect(doc["modules"][0]["sites"] > 0 and doc["modules"][0]["pcs_not_sites"] == 0,
           "the report counts trace-pc-guard sites", (json.dumps(doc["modules"]), ""))
    out_dir = os.path.join(c.tmp, "sancov")
    rc, out, err = run([c.remcov, "report", "-q", "--format", "sancov", "-o",
                        out_dir, cov])
    expect(rc == 0 and out == "" and err == "", "report --format sancov: rc %d" % rc,
           (out, err))
    path = os.path.join(out_dir, os.path.basename(fixture) + ".0.sancov")
    rc, out, err = run([SANCOV, "-symbolize", fixture, path])
    expect(rc == 0, "sancov -symbolize: rc %d" % rc, (out, err))
    sym = json.loads(out)
    m = module_of(mods, pcs[0])
    want = {"%x" % (pc - m["bias"] - 1) for pc in pcs}
    expect(set(sym["covered-points"]) == want, "covered points", (out[:800], ""))
    rc, cov_fns, err = run([SANCOV, "-covered-functions", fixture, path])
    expect(rc == 0, "sancov -covered-functions", (cov_fns, err))
    rc, not_fns, err = run([SANCOV, "-not-covered-functions", fixture, path])
    expect(rc == 0, "sancov -not-covered-functions", (not_fns, err))
    names = lambda text: {l.split()[-1] for l in text.splitlines() if l.strip()}
    expect({"rep_classify"} <= names(cov_fns) and
           not names(cov_fns) & {"rep_never", "rep_letters"},
           "covered functions", (cov_fns, ""))
    expect({"rep_never", "rep_letters"} <= names(not_fns), "not covered functions",
           (not_fns, ""))


def case_refusals(c):
    # Comparison records: the PC formats refuse them (120), saying why.
    path = os.path.join(c.tmp, "cmp.cov")
    rc, out, err = run([c.remcov, "trace", "--in-process", "--cmp", "-q", "-o",
                        path, "--", c.fixture, "123"])
    expect(rc == 0, "trace --cmp: rc %d" % rc, (out, err))
    for fmt in ("drcov", "rawcover", "jsonl", "sancov"):
        rc, out, err = run([c.remcov, "report", "--format", fmt, "-o",
                            os.path.join(c.tmp, "out." + fmt), path])
        expect(rc == 120 and "comparison-mode file" in err and out == "",
               "%s of a cmp file: rc %d" % (fmt, rc), (out, err))
    rc, out, err = run([c.remcov, "report", "--format", "cobertura", path])
    expect(rc == 0 and "<coverage " in out, "cobertura of a cmp file", (out, err))
    # PCs outside every module are counted and said, even with -q.
    rc, out, err = run([c.remcov, "trace", "--in-process", "-q", "--",
                        c.fixture_nopie, "123"])
    pcs = [int(l, 16) for l in out.split()]
    made = os.path.join(c.tmp, "outside.cov")
    open(made, "wb").write(coverage_file(
        [module_record(0, 0, c.fixture_nopie, 0x400000, 0x800000, 0)],
        pcs + [0x10, 0x20, 0x10]))
    for fmt in ("drcov", "rawcover", "jsonl", "sancov", "cobertura"):
        rc, out, err = run([c.remcov, "report", "-q", "--format", fmt, "-o",
                            os.path.join(c.tmp, "o." + fmt), made])
        expect(rc == 0 and re.search(
            r"^remcov report: warning: 3 recorded PCs lie outside every module "
            r"of the load map: .*not (written|in the Cobertura report)$", err, re.M),
            "%s: PCs outside modules said: rc %d" % (fmt, rc), (out, err))
    # Diff does not take the exports.
    rc, out, err = run([c.remcov, "diff", "--format", "drcov", made, made])
    expect(rc == 120 and "unknown format 'drcov' (text, json)" in err, "diff formats",
           (out, err))


def main():
    case, remcov, fixture, src, dtd, fixture_nopie, fixture_guard = sys.argv[1:8]
    with tempfile.TemporaryDirectory() as tmp:
        c = Ctx(remcov, fixture, os.path.realpath(src), "", os.path.realpath(tmp))
        c.fixture_nopie = fixture_nopie
        c.fixture_guard = fixture_guard
        c.dtd = os.path.realpath(dtd)
        rc = globals()["case_" + case](c)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
