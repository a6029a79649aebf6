#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The perf-smoke lane: callgrind instruction counts of one release build and
runtime against every target of bench/perf_targets.txt that applies to it.

Usage: perf_smoke.py BUILD_DIR static|shared gcc|clang

Callgrind counts are deterministic for a given compiler build, so this is a
regression check, not a timed assertion. Each target id is measured once, on
the first callback it covers (trace_pc, trace_cmp1, trace_cmp8, the 16-case
switch, each enabled and disabled as the targets ask) and on the empty
remote sections (unregistered and registered handle, and the baseline for
the ratio targets), with bench/callgrind_cost.py, as bench/run measures them.
Fails (exit 1) when a figure misses its target or cannot be measured (a
callback not found, a driver that did not do its work, a count of 0). Without
valgrind: skipped (exit 77), a failure when CI=true.
"""
import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "bench")
sys.path.insert(0, BENCH)
import callgrind_cost as cg  # noqa: E402
import perf_targets as pt  # noqa: E402

SKIP = 77


def main(argv):
    if len(argv) != 4 or argv[2] not in pt.RUNTIMES or \
            argv[3] not in pt.COMPILERS:
        print(__doc__, file=sys.stderr)
        return 2
    build, runtime, compiler = argv[1:]
    suffix = "" if runtime == "static" else "_shared"
    callback_driver = os.path.join(build, "bench", "callback_cost" + suffix)
    remote_driver = os.path.join(build, "bench", "remote_cost" + suffix)
    targets = pt.for_build(pt.load(), runtime, compiler)
    remote = {}  # mode -> figure, each measured once

    def remote_figure(mode):
        if mode not in remote:
            remote[mode] = cg.remote_cost(remote_driver, mode)
        return remote[mode]

    print(f"perf-smoke: {compiler} {runtime} runtime, {build}")
    print(f"{'target id':34} {'measured':>10}  {'target':10} result")
    failed = []
    for ident, target in targets.items():
        try:
            if ident in pt.CALLBACK_IDS:
                callbacks, mode = pt.CALLBACK_IDS[ident]
                what = f"{callbacks[0]} {mode}"
                figure = cg.callback_cost(callback_driver, callbacks[0], mode)
                ok = target.meets(figure)
                shown = f"{figure:.2f}"
            elif ident.endswith(".baseline"):
                mode = pt.REMOTE_IDS[ident]
                what = f"baseline / {mode}"
                ratio = remote_figure("baseline") / remote_figure(mode)
                ok = target.meets(remote_figure(mode),
                                  remote_figure("baseline"))
                shown = f"{ratio:.2f}x"
            else:
                mode = pt.REMOTE_IDS[ident]
                what = f"{mode} section"
                figure = remote_figure(mode)
                ok = target.meets(figure)
                shown = f"{figure:.1f}"
        except cg.Missing as e:
            if os.environ.get("CI") == "true":
                print(f"perf-smoke: FAIL (CI=true): {e}")
                return 1
            print(f"perf-smoke: SKIP: {e}")
            return SKIP
        except cg.Error as e:
            print(f"{ident:34} {'-':>10}  {target.text():10} NOT MEASURED")
            print(f"  {e}")
            failed.append(ident)
            continue
        print(f"{ident:34} {shown:>10}  {target.text():10} "
              f"{'ok' if ok else 'MISSED'}   ({what})")
        if not ok:
            failed.append(ident)
        sys.stdout.flush()
    if failed:
        print(f"perf-smoke: FAIL: {', '.join(failed)} "
              f"(targets: {os.path.normpath(pt.DEFAULT)})")
        return 1
    print(f"perf-smoke: all {len(targets)} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
