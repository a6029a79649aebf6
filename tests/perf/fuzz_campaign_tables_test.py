#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/fuzz_campaign_tables.py on canned campaign rows (label perf-smoke):
medians, found counts, the exact Mann-Whitney p-value, and the refusal of a
file with other columns, without running a fuzzer."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "bench", "fuzz_campaign_tables.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
import fuzz_campaign_tables as tables  # noqa: E402

HEADER = ",".join(tables.COLUMNS)
ROWS = [
    # remcov finds the bug sooner in every seed; global misses it once.
    "afl,remcov,1,60,6000,100.0,99.50,1.70,bitmap_cvg_percent,40,100,1.0",
    "afl,remcov,2,60,6600,110.0,99.70,1.80,bitmap_cvg_percent,42,200,2.0",
    "afl,remcov,3,60,7200,120.0,99.90,1.90,bitmap_cvg_percent,44,300,3.0",
    "afl,global,1,60,12000,200.0,40.00,10.00,bitmap_cvg_percent,50,400,2.0",
    "afl,global,2,60,12600,210.0,45.00,11.00,bitmap_cvg_percent,52,500,2.5",
    "afl,global,3,60,13200,220.0,50.00,12.00,bitmap_cvg_percent,54,,",
]


class TablesTest(unittest.TestCase):
    def test_exact_p_of_separated_samples(self):
        # 3 against 3, fully separated: 2 of the 20 splits are as extreme.
        self.assertAlmostEqual(tables.mann_whitney([1, 2, 3], [4, 5, 6]), 0.1)
        self.assertAlmostEqual(tables.mann_whitney([1, 2, 3], [4, 5, None]), 0.1)
        self.assertEqual(tables.mann_whitney([1, 2], [1, 2]), 1.0)

    def test_normal_approximation_for_large_samples(self):
        a = list(range(0, 40))
        b = list(range(20, 60))
        p = tables.mann_whitney(a, b)
        self.assertGreater(p, 0.0)
        self.assertLess(p, 0.01)

    def test_table_of_canned_rows(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            f.write("\n".join([HEADER] + ROWS) + "\n")
        try:
            out = subprocess.run([sys.executable, SCRIPT, f.name], check=True,
                                 capture_output=True, text=True).stdout
        finally:
            os.unlink(f.name)
        self.assertIn("afl: 3 seeds, 60 s per run", out)
        self.assertIn("| remcov | 3 | 110.0 | 99.70 | 1.80 | 42 | 3/3 | 200 | 2.0 |", out)
        self.assertIn("| global | 3 | 210.0 | 45.00 | 11.00 | 52 | 2/3 | 450 | 2.2 |", out)
        self.assertIn("exec/s of remcov / global: 0.52x", out)
        self.assertIn("runs to bug (not found ranks last): p = 0.100", out)

    def test_other_columns_are_refused(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            f.write("fuzzer,variant,seed\nafl,remcov,1\n")
        try:
            r = subprocess.run([sys.executable, SCRIPT, f.name],
                               capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("expected", r.stderr)


if __name__ == "__main__":
    unittest.main()
