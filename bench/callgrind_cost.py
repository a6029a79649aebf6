#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Instruction counts from callgrind for the benchmark scripts and the
perf-smoke lane, found by symbol address rather than by the name callgrind
happened to print.

callgrind names a function by one of the symbols at its address: the
runtime's callbacks have two (__sanitizer_cov_trace_pc and its alias
__remcov_cov_trace_pc), callgrind printed the alias, and a match on the first
name found nothing: the table read 0.00 (issue 18). Here a symbol is looked
up in every ELF object of the profile (readelf: symbol table and dynamic
symbols, mangled and demangled), and every name at its address in that object
stands for it. Every figure is checked before it is printed: the driver must
exit 0 (it checks that its calls filled the area as they must), the symbol
must be defined in exactly one object of the run, the profile must show the
number of calls the driver was asked to make, and a cost must be a positive
number; otherwise the command fails with a message and prints no figure.

  callgrind_cost.py callbacks BUILD_DIR [DRIVER] [--tsv]
      Instructions per call of each coverage callback (bench/callback_cost.sh;
      CALLBACKS="pc cmp1 ..." restricts the rows).
  callgrind_cost.py remote BUILD_DIR [DRIVER] [--tsv]
      Instructions per empty remote section (bench/remote_cost.sh;
      MODES="registered ..." restricts the runs).
  callgrind_cost.py per-call OUT SYMBOL CALLS
      Instructions per call of SYMBOL in the profile OUT (two decimals): the
      inclusive cost of every call to it (its own code, what it calls, under
      any of its names) divided by CALLS, the number of calls OUT must show.
  callgrind_cost.py total OUT
      The program's total instructions (checked against the sum of every
      cost line of the file).
  callgrind_cost.py calls OUT SYMBOL
      Calls to SYMBOL recorded in OUT (0 if it never ran).

--tsv prints "NAME MODE FIGURE" lines instead of a Markdown table.
Exit status: 0, or 1 with "callgrind_cost: ..." on stderr (2: usage).
"""
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile


class Error(Exception):
    """A profile or a figure that must not be printed."""


# Compressed-name spaces of the format: the ids of ob= and cob= are shared,
# and so on (valgrind's docs/cl-format, "Name compression").
_SPACE = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl",
          "cfi": "fl", "cfl": "fl", "fn": "fn", "cfn": "fn"}
_NAME = re.compile(r"^\((\d+)\)(?: (.*))?$")


def _normalize(name):
    """callgrind's function name without recursion or version suffixes."""
    name = re.sub(r"'\d+$", "", name)  # fn'2: a recursion level
    return name.split("@", 1)[0]       # sym@@VERS: a versioned symbol


