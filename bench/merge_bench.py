#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Times `remcov merge` on synthetic coverage files (issue 16, item 5).

Usage: merge_bench.py REMCOV MERGE_GEN N M [--check]

MERGE_GEN (bench/merge_gen.cc) writes N files of M PCs each (one synthetic
PIE at a different load address per file, PCs drawn from 2*M sites) into a
temporary directory, one file at a time; then `remcov merge -q -o OUT` and
`remcov merge -q --unique -o OUT` run on all of them under /usr/bin/time -v,
and one line per merge gives the wall time and peak RSS. The output files'
headers are checked (entries: N*M, or the distinct PCs with --unique, at most
2*M). The directory is removed afterwards. --check (the CI smoke, label
perf-smoke) only asserts the checks; the figures are printed either way.
Exit 77 = skip (no /usr/bin/time).
"""
import os
import re
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


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 4:
        sys.exit(__doc__)
    remcov, gen, n, m = args[0], args[1], int(args[2]), int(args[3])
    if not os.access("/usr/bin/time", os.X_OK):
        print("SKIP: no /usr/bin/time (Debian package time)")
        return 77
    with tempfile.TemporaryDirectory(prefix="remcov-merge-bench-") as tmp:
        gen_s, gen_rss = timed([gen, tmp, str(n), str(m)])
        inputs = sorted(os.path.join(tmp, f) for f in os.listdir(tmp))
        size = sum(os.path.getsize(f) for f in inputs)
        print("generated %d files x %d PCs (%.1f MB) in %.1f s" %
              (n, m, size / 1e6, gen_s))
        out = os.path.join(tmp, "merged.cov")
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
            os.unlink(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
