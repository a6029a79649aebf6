#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Refuses impossible figures of bench/workloads/run.sh before it prints a
table, and writes the instruction count of each run to RUNDIR/ID.ir for it.

Usage: check_runs.py RUNDIR < RUNS
RUNS: one line per run pair, "WORKLOAD COMPILER VARIANT MODE" (MODE "-" for
the variants without one); the pair is the run on the workload's input
(ID-full) and on an empty input (ID-empty), ID = WORKLOAD-COMPILER-VARIANT-MODE.
Each run left ID-KIND.err (valgrind's stderr) and ID-KIND.out (the harness's
"checksum=... records=... max_step=... overflow=..." line).

Refused, with one message per problem on stderr and exit status 1:
  - a run whose callgrind "Collected : N" line is missing, repeated or not a
    positive number, or whose harness line is missing or malformed;
  - a run on the input that costs no more than the same binary on an empty
    input (net count <= 0);
  - an instrumented variant whose net count is below the uninstrumented
    build's of the same compiler ("none"), and a collecting run (pc, cmp,
    unique) below the same variant with collection off;
  - a collecting run that collected no records, a run with collection off
    that collected some, and an overflow where the area was sized so that
    nothing overflows (the -small modes use syzkaller's size and may);
  - variants of one workload that print different checksums, and the
    minimal callback and remcov's PC mode collecting different PC counts
    (they link the same objects).
"""
import os
import re
import sys

COLLECTED = re.compile(r"Collected : (\S*)")
REPORT = re.compile(r"^checksum=([0-9a-f]{16}) records=(\d+) max_step=(\d+) "
                    r"overflow=(\d+)$")
COLLECTING = ("pc", "cmp", "unique", "pc-small", "unique-small")


def check(rundir, runs):
    """Returns (problems, {ID-KIND: instructions})."""
    problems, ir, report = [], {}, {}
    for w, c, v, m in runs:
        ident = f"{w}-{c}-{v}-{m}"
        for kind in ("full", "empty"):
            run = f"{ident}-{kind}"
            try:
                with open(os.path.join(rundir, run + ".err"),
                          errors="replace") as f:
                    found = COLLECTED.findall(f.read())
                with open(os.path.join(rundir, run + ".out"),
                          errors="replace") as f:
                    lines = f.read().splitlines()
            except OSError as e:
                problems.append(f"{run}: {e}")
                continue
            if len(found) != 1 or not found[0].isdigit() or \
                    int(found[0]) <= 0:
                problems.append(f"{run}: callgrind's instruction count is "
                                f"{found or 'missing'}: not one positive "
                                "number")
            else:
                ir[run] = int(found[0])
            parsed = [REPORT.match(line) for line in lines]
            parsed = [p for p in parsed if p]
            if len(parsed) != 1:
                problems.append(f"{run}: no single harness line "
                                "'checksum=... records=... max_step=... "
                                "overflow=...' in its output")
            else:
                p = parsed[0]
                report[run] = {"checksum": p.group(1),
                               "records": int(p.group(2)),
                               "overflow": int(p.group(4))}

    def net(w, c, v, m):
        full, empty = ir.get(f"{w}-{c}-{v}-{m}-full"), \
            ir.get(f"{w}-{c}-{v}-{m}-empty")
        return None if full is None or empty is None else full - empty

    checksums = {}
    for w, c, v, m in runs:
        ident = f"{w}-{c}-{v}-{m}"
        n = net(w, c, v, m)
        if n is not None and n <= 0:
            problems.append(f"{ident}: the run on the input costs {n} "
                            "instructions more than on an empty input: "
                            "impossible")
        if v != "none" and n is not None:
            base = net(w, c, "none", "-")
            if base is None:
                problems.append(f"{ident}: no uninstrumented run (none) of "
                                f"{w} with {c} to compare with")
            elif n < base:
                problems.append(f"{ident}: {n} instructions, fewer than the "
                                f"uninstrumented build's {base}: impossible")
        if m in COLLECTING and n is not None:
            off = net(w, c, v, "off")
            if off is not None and n < off:
                problems.append(f"{ident}: {n} instructions collecting, "
                                f"fewer than {off} with collection off: "
                                "impossible")
        r = report.get(f"{ident}-full")
        if r is None:
            continue
        if m in COLLECTING and r["records"] == 0:
            problems.append(f"{ident}: collected 0 records where the "
                            "instrumented code must record")
        if m == "off" and r["records"] != 0:
            problems.append(f"{ident}: collected {r['records']} records with "
                            "collection off")
        if m in ("pc", "cmp", "unique") and r["overflow"] != 0:
            problems.append(f"{ident}: {r['overflow']} entries overflowed an "
                            "area sized so that nothing overflows")
        checksums.setdefault(w, {}).setdefault(r["checksum"], []).append(
            ident)
    for w, sums in checksums.items():
        if len(sums) > 1:
            problems.append(f"{w}: the variants print different checksums: " +
                            "; ".join(f"{s} ({', '.join(i)})"
                                      for s, i in sorted(sums.items())))
    for w, c, v, m in runs:
        if v == "minimal" and m == "pc":
            a = report.get(f"{w}-{c}-minimal-pc-full")
            b = report.get(f"{w}-{c}-remcov-pc-pc-full")
            if a and b and a["records"] != b["records"]:
                problems.append(f"{w} ({c}): minimal and remcov PC collected "
                                f"{a['records']} and {b['records']} PCs from "
                                "the same objects")
    return problems, ir


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    runs = [tuple(line.split()) for line in sys.stdin if line.strip()]
    bad = [r for r in runs if len(r) != 4]
    if bad or not runs:
        print(f"check_runs.py: malformed run list ({bad or 'empty'})",
              file=sys.stderr)
        return 2
    problems, ir = check(argv[1], runs)
    for p in problems:
        print(f"run.sh: refused: {p}", file=sys.stderr)
    if problems:
        return 1
    for run, count in ir.items():
        with open(os.path.join(argv[1], run + ".ir"), "w") as f:
            f.write(f"{count}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
