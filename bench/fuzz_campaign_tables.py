#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns bench/fuzz_campaign.sh's CSV into the Markdown tables of
docs/fuzzing.md and docs/afl.md: per fuzzer, remcov against the same fuzzer's
own global instrumentation, medians over the seeds, and a two-sided
Mann-Whitney U test of runs-to-bug and seconds-to-bug (exact over all splits
of the ranks when there are at most 200,000 of them, else the normal
approximation with a tie correction). A run that did not hit the bug within
its budget ranks after every run that did (ties among themselves): a lower
bound, so the test stays conservative about such runs.

Usage: bench/fuzz_campaign_tables.py CAMPAIGN.csv [...]
Exit codes: 0 done; 1 a file is missing columns or has a malformed row.
"""
import csv
import itertools
import math
import statistics
import sys

COLUMNS = ["fuzzer", "variant", "seed", "seconds", "execs", "execs_per_sec",
           "stability", "coverage", "coverage_unit", "corpus", "runs_to_bug",
           "seconds_to_bug"]


def load(paths):
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != COLUMNS:
                sys.exit(f"{path}: columns {reader.fieldnames}, expected {COLUMNS}")
            for i, row in enumerate(reader, start=2):
                try:
                    float(row["execs_per_sec"])
                    int(row["seed"])
                except ValueError:
                    sys.exit(f"{path}:{i}: malformed row {row}")
                rows.append(row)
    return rows


def ranks(values):
    """Average ranks (1-based) of values; None sorts after every number."""
    key = [(math.inf if v is None else v) for v in values]
    order = sorted(range(len(key)), key=lambda i: key[i])
    r = [0.0] * len(key)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and key[order[j + 1]] == key[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r, key


def mann_whitney(a, b):
    """Two-sided p-value of the U test between samples a and b."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return None
    r, key = ranks(a + b)
    u1 = sum(r[:n1]) - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    if math.comb(n1 + n2, n1) <= 200000:
        observed = abs(u1 - mean)
        hits = total = 0
        for pick in itertools.combinations(range(n1 + n2), n1):
            u = sum(r[i] for i in pick) - n1 * (n1 + 1) / 2
            total += 1
            if abs(u - mean) >= observed - 1e-9:
                hits += 1
        return hits / total
    n = n1 + n2
    ties = {}
    for v in key:
        ties[v] = ties.get(v, 0) + 1
    t = sum(c ** 3 - c for c in ties.values())
    var = n1 * n2 / 12 * ((n + 1) - t / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    return math.erfc(z / math.sqrt(2))


def num(row, col):
    v = row[col]
    return float(v) if v != "" else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def table(rows, fuzzer):
    sel = [r for r in rows if r["fuzzer"] == fuzzer]
    if not sel:
        return ""
    seconds = sorted({r["seconds"] for r in sel})
    unit = sel[0]["coverage_unit"]
    out = [f"{fuzzer}: {len({r['seed'] for r in sel})} seeds, "
           f"{'/'.join(seconds)} s per run; medians over the seeds",
           "",
           f"| variant | runs | exec/s | stability % | coverage ({unit}) | corpus | bug found | runs to bug | seconds to bug |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by = {}
    for v in ("remcov", "global"):
        rs = [r for r in sel if r["variant"] == v]
        by[v] = rs
        if not rs:
            continue
        found = [r for r in rs if r["runs_to_bug"] != ""]
        out.append(
            f"| {v} | {len(rs)} | {fmt(median(num(r, 'execs_per_sec') for r in rs), 1)} | "
            f"{fmt(median(num(r, 'stability') for r in rs), 2)} | "
            f"{fmt(median(num(r, 'coverage') for r in rs), 2 if unit.startswith('bitmap') else 0)} | "
            f"{fmt(median(num(r, 'corpus') for r in rs))} | {len(found)}/{len(rs)} | "
            f"{fmt(median(num(r, 'runs_to_bug') for r in found))} | "
            f"{fmt(median(num(r, 'seconds_to_bug') for r in found), 1)} |")
    if by.get("remcov") and by.get("global"):
        g = median(num(r, "execs_per_sec") for r in by["global"])
        m = median(num(r, "execs_per_sec") for r in by["remcov"])
        out.append("")
        out.append(f"exec/s of remcov / global: {m / g:.2f}x (medians)." if g else "")
        for col in ("runs_to_bug", "seconds_to_bug"):
            a = [num(r, col) for r in by["remcov"]]
            b = [num(r, col) for r in by["global"]]
            p = mann_whitney(a, b)
            out.append(f"Mann-Whitney U, {col.replace('_', ' ')} (not found ranks last): "
                       f"p = {p:.3f} (n = {len(a)} and {len(b)})." if p is not None else "")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: fuzz_campaign_tables.py CAMPAIGN.csv [...]")
    rows = load(sys.argv[1:])
    print("\n".join(t for t in (table(rows, "afl"), table(rows, "libfuzzer")) if t))


if __name__ == "__main__":
    main()