class Profile:
    """One callgrind output file: costs of the first event (Ir) per function
    and per call edge, keyed by (object path, function name).

    self_cost[(obj, fn)]  instructions executed in fn's own code
    calls[(obj, fn)]      [call count, inclusive instructions] over every
                          call edge into fn
    total                 the file's totals: (or summary:) line
    cost_lines_sum        every self cost added up (equals total when the
                          file was read completely)
    """

    def __init__(self, text, source="profile"):
        self.source = source
        self.self_cost = {}
        self.calls = {}
        self.objects = set()
        self.total = None
        self.cost_lines_sum = 0
        self._parse(text)

    def _parse(self, text):
        names = {"ob": {}, "fl": {}, "fn": {}}
        npos, ir_col = 1, None
        ob = fn = None
        cob = cfn = None
        pending_call = None   # (count, target) until its cost line
        skip_position = False  # the line after jump=/jcnd= holds no cost
        summary = totals = None

        def name_of(key, value):
            space = names[_SPACE[key]]
            m = _NAME.match(value)
            if not m:
                return value
            if m.group(2) is not None:
                space[m.group(1)] = m.group(2)
                return m.group(2)
            if m.group(1) not in space:
                raise Error(f"{self.source}: {key}=({m.group(1)}) used before "
                            "it was defined")
            return space[m.group(1)]

        for lineno, line in enumerate(text.splitlines(), 1):
            if not line or line.startswith("#"):
                continue
            head, eq, value = line.partition("=")
            if eq and head in _SPACE:
                v = name_of(head, value)
                if head == "ob":
                    ob, cob = v, None
                    self.objects.add(v)
                elif head == "fn":
                    fn, cob, cfn = _normalize(v), None, None
                elif head == "cob":
                    cob = v
                    self.objects.add(v)
                elif head == "cfn":
                    cfn = _normalize(v)
                continue
            if eq and head == "calls":
                count = value.split()[0]
                if not count.isdigit() or cfn is None or ob is None:
                    raise Error(f"{self.source}:{lineno}: malformed call line")
                pending_call = (int(count), (cob or ob, cfn))
                continue
            if eq and head in ("jump", "jcnd"):
                skip_position = True
                continue
            key, colon, hvalue = line.partition(":")
            if colon and re.fullmatch(r"[a-z]+", key):
                hvalue = hvalue.strip()
                if key == "positions":
                    npos = len(hvalue.split())
                elif key == "events":
                    events = hvalue.split()
                    if "Ir" not in events:
                        raise Error(f"{self.source}: no Ir event ({hvalue})")
                    ir_col = events.index("Ir")
                elif key in ("summary", "totals"):
                    # One per part (dump) of the file: they add up.
                    v = self._number(hvalue.split()[ir_col or 0], lineno)
                    if key == "summary":
                        summary = (summary or 0) + v
                    else:
                        totals = (totals or 0) + v
                continue
            if skip_position:
                skip_position = False
                continue
            # A cost line: positions, then one number per event.
            fields = line.split()
            if ir_col is None or ob is None or fn is None:
                raise Error(f"{self.source}:{lineno}: cost line outside a "
                            "function, or before the events: line")
            costs = fields[npos:]
            ir = self._number(costs[ir_col], lineno) if len(costs) > ir_col else 0
            if pending_call is not None:
                count, target = pending_call
                entry = self.calls.setdefault(target, [0, 0])
                entry[0] += count
                entry[1] += ir
                pending_call, cob = None, None
            else:
                key2 = (ob, fn)
                self.self_cost[key2] = self.self_cost.get(key2, 0) + ir
                self.cost_lines_sum += ir
        self.total = totals if totals is not None else summary
        if self.total is None:
            raise Error(f"{self.source}: no totals: or summary: line "
                        "(not a complete callgrind output file)")
        if self.total != self.cost_lines_sum:
            raise Error(f"{self.source}: cost lines add up to "
                        f"{self.cost_lines_sum}, the file's total is "
                        f"{self.total}: the file was not read correctly")

    def _number(self, token, lineno):
        if not token.isdigit():
            raise Error(f"{self.source}:{lineno}: cost {token!r} is not a "
                        "number")
        return int(token)


def elf_symbols(paths, demangle=False):
    """{path: {address: set of names}} of the functions each of paths
    defines, from its symbol table and its dynamic symbols (one readelf run
    for all of them; demangled names with demangle)."""
    out = {p: {} for p in paths}
    if not paths:
        return out
    p = subprocess.run(["readelf", "-sW", *(["-C"] if demangle else []),
                        *paths], capture_output=True, text=True)
    # readelf heads each file's tables with "File: path" when given several;
    # a file that is not ELF only prints an error, not an error here.
    current = paths[0] if len(paths) == 1 else None
    for line in p.stdout.splitlines():
        if line.startswith("File: "):
            current = line[len("File: "):].strip()
            continue
        # Num: Value Size Type Bind Vis Ndx Name
        parts = line.split(maxsplit=7)
        if (current in out and len(parts) == 8 and parts[0].endswith(":")
                and parts[3] in ("FUNC", "IFUNC") and parts[6] != "UND"):
            out[current].setdefault(int(parts[1], 16), set()).add(
                _normalize(re.sub(r" \(\d+\)$", "", parts[7])))
    return out


_tables = {}  # (path, mtime, demangle) -> {address: names}; one run reads
# the same objects again and again


def _symbol_tables(paths, demangle, symbols_of):
    if symbols_of is not elf_symbols:
        return symbols_of(paths, demangle=demangle)
    key = {p: (p, os.stat(p).st_mtime_ns, demangle) for p in paths}
    missing = [p for p in paths if key[p] not in _tables]
    for p, table in elf_symbols(missing, demangle).items():
        _tables[key[p]] = table
    return {p: _tables[key[p]] for p in paths}


