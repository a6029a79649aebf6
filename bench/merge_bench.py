#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Times `remcov merge` on synthetic coverage files (issue 16, item 5).

Usage: merge_bench.py REMCOV MERGE_GEN N M [--check] [--lcov]

MERGE_GEN (bench/merge_gen.cc) writes N files of M PCs each (one synthetic
PIE at a different load address per file, PCs drawn from 2*M sites) into a
temporary directory, one file at a time; then `remcov merge -q -o OUT` and
`remcov merge -q --unique -o OUT` run on all of them under /usr/bin/time -v,
and one line per merge gives the wall time and peak RSS. The output files'
headers are checked (entries: N*M, or the distinct PCs with --unique, at most
2*M). The directory is removed afterwards. --check (the CI smoke, label
perf-smoke) only asserts the checks; the figures are printed either way.

--lcov: the anchor. MERGE_GEN also writes each run as the lcov tracefile a
report of it would be (merge_gen.cc: site k is a line of a synthetic source
file), and `lcov -q -a F1 -a F2 ... -o OUT` combines the same N runs under
/usr/bin/time -v. Checked: lcov's result has every site as a line, its hit
counts sum to N*M, and its covered lines are as many as the distinct PCs of
`remcov merge --unique`.
Exit 77 = skip (no /usr/bin/time, or no lcov with --lcov).
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile


def header(path):
    with open(path, "rb") as f:
        h = f.read(64)
    fields = struct.unpack("<8sIIIIIIQQQQ", h)
    return {"flags": fields[5], "modules": fields[6], "entries": fields[7]}


def timed(args):
    p = subprocess.run(["/usr/bin/time", "-v"] + args, capture_output=True,
                       text=True)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)",
                     p.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    if p.returncode != 0 or not wall or not rss:
        sys.exit("FAIL: %s: rc %d\n%s" % (" ".join(args[:3]), p.returncode,
                                          p.stderr[-3000:]))
    secs = 0.0
    for part in wall.group(1).split(":"):
        secs = secs * 60 + float(part)
    return secs, int(rss.group(1))


def lcov_totals(path):
    """(lines, lines covered, hits) of an lcov tracefile."""
    lines = covered = hits = 0
    with open(path) as f:
        for line in f:
            if line.startswith("DA:"):
                n = int(line[3:].split(",")[1])
                lines += 1
                covered += n != 0
                hits += n
    return lines, covered, hits


def main():
    lcov = "--lcov" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a not in ("--check", "--lcov")]
    if len(args) != 4:
        sys.exit(__doc__)
    remcov, gen, n, m = args[0], args[1], int(args[2]), int(args[3])
    if not os.access("/usr/bin/time", os.X_OK):
        print("SKIP: no /usr/bin/time (Debian package time)")
        return 77
    lcov_bin = shutil.which("lcov")
    if lcov and not lcov_bin:
        print("SKIP: no lcov (Debian package lcov)")
        return 77
    with tempfile.TemporaryDirectory(prefix="remcov-merge-bench-") as tmp:
        gen_s, gen_rss = timed([gen] + (["--lcov"] if lcov else []) +
                               [tmp, str(n), str(m)])
        inputs = sorted(os.path.join(tmp, f) for f in os.listdir(tmp)
                        if f.endswith(".cov"))
        infos = sorted(os.path.join(tmp, f) for f in os.listdir(tmp)
                       if f.endswith(".info"))
        size = sum(os.path.getsize(f) for f in inputs)
        print("generated %d files x %d PCs (%.1f MB) in %.1f s" %
              (n, m, size / 1e6, gen_s))
        out = os.path.join(tmp, "merged.cov")
        distinct = None
        for extra in ([], ["--unique"]):
            secs, rss = timed([remcov, "merge", "-q"] + extra + ["-o", out] +
                              inputs)
            h = header(out)
            if extra:
                ok = h["flags"] & 1 and 0 < h["entries"] <= 2 * m
            else:
                ok = not h["flags"] & 1 and h["entries"] == n * m
            if not ok or h["modules"] != 1:
                print("FAIL: merge %s: header %r" % (" ".join(extra), h))
                return 1
            print("remcov merge %-9s %d files x %d PCs: %.2f s, peak RSS %.1f MB, "
                  "%d entries out (%.1f MB)" %
                  (" ".join(extra) or "(repeats)", n, m, secs, rss / 1024.0,
                   h["entries"], os.path.getsize(out) / 1e6))
            if extra:
                distinct = h["entries"]
            os.unlink(out)
        if lcov:
            if len(infos) != n:
                print("FAIL: %d .info files for %d runs" % (len(infos), n))
                return 1
            isize = sum(os.path.getsize(f) for f in infos)
            merged = os.path.join(tmp, "merged.info")
            cmd = [lcov_bin, "-q"]
            for f in infos:
                cmd += ["-a", f]
            secs, rss = timed(cmd + ["-o", merged])
            lines, covered, hits = lcov_totals(merged)
            if lines != 2 * m or hits != n * m or covered != distinct:
                print("FAIL: lcov -a: %d lines (want %d), %d covered (remcov "
                      "merge --unique: %d), %d hits (want %d)" %
                      (lines, 2 * m, covered, distinct, hits, n * m))
                return 1
            print("lcov -a (anchor)      %d files x %d PCs: %.2f s, peak RSS "
                  "%.1f MB, %d lines covered of %d (inputs %.1f MB of .info)" %
                  (n, m, secs, rss / 1024.0, covered, lines, isize / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
