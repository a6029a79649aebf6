#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/callgrind_cost.py on canned callgrind output files (label
perf-smoke): what it counts, and every way it refuses to print a figure."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callgrind_cost as cg  # noqa: E402
import perf_smoke  # noqa: E402  (tests/perf, the script's own directory)

_TMP = tempfile.mkdtemp()
atexit.register(shutil.rmtree, _TMP)

HEADER = """# callgrind format
version: 1
creator: callgrind-3.19.0
cmd:  ./callback_cost pc enabled 200
part: 1

positions: line
events: Ir
summary: {total}

"""


class CannedProfile:
    """A profile text whose ELF objects exist as (empty) files, and a
    symbols_of that answers from a dict instead of readelf."""

    def __init__(self, body, total, symbols):
        directory = tempfile.mkdtemp(dir=_TMP)
        self.paths = {}
        for obj in symbols:
            path = os.path.join(directory, obj)
            open(path, "w").close()
            self.paths[obj] = path
        for obj, path in self.paths.items():
            body = body.replace("{" + obj + "}", path)
        self.text = HEADER.format(total=total) + body + f"totals: {total}\n"
        self.symbols = {self.paths[o]: t for o, t in symbols.items()}

    def profile(self):
        return cg.Profile(self.text, "canned")

    def symbols_of(self, paths, demangle=False):
        return {p: self.symbols[p] for p in paths}


# main (in the binary) calls the callback 200 times; callgrind names it by its
# alias; its body is partly inlined from another file; the first definition
# of its compressed name is on the cfn= line.
ALIASED = """ob=(1) {bin}
fl=(1) bench.cc
fn=(1) main
10 5
cfi=(2) callbacks.cc
cfn=(2) __remcov_cov_trace_pc
calls=200 40
11 2200
12 3
cob=(2) {libc}
cfn=(3) exit
calls=1 0
13 100

fl=(2)
fn=(2)
40 1400
fi=(3) publish.h
107 800
fe=(2)

ob=(2)
fl=(4) exit.c
fn=(3)
0 100
"""
ALIASED_TOTAL = 5 + 3 + 1400 + 800 + 100
ALIASED_SYMBOLS = {
    "bin": {0x1000: {"main"},
            0x2000: {"__sanitizer_cov_trace_pc", "__remcov_cov_trace_pc"}},
    "libc": {0x9000: {"exit"}},
}


