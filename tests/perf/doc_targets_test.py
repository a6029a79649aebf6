#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""docs/performance.md against bench/perf_targets.txt (label perf-smoke): the
callback, trace_pc_guard and remote-section tables are the ones bench/run
prints (bench/doc_tables.py: same header, same rows), each says the commit
and command that produced it, its target column says what the targets file
says, and no figure it shows misses its target. The targets are written once,
in the targets file; this keeps the doc from drifting from it."""
import os
import re
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import doc_tables as dt  # noqa: E402
import perf_targets as pt  # noqa: E402

DOC = os.path.join(ROOT, "docs", "performance.md")
PROVENANCE = re.compile(r"^\(`bench/run` at commit ([0-9a-f]{7,40}): `[^`]+` ")


def tables(text):
    """[(header line, [rows as cell lists], the line before the table)]."""
    out, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and \
                lines[i + 1].startswith("|---"):
            j = i + 2
            rows = []
            while j < len(lines) and lines[j].startswith("|"):
                rows.append([c.strip() for c in lines[j].strip("|").split("|")])
                j += 1
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            out.append((lines[i], rows, lines[k] if k >= 0 else ""))
            i = j
        else:
            i += 1
    return out


def figures(cell):
    """The numbers of a figure cell: "17" -> [17], "15–17" -> [15, 17]."""
    if "(missed)" in cell:
        raise AssertionError(f"a figure marked missed: {cell}")
    return [float(x) for x in re.split(r"[–-]", cell)]


class DocTargetsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(DOC, encoding="utf-8") as f:
            cls.tables = tables(f.read())
        cls.targets = pt.load()
        cls.builds = [(r, c) for r, c, _ in dt.BUILDS]

    def table(self, header):
        found = [t for t in self.tables if t[0] == header]
        self.assertEqual(len(found), 1,
                         f"docs/performance.md must hold one table headed\n"
                         f"{header}\n(found {len(found)})")
        header, rows, before = found[0]
        m = PROVENANCE.match(before)
        self.assertTrue(m, f"the table headed {header} must follow a line "
                        "'(`bench/run` at commit <hash>: `<command>` ...)', "
                        f"not {before!r}")
        return rows

    def check_rows(self, rows, labels):
        self.assertEqual([r[0] for r in rows], labels,
                         "rows differ from bench/doc_tables.py's")
        for r in rows:
            self.assertEqual(len(r), len(rows[0]), f"row {r[0]}")

    def test_callback_table(self):
        rows = self.table(dt.CALLBACK_HEADER)
        self.check_rows(rows, [label for label, _ in dt.CALLBACK_ROWS])
        for row, (label, ident) in zip(rows, dt.CALLBACK_ROWS):
            self.assertEqual(row[-1], pt.cell(self.targets, ident, self.builds),
                             f"target of {label} (bench/perf_targets.txt)")
            for cell, (runtime, compiler) in zip(row[1:-1], self.builds):
                target = pt.for_build(self.targets, runtime, compiler)[ident]
                for figure in figures(cell):
                    self.assertTrue(target.meets(figure),
                                    f"{label}, {compiler} {runtime}: "
                                    f"{figure} misses {target.text()}")

    def test_guard_table(self):
        rows = self.table(dt.GUARD_HEADER)
        self.check_rows(rows, [label for label, _ in dt.GUARD_ROWS])
        for row in rows:
            for cell in row[1:]:
                self.assertTrue(all(f > 0 for f in figures(cell)), row)

    def test_remote_table(self):
        rows = self.table(dt.REMOTE_HEADER)
        self.check_rows(rows, [label for label, _, _ in dt.REMOTE_ROWS])
        baseline = [figures(c)[0] for c in rows[-1][1:5]]
        for row, (label, mode, idents) in zip(rows, dt.REMOTE_ROWS):
            expected = "; ".join(pt.cell(self.targets, i, self.builds)
                                 for i in idents) or "none"
            self.assertEqual(row[-1], expected, f"target of {label}")
            for cell, base, (runtime, compiler) in zip(row[1:5], baseline,
                                                       self.builds):
                figure = figures(cell)[0]
                self.assertGreater(figure, 0, label)
                for ident in idents:
                    target = pt.for_build(self.targets, runtime,
                                          compiler)[ident]
                    self.assertTrue(target.meets(figure, base),
                                    f"{label}, {compiler} {runtime}: {figure} "
                                    f"(baseline {base}) misses "
                                    f"{target.text()}")
            if mode != "baseline":
                ratios = [f"{b / figures(c)[0]:.1f}x"
                          for c, b in zip(row[1:5], baseline)]
                self.assertEqual(row[5], " / ".join(ratios), label)



class TargetsFileTest(unittest.TestCase):
    """bench/perf_targets.py refuses a targets file the lane could pass
    vacuously with."""

    def load(self, edit):
        with open(pt.DEFAULT, encoding="utf-8") as f:
            text = edit(f.read())
        with tempfile.NamedTemporaryFile("w", suffix=".txt",
                                         delete=False) as f:
            f.write(text)
        self.addCleanup(os.remove, f.name)
        return pt.load(f.name)

    def test_the_file_loads(self):
        t = pt.for_build(self.load(lambda s: s), "static", "gcc")
        self.assertEqual(t["callback.pc.enabled"].text(), "≤ 11")
        self.assertTrue(t["callback.pc.enabled"].meets(11))
        self.assertFalse(t["callback.pc.enabled"].meets(12))
        self.assertTrue(t["remote.registered.baseline"].meets(50, 100))
        self.assertFalse(t["remote.registered.baseline"].meets(51, 100))

    def test_missing_target_is_refused(self):
        with self.assertRaisesRegex(pt.Error, "no target callback.pc.enabled "
                                    "for shared"):
            self.load(lambda s: re.sub(r"callback.pc.enabled +shared.*\n",
                                       "", s))

    def test_duplicate_target_is_refused(self):
        with self.assertRaisesRegex(pt.Error, "is also at"):
            self.load(lambda s: s + "callback.pc.enabled any any <= 11\n")

    def test_malformed_and_unknown_lines_are_refused(self):
        with self.assertRaisesRegex(pt.Error, "malformed"):
            self.load(lambda s: s + "callback.pc.enabled static gcc < 11\n")
        with self.assertRaisesRegex(pt.Error, "unknown target id"):
            self.load(lambda s: s + "callback.pcx.enabled any any <= 11\n")
        with self.assertRaisesRegex(pt.Error, "ratios"):
            self.load(lambda s: s.replace(">= 2x", "<= 2"))


if __name__ == "__main__":
    unittest.main()
