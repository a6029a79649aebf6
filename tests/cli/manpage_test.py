#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""docs/tools/remcov.md (the man page's source) says what the binary does:
every option each verb's --help prints is in that verb's section, every exit
code tools/remcov/exit_codes.h defines is a row of EXIT STATUS, and every row
there is a code the tool defines.

Usage: manpage_test.py REMCOV DOC EXIT_CODES_H
"""
import re
import subprocess
import sys

VERBS = ("trace", "report", "diff", "merge")


def sections(doc):
    """The text under each '## remcov VERB' heading, and EXIT STATUS."""
    out = {}
    parts = re.split(r"^## ", doc, flags=re.M)
    for p in parts[1:]:
        title, _, body = p.partition("\n")
        out[title.strip()] = body
    return out


def options(help_text):
    # --help is every verb's; the man page says so once, in SYNOPSIS.
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text)) - {
        "--help"}


def main():
    remcov, doc_path, codes_path = sys.argv[1:4]
    with open(doc_path, encoding="utf-8") as f:
        doc = sections(f.read())
    problems = []
    for verb in VERBS:
        r = subprocess.run([remcov, verb, "--help"], capture_output=True,
                           text=True, check=False)
        if r.returncode != 0:
            problems.append(f"remcov {verb} --help exits {r.returncode}")
            continue
        opts = options(r.stdout + r.stderr)
        if not opts:
            problems.append(f"remcov {verb} --help lists no option")
        body = doc.get(f"remcov {verb}", "")
        if not body:
            problems.append(f"no '## remcov {verb}' section")
        missing = sorted(o for o in opts if o not in body)
        if missing:
            problems.append(f"remcov {verb}: not documented: {', '.join(missing)}")
        print(f"{verb}: {len(opts)} options, {len(opts) - len(missing)} documented")
    with open(codes_path, encoding="utf-8") as f:
        codes = {int(c) for c in re.findall(r"=\s*(\d+);", f.read())}
    rows = {int(c) for c in
            re.findall(r"^\| (\d+) \|", doc.get("EXIT STATUS", ""), flags=re.M)}
    if not codes:
        problems.append(f"no exit code found in {codes_path}")
    for c in sorted(codes - rows):
        problems.append(f"exit code {c} is not in EXIT STATUS")
    for c in sorted(rows - codes):
        problems.append(f"EXIT STATUS lists {c}, which the tool does not define")
    print(f"exit codes: {len(codes)} defined, {len(rows)} documented")
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
