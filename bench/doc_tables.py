#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The callback and remote-section tables of docs/performance.md, measured on
a g++ and a clang release build (static and shared runtime each), with the
target column from bench/perf_targets.txt. bench/run prints them; the doc's
tables are pasted from its output, and tests/perf/doc_targets_test.py checks
their rows and target columns against ROWS and the targets file.

Usage: doc_tables.py callbacks|remote GCC_BUILD_DIR CLANG_BUILD_DIR [COMMIT]

A figure that misses its target is printed with "(missed)" after it, and the
script exits 1 after printing every table; a figure that cannot be measured
fails at once with the reason (bench/callgrind_cost.py), exit status 3.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callgrind_cost as cg  # noqa: E402
import perf_targets as pt  # noqa: E402

# Column order of every table: (runtime, compiler, heading).
BUILDS = [("static", "gcc", "g++ static"), ("static", "clang", "clang static"),
          ("shared", "gcc", "g++ shared"), ("shared", "clang", "clang shared")]

# The coverage callback table: row label -> target id (the callbacks and mode
# it covers are perf_targets.CALLBACK_IDS[id]).
CALLBACK_ROWS = [
    ("`trace_pc` enabled", "callback.pc.enabled"),
    ("`trace_pc` disabled", "callback.pc.disabled"),
    ("`trace_cmp1/2/4`, `trace_const_cmp1/2/4` enabled",
     "callback.cmp.enabled"),
    ("`trace_cmp8`, `trace_const_cmp8` enabled", "callback.cmp8.enabled"),
    ("`trace_cmp*`, `trace_const_cmp*` disabled", "callback.cmp.disabled"),
    ("`trace_switch`, 16 cases, enabled", "callback.switch16.enabled"),
    ("`trace_switch` disabled", "callback.switch16.disabled"),
]
CALLBACK_HEADER = ("| callback | g++ static | clang static | g++ shared | "
                   "clang shared | target (static / shared) |")
# Unique-PC mode: no targets. Row label -> (callbacks, mode).
GUARD_ROWS = [
    ("`trace_pc_guard`, PC mode, enabled", (["pc_guard"], "enabled")),
    ("`trace_pc_guard`, unique mode, site already recorded",
     (["pc_guard_unique"], "enabled")),
    ("`trace_pc_guard` disabled", (["pc_guard", "pc_guard_unique"],
                                   "disabled")),
]
GUARD_HEADER = ("| callback | g++ static | clang static | g++ shared | "
                "clang shared |")
# The remote-section table: row label -> (remote_cost mode, target ids).
REMOTE_ROWS = [
    ("unregistered handle, empty", "unregistered",
     ["remote.unregistered", "remote.unregistered.baseline"]),
    ("registered handle, empty (the thread's area reused without a lookup; "
     "no move lock, no CAS)", "registered",
     ["remote.registered", "remote.registered.baseline"]),
    ("registered handle, one PC recorded (the `trace_pc` call included; "
     "moved under the lock, published by CAS)", "registered_pc", []),
    ("baseline: mutex + `std::unordered_map`", "baseline", []),
]
REMOTE_HEADER = ("| section | g++ static | clang static | g++ shared | "
                 "clang shared | baseline / this | target |")


def number(x):
    """11.0 -> "11", 58.25 -> "58.25"."""
    return f"{x:.0f}" if x == int(x) else f"{x:g}"


def span(values):
    """One figure, or "low–high" when the callbacks of a row differ."""
    lo, hi = min(values), max(values)
    return number(lo) if lo == hi else f"{number(lo)}–{number(hi)}"


class Tables:

    def __init__(self, gcc_build, clang_build, commit):
        self.dirs = {"gcc": gcc_build, "clang": clang_build}
        self.commit = commit
        self.targets = pt.load()
        self.missed = []
        self.builds = [(r, c) for r, c, _ in BUILDS]

    def driver(self, name, runtime, compiler):
        suffix = "" if runtime == "static" else "_shared"
        return os.path.join(self.dirs[compiler], "bench", name + suffix)

    def provenance(self, script):
        return (f"(`bench/run` at commit {self.commit}: `{script}` on "
                f"`{self.dirs['gcc']}` and `{self.dirs['clang']}`, static "
                "and shared runtime)")

    def callback_cells(self, callbacks, mode, ident=None):
        cells = []
        for runtime, compiler in self.builds:
            path = self.driver("callback_cost", runtime, compiler)
            figures = [cg.callback_cost(path, cb, mode) for cb in callbacks]
            cell = span(figures)
            if ident:
                target = pt.for_build(self.targets, runtime, compiler)[ident]
                if not all(target.meets(f) for f in figures):
                    cell += " (missed)"
                    self.missed.append(f"{ident} {compiler} {runtime}")
            cells.append(cell)
        return cells

    def callbacks(self):
        print(self.provenance("bench/callback_cost.sh"))
        print()
        print(CALLBACK_HEADER)
        print("|---|---|---|---|---|---|")
        for label, ident in CALLBACK_ROWS:
            callbacks, mode = pt.CALLBACK_IDS[ident]
            cells = self.callback_cells(callbacks, mode, ident)
            print(f"| {label} | {' | '.join(cells)} | "
                  f"{pt.cell(self.targets, ident, self.builds)} |")
            sys.stdout.flush()
        print()
        print(self.provenance('CALLBACKS="pc_guard pc_guard_unique" '
                              "bench/callback_cost.sh"))
        print()
        print(GUARD_HEADER)
        print("|---|---|---|---|---|")
        for label, (callbacks, mode) in GUARD_ROWS:
            print(f"| {label} | "
                  f"{' | '.join(self.callback_cells(callbacks, mode))} |")
            sys.stdout.flush()

    def remote(self):
        per = {}
        for runtime, compiler in self.builds:
            path = self.driver("remote_cost", runtime, compiler)
            for _, mode, _ in REMOTE_ROWS:
                per[(runtime, compiler, mode)] = cg.remote_cost(path, mode)
        print(self.provenance("bench/remote_cost.sh"))
        print()
        print(REMOTE_HEADER)
        print("|---|---|---|---|---|---|---|")
        for label, mode, idents in REMOTE_ROWS:
            cells, ratios = [], []
            for runtime, compiler in self.builds:
                figure = per[(runtime, compiler, mode)]
                base = per[(runtime, compiler, "baseline")]
                cell = number(figure)
                for ident in idents:
                    target = pt.for_build(self.targets, runtime,
                                          compiler)[ident]
                    if not target.meets(figure, base):
                        cell += " (missed)"
                        self.missed.append(f"{ident} {compiler} {runtime}")
                        break
                cells.append(cell)
                ratios.append(f"{base / figure:.1f}x")
            target = "; ".join(pt.cell(self.targets, i, self.builds)
                               for i in idents) or "none"
            if mode == "baseline":
                ratios = ["1.0x"]
            print(f"| {label} | {' | '.join(cells)} | {' / '.join(ratios)} "
                  f"| {target} |")


def main(argv):
    if len(argv) not in (4, 5) or argv[1] not in ("callbacks", "remote"):
        sys.stderr.write(__doc__)
        return 2
    tables = Tables(argv[2], argv[3], argv[4] if len(argv) == 5 else "?")
    try:
        getattr(tables, argv[1])()
    except (cg.Error, pt.Error, OSError) as e:
        print(f"doc_tables: {e}", file=sys.stderr)
        return 3
    if tables.missed:
        print(f"doc_tables: targets missed: {', '.join(tables.missed)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
