#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/workloads/check_runs.py on canned run outputs (label perf-smoke):
the whole-workload comparison accepts a consistent set of runs and refuses
each kind of impossible figure, without building or running the workloads."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "bench", "workloads", "check_runs.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
import check_runs  # noqa: E402

# (compiler, variant, mode) -> (net instructions of the full run, records,
# overflow), shaped like docs/performance.md's SQLite table.
CHECKSUM = "00c0ffee12345678"
RUNS = {
    ("clang", "none", "-"): (79282905, 0, 0),
    ("clang", "minimal", "off"): (122679433, 0, 0),
    ("clang", "minimal", "pc"): (166782484, 14800000, 0),
    ("clang", "remcov-pc", "off"): (116381552, 0, 0),
    ("clang", "remcov-pc", "pc"): (166779310, 14800000, 0),
    ("clang", "remcov-cmp", "off"): (174425333, 0, 0),
    ("clang", "remcov-cmp", "cmp"): (708233025, 71200000, 0),
    ("clang", "remcov-unique", "off"): (155000000, 0, 0),
    ("clang", "remcov-unique", "unique"): (284000000, 1290335, 0),
    ("clang", "remcov-pc", "pc-small"): (166779310, 5716590, 578087),
    ("clang", "remcov-unique", "unique-small"): (284000000, 1290335, 0),
    ("clang", "afl", "-"): (129115216, 0, 0),
    ("clang", "counters", "-"): (86348429, 0, 0),
    ("clang", "libfuzzer", "-"): (391805899, 0, 0),
    ("gcc", "none", "-"): (76295609, 0, 0),
    ("gcc", "minimal", "off"): (164151418, 0, 0),
    ("gcc", "minimal", "pc"): (267902062, 6300000, 0),
    ("gcc", "remcov-pc", "off"): (149333296, 0, 0),
    ("gcc", "remcov-pc", "pc"): (267899664, 6300000, 0),
}
EMPTY = 1_700_000  # instructions of a run on the empty input


def write_runs(directory, runs=RUNS, workload="sqlite"):
    for (c, v, m), (net, records, overflow) in runs.items():
        for kind, ir, rec in (("full", EMPTY + net, records),
                              ("empty", EMPTY, 0)):
            base = os.path.join(directory, f"{workload}-{c}-{v}-{m}-{kind}")
            with open(base + ".err", "w") as f:
                f.write(f"==1== Callgrind, a call-graph generating cache "
                        f"profiler\n==1== Events    : Ir\n==1== Collected : "
                        f"{ir}\n==1==\n==1== I   refs:      {ir:,}\n")
            with open(base + ".out", "w") as f:
                f.write(f"checksum={CHECKSUM} records={rec} max_step={rec} "
                        f"overflow={overflow if kind == 'full' else 0}\n")


def run_list(runs=RUNS, workload="sqlite"):
    return [(workload, c, v, m) for c, v, m in runs]


class CheckRunsTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.addCleanup(self.tmp.cleanup)

    def problems(self, runs=RUNS):
        write_runs(self.dir, runs)
        return check_runs.check(self.dir, run_list(runs))[0]

    def refused(self, runs, message):
        problems = self.problems(runs)
        self.assertTrue(any(message in p for p in problems),
                        f"expected {message!r} among {problems}")

    def changed(self, key, net=None, records=None, overflow=None):
        runs = dict(RUNS)
        old = runs[key]
        runs[key] = (old[0] if net is None else net,
                     old[1] if records is None else records,
                     old[2] if overflow is None else overflow)
        return runs

    def test_consistent_runs_pass_and_write_the_counts(self):
        write_runs(self.dir)
        lines = "".join(" ".join(r) + "\n" for r in run_list())
        p = subprocess.run([sys.executable, SCRIPT, self.dir], input=lines,
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.dir, "sqlite-clang-none---full.ir")) as f:
            self.assertEqual(int(f.read()), EMPTY + 79282905)

    def test_variant_cheaper_than_no_instrumentation(self):
        self.refused(self.changed(("clang", "counters", "-"), net=79282904),
                     "fewer than the uninstrumented build's 79282905")

    def test_collecting_cheaper_than_collection_off(self):
        self.refused(self.changed(("gcc", "remcov-pc", "pc"), net=149333295),
                     "fewer than 149333296 with collection off")

    def test_zero_pcs_where_pcs_are_expected(self):
        self.refused(self.changed(("clang", "remcov-unique", "unique"),
                                  records=0),
                     "collected 0 records where the instrumented code must")

    def test_records_with_collection_off(self):
        self.refused(self.changed(("clang", "remcov-pc", "off"), records=5),
                     "collected 5 records with collection off")

    def test_overflow_in_an_area_sized_not_to(self):
        self.refused(self.changed(("clang", "remcov-cmp", "cmp"), overflow=1),
                     "overflowed an area sized so that nothing overflows")
        # The 512Ki-word comparison may overflow.
        self.assertEqual(self.problems(), [])

    def test_run_on_input_no_dearer_than_empty(self):
        self.refused(self.changed(("clang", "afl", "-"), net=0),
                     "costs 0 instructions more than on an empty input")

    def test_missing_or_unparsable_count(self):
        write_runs(self.dir)
        path = os.path.join(self.dir, "sqlite-gcc-none---full.err")
        for text in ("==1== Collected : \n", "==1== Collected : 12x\n",
                     "==1== nothing\n",
                     "==1== Collected : 1\n==1== Collected : 2\n"):
            with open(path, "w") as f:
                f.write(text)
            problems = check_runs.check(self.dir, run_list())[0]
            self.assertTrue(any("not one positive number" in p
                                for p in problems), (text, problems))

    def test_missing_run_and_malformed_harness_line(self):
        write_runs(self.dir)
        os.remove(os.path.join(self.dir, "sqlite-clang-afl---empty.err"))
        with open(os.path.join(self.dir, "sqlite-gcc-minimal-pc-full.out"),
                  "w") as f:
            f.write("checksum=zz records=1\n")
        problems = check_runs.check(self.dir, run_list())[0]
        self.assertTrue(any("sqlite-clang-afl---empty" in p for p in problems))
        self.assertTrue(any("no single harness line" in p for p in problems))

    def test_different_checksums(self):
        write_runs(self.dir)
        with open(os.path.join(self.dir, "sqlite-clang-afl---full.out"),
                  "w") as f:
            f.write("checksum=0000000000000001 records=0 max_step=0 "
                    "overflow=0\n")
        problems = check_runs.check(self.dir, run_list())[0]
        self.assertTrue(any("different checksums" in p for p in problems))

    def test_minimal_and_remcov_collect_different_pc_counts(self):
        self.refused(self.changed(("gcc", "minimal", "pc"), records=6300001),
                     "minimal and remcov PC collected 6300001 and 6300000")

    def test_refusal_exits_1_and_writes_no_counts(self):
        write_runs(self.dir, self.changed(("clang", "afl", "-"), net=1))
        runs = self.changed(("clang", "counters", "-"), net=5)
        write_runs(self.dir, runs)
        lines = "".join(" ".join(r) + "\n" for r in run_list(runs))
        p = subprocess.run([sys.executable, SCRIPT, self.dir], input=lines,
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("run.sh: refused:", p.stderr)
        self.assertFalse([f for f in os.listdir(self.dir)
                          if f.endswith(".ir")])


if __name__ == "__main__":
    unittest.main()