class ProfileTest(unittest.TestCase):

    def test_callback_found_under_its_alias(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        p = c.profile()
        self.assertEqual(p.total, ALIASED_TOTAL)
        self.assertEqual(p.self_cost[(c.paths["bin"], "__remcov_cov_trace_pc")],
                         2200)
        self.assertEqual(
            cg.per_call(p, "__sanitizer_cov_trace_pc", 200, c.symbols_of), 11)
        self.assertEqual(
            cg.calls_to(p, "__sanitizer_cov_trace_pc", c.symbols_of),
            (200, 2200))

    def test_call_into_another_object_counts_there(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        self.assertEqual(cg.calls_to(c.profile(), "exit", c.symbols_of),
                         (1, 100))

    def test_cob_applies_to_the_next_call_only(self):
        # The second call has no cob=: its target is in the caller's object.
        body = """ob=(1) {bin}
fl=(1) a.c
fn=(1) main
cob=(2) {lib}
cfn=(2) f
calls=3 0
1 30
cfn=(2)
calls=4 0
2 40
"""
        symbols = {"bin": {0x10: {"main"}, 0x20: {"f"}},
                   "lib": {0x30: {"g"}}}
        c = CannedProfile(body, 0, symbols)
        self.assertEqual(cg.calls_to(c.profile(), "f", c.symbols_of), (4, 40))

    def test_instruction_and_line_positions(self):
        body = """ob=(1) {bin}
fl=(1) a.c
fn=(1) main
0x1000 10 7
+4 * 3
cfn=(2) f
calls=2 0x2000 20
* * 50
"""
        text_total = 10
        c = CannedProfile(body, text_total, {"bin": {0x2000: {"f"}}})
        c.text = c.text.replace("positions: line", "positions: instr line")
        self.assertEqual(cg.per_call(c.profile(), "f", 2, c.symbols_of), 25)

    def test_several_events_uses_ir(self):
        body = """ob=(1) {bin}
fl=(1) a.c
fn=(1) main
1 9 4 2
cfn=(2) f
calls=1 0
1 12 1
"""
        c = CannedProfile(body, 4, {"bin": {0x2000: {"f"}}})
        c.text = c.text.replace("events: Ir", "events: Dr Ir Dw").replace(
            "summary: 4", "summary: 9 4 2").replace("totals: 4", "totals: 9 4 2")
        self.assertEqual(cg.per_call(c.profile(), "f", 1, c.symbols_of), 1)


class RefusalTest(unittest.TestCase):

    def refuses(self, fn, message):
        with self.assertRaises(cg.Error) as e:
            fn()
        self.assertIn(message, str(e.exception))

    def test_renamed_symbol_is_not_found(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        self.refuses(lambda: cg.per_call(c.profile(), "__sanitizer_cov_trace_pcx",
                                         200, c.symbols_of),
                     "no object of the run defines __sanitizer_cov_trace_pcx")

    def test_symbol_in_two_objects_is_ambiguous(self):
        symbols = dict(ALIASED_SYMBOLS)
        symbols["libc"] = {0x9000: {"exit", "__sanitizer_cov_trace_pc"}}
        c = CannedProfile(ALIASED, ALIASED_TOTAL, symbols)
        self.refuses(lambda: cg.per_call(c.profile(), "__sanitizer_cov_trace_pc",
                                         200, c.symbols_of), "ambiguous")

    def test_wrong_call_count_is_refused(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        self.refuses(lambda: cg.per_call(c.profile(), "__sanitizer_cov_trace_pc",
                                         201, c.symbols_of),
                     "was called 200 times, the driver was asked for 201")

    def test_never_called_symbol_is_refused(self):
        symbols = dict(ALIASED_SYMBOLS)
        symbols["bin"] = {**symbols["bin"], 0x3000: {"unused"}}
        c = CannedProfile(ALIASED, ALIASED_TOTAL, symbols)
        self.refuses(lambda: cg.per_call(c.profile(), "unused", 200,
                                         c.symbols_of), "was called 0 times")

    def test_zero_cost_is_impossible(self):
        body = ALIASED.replace("11 2200", "11 0")
        c = CannedProfile(body, ALIASED_TOTAL, ALIASED_SYMBOLS)
        self.refuses(lambda: cg.per_call(c.profile(), "__sanitizer_cov_trace_pc",
                                         200, c.symbols_of),
                     "cost 0 instructions: impossible")

    def test_truncated_file_is_refused(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        c.text = c.text[:c.text.index("fe=(2)")] + f"totals: {ALIASED_TOTAL}\n"
        self.refuses(c.profile, "was not read correctly")

    def test_missing_totals_is_refused(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        c.text = c.text.replace(f"summary: {ALIASED_TOTAL}\n", "").replace(
            f"totals: {ALIASED_TOTAL}\n", "")
        self.refuses(c.profile, "no totals")

    def test_cost_that_is_not_a_number_is_refused(self):
        c = CannedProfile(ALIASED.replace("40 1400", "40 1.4e3"), ALIASED_TOTAL,
                          ALIASED_SYMBOLS)
        self.refuses(c.profile, "is not a number")

    def test_undefined_compressed_name_is_refused(self):
        c = CannedProfile(ALIASED.replace("fn=(3)\n", "fn=(7)\n"),
                          ALIASED_TOTAL, ALIASED_SYMBOLS)
        self.refuses(c.profile, "fn=(7) used before it was defined")

    def test_profile_without_ir_is_refused(self):
        c = CannedProfile(ALIASED, ALIASED_TOTAL, ALIASED_SYMBOLS)
        c.text = c.text.replace("events: Ir", "events: Dr")
        self.refuses(c.profile, "no Ir event")

    def test_impossible_figures(self):
        for figure in (0, -1, float("nan"), float("inf"), None):
            self.refuses(lambda: cg.checked(figure, "x"), "impossible")
        self.assertEqual(cg.checked(11.0, "x"), 11.0)


class ElfSymbolsTest(unittest.TestCase):
    READELF = """
File: /a/bin

Symbol table '.dynsym' contains 3 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND
     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND malloc@GLIBC_2.2.5 (2)
     2: 00000000000028b0    51 FUNC    GLOBAL DEFAULT   12 __sanitizer_cov_trace_pc@@REMCOV_0 (3)

Symbol table '.symtab' contains 3 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     5: 00000000000028b0    51 FUNC    GLOBAL DEFAULT   12 __remcov_cov_trace_pc
     6: 00000000000027c0   236 FUNC    LOCAL  DEFAULT   12 f(int) [clone .cold]
     7: 0000000000004000     8 OBJECT  GLOBAL DEFAULT   20 data

File: /a/lib.so

Symbol table '.symtab' contains 1 entry:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     1: 0000000000001000    10 IFUNC   GLOBAL DEFAULT   12 memcpy
"""

    def test_readelf_output_is_read_per_file(self):
        done = subprocess.CompletedProcess([], 0, self.READELF, "")
        with mock.patch.object(cg.subprocess, "run", return_value=done):
            t = cg.elf_symbols(["/a/bin", "/a/lib.so"])
        self.assertEqual(t["/a/bin"], {
            0x28b0: {"__sanitizer_cov_trace_pc", "__remcov_cov_trace_pc"},
            0x27c0: {"f(int) [clone .cold]"}})
        self.assertEqual(t["/a/lib.so"], {0x1000: {"memcpy"}})

    def test_real_elf_file(self):
        # The test's own interpreter: some function is defined in it or in
        # libc, and every address maps to names without version suffixes.
        t = cg.elf_symbols([os.path.realpath(sys.executable)])
        names = set().union(*t[os.path.realpath(sys.executable)].values())
        self.assertTrue(names, "readelf found no function symbols")
        self.assertFalse([n for n in names if "@" in n])


class PerfSmokeTest(unittest.TestCase):
    """The lane without valgrind: skipped outside CI, a failure under it."""

    def run_lane(self, ci):
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        if ci:
            env["CI"] = "true"
        with mock.patch.dict(os.environ, env, clear=True), \
                mock.patch.object(cg.shutil, "which", return_value=None), \
                mock.patch("sys.stdout"):
            return perf_smoke.main(["perf_smoke.py", _TMP, "static", "gcc"])

    def test_missing_valgrind_skips_outside_ci(self):
        self.assertEqual(self.run_lane(ci=False), perf_smoke.SKIP)

    def test_missing_valgrind_fails_under_ci(self):
        self.assertEqual(self.run_lane(ci=True), 1)

    def test_missing_driver_fails(self):
        # valgrind present, the build has no drivers: not measured, failed.
        with mock.patch.object(cg.shutil, "which", return_value="valgrind"), \
                mock.patch("sys.stdout"):
            self.assertEqual(
                perf_smoke.main(["perf_smoke.py", _TMP, "shared", "clang"]), 1)


if __name__ == "__main__":
    unittest.main()
