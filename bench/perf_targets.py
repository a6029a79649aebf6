# SPDX-License-Identifier: Apache-2.0
"""The performance targets of bench/perf_targets.txt: reading them, what each
id covers, and whether a figure meets one. Shared by the perf-smoke lane
(tests/perf/perf_smoke.py), bench/run's tables (bench/doc_tables.py) and the
check of docs/performance.md (tests/perf/doc_targets_test.py), so that the
numbers are written once.
"""
import os
import re

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "perf_targets.txt")

_CMP124 = ["cmp1", "cmp2", "cmp4", "const_cmp1", "const_cmp2", "const_cmp4"]
_CMP8 = ["cmp8", "const_cmp8"]

# Callback target id -> (callbacks it covers, mode). The first callback is the
# one the perf-smoke lane measures; bench/run measures them all.
CALLBACK_IDS = {
    "callback.pc.enabled": (["pc"], "enabled"),
    "callback.pc.disabled": (["pc"], "disabled"),
    "callback.cmp.enabled": (_CMP124, "enabled"),
    "callback.cmp8.enabled": (_CMP8, "enabled"),
    "callback.cmp.disabled": (_CMP124 + _CMP8, "disabled"),
    "callback.switch16.enabled": (["switch16"], "enabled"),
    "callback.switch16.disabled": (["switch16"], "disabled"),
}
# Remote target id -> remote_cost mode; ".baseline" ids compare the baseline
# mode's figure with this one's.
REMOTE_IDS = {
    "remote.unregistered": "unregistered",
    "remote.registered": "registered",
    "remote.unregistered.baseline": "unregistered",
    "remote.registered.baseline": "registered",
}
RUNTIMES = ("static", "shared")
COMPILERS = ("gcc", "clang")


class Error(Exception):
    """A targets file that cannot be used."""


class Target:
    """One line: id, runtime, compiler, op ("<=" at most, ">=" ratio of the
    baseline to the figure at least) and value."""

    def __init__(self, ident, runtime, compiler, op, value, where):
        self.id, self.runtime, self.compiler = ident, runtime, compiler
        self.op, self.value, self.where = op, value, where

    def applies(self, runtime, compiler):
        return (self.runtime in ("any", runtime) and
                self.compiler in ("any", compiler))

    def meets(self, figure, baseline=None):
        """Whether figure (and, for ">=", the baseline's figure) meets it."""
        if self.op == "<=":
            return figure <= self.value
        return baseline / figure >= self.value

    def text(self):
        v = f"{self.value:g}"
        return f"≤ {v}" if self.op == "<=" else f"≥ {v}x"


def load(path=DEFAULT):
    """Every target of the file, in order; Error on a malformed line, an
    unknown id, or two lines that apply to the same build."""
    targets = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            where = f"{path}:{lineno}"
            m = re.fullmatch(r"(\S+)\s+(static|shared|any)\s+(gcc|clang|any)"
                             r"\s+(<=|>=)\s+([0-9]+(?:\.[0-9]+)?)(x?)", line)
            if not m:
                raise Error(f"{where}: malformed target line: {line}")
            ident, runtime, compiler, op, value, x = m.groups()
            if ident not in CALLBACK_IDS and ident not in REMOTE_IDS:
                raise Error(f"{where}: unknown target id {ident}")
            if (op == ">=") != (x == "x") or \
                    (op == ">=") != ident.endswith(".baseline"):
                raise Error(f"{where}: {ident}: ratios (baseline ids) take "
                            "'>= Nx', counts '<= N'")
            targets.append(Target(ident, runtime, compiler, op, float(value),
                                  where))
    # Exactly one target per id and build: a lane with a target missing
    # would pass without measuring it.
    for runtime in RUNTIMES:
        for compiler in COMPILERS:
            seen = {}
            for t in targets:
                if t.applies(runtime, compiler):
                    if t.id in seen:
                        raise Error(f"{t.where}: {t.id} for {runtime} "
                                    f"{compiler} is also at "
                                    f"{seen[t.id].where}")
                    seen[t.id] = t
            for ident in list(CALLBACK_IDS) + list(REMOTE_IDS):
                if ident not in seen:
                    raise Error(f"{path}: no target {ident} for {runtime} "
                                f"{compiler}")
    return targets


def for_build(targets, runtime, compiler):
    """{id: Target} of the targets that apply to one build."""
    return {t.id: t for t in targets if t.applies(runtime, compiler)}


def cell(targets, ident, builds):
    """The target column of a table row for id over builds, a list of
    (runtime, compiler) in column order: one value if all builds share it,
    else the values in column order separated by " / " ("≤ 11 / ≤ 12" when
    the builds are static then shared and the compilers agree)."""
    texts = []
    for runtime, compiler in builds:
        t = for_build(targets, runtime, compiler).get(ident)
        texts.append(t.text() if t else "none")
    if len(set(texts)) == 1:
        return texts[0]
    # Compilers agree within each runtime: one value per runtime.
    per_runtime = {}
    for (runtime, _), text in zip(builds, texts):
        per_runtime.setdefault(runtime, set()).add(text)
    if all(len(v) == 1 for v in per_runtime.values()):
        return " / ".join(next(iter(v)) for v in per_runtime.values())
    return " / ".join(texts)