def resolve(profile, symbol, symbols_of=elf_symbols):
    """(object, names): the one object of the profile that defines symbol,
    and every name at the symbol's address there."""
    objects = sorted(o for o in profile.objects if os.path.isfile(o))
    tables = _symbol_tables(objects, False, symbols_of)
    found = [o for o in objects
             if any(symbol in names for names in tables[o].values())]
    if not found:
        raise Error(f"{profile.source}: no object of the run defines "
                    f"{symbol} (renamed, or not linked?)")
    if len(found) > 1:
        raise Error(f"{profile.source}: {symbol} is defined in "
                    f"{', '.join(found)}: ambiguous")
    names = set()
    for demangle in (False, True):
        for aliases in _symbol_tables(found, demangle, symbols_of)[
                found[0]].values():
            if symbol in aliases or aliases & names:
                names |= aliases
    return found[0], frozenset(names)


def calls_to(profile, symbol, symbols_of=elf_symbols):
    """(calls, inclusive instructions) over every call edge into symbol."""
    obj, names = resolve(profile, symbol, symbols_of)
    count = cost = 0
    for (o, fn), (c, ir) in profile.calls.items():
        if o == obj and fn in names:
            count += c
            cost += ir
    return count, cost


def per_call(profile, symbol, expected_calls, symbols_of=elf_symbols):
    """Instructions per call of symbol; checks the calls and the cost."""
    if expected_calls <= 0:
        raise Error(f"expected calls must be positive, not {expected_calls}")
    count, cost = calls_to(profile, symbol, symbols_of)
    if count != expected_calls:
        raise Error(f"{profile.source}: {symbol} was called {count} times, "
                    f"the driver was asked for {expected_calls}: the run did "
                    "not do the work measured")
    if cost <= 0:
        raise Error(f"{profile.source}: {count} calls to {symbol} cost "
                    f"{cost} instructions: impossible")
    return cost / count


