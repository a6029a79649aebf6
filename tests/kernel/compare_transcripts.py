#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential conformance: compares two catalogue transcripts step by step.

Usage: compare_transcripts.py REFERENCE CANDIDATE [--differs CASE ...]

REFERENCE is the real kernel's transcript (the recorded one in
testdata/kernel-6.1.192.transcript, or a fresh one from the QEMU lane);
CANDIDATE is a serial log or a runtime run. Only `STEP` and `CASE` lines
count. Every step's return value and errno (and the buffer facts a step
prints) must be equal; cases named with --differs are the deliberate
differences listed in docs/kcov.md and are compared by nothing but presence.
Exit 0 when equal, 1 with a readable diff otherwise.
"""
import sys


def load(path):
    lines = []
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.replace("\r", "").rstrip("\n")
            # Serial logs can carry firmware escape codes before the text.
            for tag in ("STEP ", "CASE "):
                i = line.find(tag)
                if i >= 0:
                    lines.append(line[i:])
                    break
    return lines


def case_of(line):
    word = line.split()[1]
    return word.split("/")[0]


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    ref_path, cand_path = args[0], args[1]
    differs = set(args[3:]) if len(args) > 2 and args[2] == "--differs" else set()
    ref = [l for l in load(ref_path) if case_of(l) not in differs]
    cand = [l for l in load(cand_path) if case_of(l) not in differs]
    if not ref:
        print("no STEP/CASE lines in the kernel's transcript %s" % ref_path)
        return 1
    mismatches = []
    for i in range(max(len(ref), len(cand))):
        a = ref[i] if i < len(ref) else "<missing>"
        b = cand[i] if i < len(cand) else "<missing>"
        if a != b:
            mismatches.append((i, a, b))
    if mismatches:
        print("%d of %d steps differ (reference: %s):" % (len(mismatches), len(ref), ref_path))
        for i, a, b in mismatches[:40]:
            print("  #%d kernel : %s\n      runtime: %s" % (i, a, b))
        return 1
    print("conformance: %d steps identical (%d deliberate differences excluded: %s)"
          % (len(ref), len(differs), ", ".join(sorted(differs)) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