def load(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return Profile(f.read(), path)


class Missing(Error):
    """A tool the measurement needs is not installed."""


def run_callgrind(argv, out):
    """Runs argv under callgrind into the file out; the driver must exit 0."""
    if shutil.which("valgrind") is None:
        raise Missing("valgrind is not installed (scripts/setup.sh)")
    if not os.access(argv[0], os.X_OK):
        raise Error(f"no {argv[0]} (build it: it is a target of bench/)")
    p = subprocess.run(["valgrind", "--tool=callgrind",
                        f"--callgrind-out-file={out}", *argv],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Error(f"{' '.join(argv)} failed under callgrind (exit "
                    f"{p.returncode}):\n{p.stdout}{p.stderr}")
    return load(out)


def checked(figure, what):
    """figure, if it is a possible instruction count per operation."""
    if not isinstance(figure, (int, float)) or not math.isfinite(figure) \
            or figure <= 0:
        raise Error(f"{what}: {figure!r} instructions: impossible")
    return figure


# The coverage callbacks the driver (bench/callback_cost.cc) calls: name on
# its command line -> (symbol, label in the Markdown table).
CALLBACKS = {cb: (f"__sanitizer_cov_trace_{cb}", f"__sanitizer_cov_trace_{cb}")
             for cb in ("pc", "cmp1", "cmp2", "cmp4", "cmp8", "const_cmp1",
                        "const_cmp2", "const_cmp4", "const_cmp8")}
CALLBACKS["switch16"] = ("__sanitizer_cov_trace_switch",
                         "__sanitizer_cov_trace_switch (16 cases)")
CALLBACKS["pc_guard"] = ("__sanitizer_cov_trace_pc_guard",
                         "__sanitizer_cov_trace_pc_guard (PC mode)")
CALLBACKS["pc_guard_unique"] = (
    "__sanitizer_cov_trace_pc_guard",
    "__sanitizer_cov_trace_pc_guard (unique mode, bit already set)")
CALLBACK_CALLS = 200000


def callback_cost(driver, cb, mode, n=CALLBACK_CALLS):
    """Instructions per call of callback cb (a key of CALLBACKS), mode
    "enabled" or "disabled", over n calls by driver (callback_cost or
    callback_cost_shared), rounded to two decimals."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = run_callgrind([driver, cb, mode, str(n)],
                                os.path.join(tmp, "callgrind.out"))
        figure = round(per_call(profile, CALLBACKS[cb][0], n), 2)
    return checked(figure, f"{os.path.basename(driver)} {cb} {mode}")


REMOTE_MODES = ("unregistered", "registered", "registered_pc", "baseline")
REMOTE_SECTIONS = 100000


def remote_cost(driver, mode, n=REMOTE_SECTIONS):
    """Instructions per remote section (start + stop and the loop around
    them) of driver (remote_cost or remote_cost_shared) in mode:
    (Ir(n) - Ir(0)) / n, rounded to one decimal. The two runs must call
    remcov_remote_start n and 0 times (the baseline mode calls it never)."""
    totals = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in (0, n):
            profile = run_callgrind([driver, mode, str(count)],
                                    os.path.join(tmp, f"{count}.out"))
            want = 0 if mode == "baseline" else count
            calls, _ = calls_to(profile, "remcov_remote_start")
            if calls != want:
                raise Error(f"{profile.source}: {calls} calls to "
                            f"remcov_remote_start, expected {want}")
            totals.append(checked(profile.total, f"{mode} {count}: total"))
    return checked(round((totals[1] - totals[0]) / n, 1),
                   f"{os.path.basename(driver)} {mode}")


def _callbacks_command(build, driver, tsv):
    names = os.environ.get("CALLBACKS", " ".join(CALLBACKS)).split()
    for cb in names:
        if cb not in CALLBACKS:
            raise Error(f"unknown callback {cb} (one of: "
                        f"{' '.join(CALLBACKS)})")
    path = os.path.join(build, "bench", driver)
    if not tsv:
        print("| callback | enabled (instr/call) | disabled (instr/call) |")
        print("|---|---|---|")
    for cb in names:
        figures = [callback_cost(path, cb, mode)
                   for mode in ("enabled", "disabled")]
        if tsv:
            print(f"{cb} enabled {figures[0]:.2f}")
            print(f"{cb} disabled {figures[1]:.2f}")
        else:
            print(f"| {CALLBACKS[cb][1]} | {figures[0]:.2f} | "
                  f"{figures[1]:.2f} |")
        sys.stdout.flush()


def _remote_command(build, driver, tsv):
    modes = os.environ.get("MODES", " ".join(REMOTE_MODES)).split()
    for m in modes:
        if m not in REMOTE_MODES:
            raise Error(f"unknown mode {m} (one of: {' '.join(REMOTE_MODES)})")
    if not tsv and "baseline" not in modes:
        raise Error("the Markdown table needs the baseline mode")
    path = os.path.join(build, "bench", driver)
    per = {m: remote_cost(path, m) for m in modes}
    if tsv:
        for m in modes:
            print(f"{m} - {per[m]:.1f}")
        return
    labels = {"unregistered": "unregistered handle",
              "registered": "registered handle",
              "registered_pc": "registered handle, one PC recorded "
                               "(callback included)"}
    print("| section (start+stop) | instructions | baseline / this |")
    print("|---|---|---|")
    for m in modes:
        if m != "baseline":
            print(f"| {labels[m]} | {per[m]:.1f} | "
                  f"{per['baseline'] / per[m]:.1f}x |")
    print(f"| baseline: mutex + std::unordered_map | {per['baseline']:.1f} "
          "| 1.0x |")


def main(argv):
    args = [a for a in argv[1:] if a != "--tsv"]
    tsv = len(args) != len(argv) - 1
    try:
        if args[:1] == ["callbacks"] and len(args) in (2, 3):
            _callbacks_command(args[1], args[2] if len(args) == 3
                               else "callback_cost", tsv)
        elif args[:1] == ["remote"] and len(args) in (2, 3):
            _remote_command(args[1], args[2] if len(args) == 3
                            else "remote_cost", tsv)
        elif args[:1] == ["per-call"] and len(args) == 4:
            if not args[3].isdigit():
                raise Error(f"CALLS must be a number, not {args[3]!r}")
            print(f"{per_call(load(args[1]), args[2], int(args[3])):.2f}")
        elif args[:1] == ["total"] and len(args) == 2:
            print(checked(load(args[1]).total, f"{args[1]}: total"))
        elif args[:1] == ["calls"] and len(args) == 3:
            print(calls_to(load(args[1]), args[2])[0])
        else:
            sys.stderr.write(__doc__)
            return 2
    except (Error, OSError) as e:
        print(f"callgrind_cost: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
