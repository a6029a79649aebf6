#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CLI tests of `remcov` (one ctest per case, label cli).

Usage: cli_test.py CASE REMCOV FIXTURE
Each case pins the exit code and the relevant stdout/stderr. Exit 77 = skip.
"""
import atexit
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expect(cond, what, out=("", "")):
    if not cond:
        print("FAIL: " + what)
        print("--- stdout ---\n" + out[0] + "--- stderr ---\n" + out[1])
        sys.exit(1)


def functions(fixture):
    """[(start, end, name)] of the fixture's cli_* functions (non-PIE)."""
    out = subprocess.run(["nm", "-S", "--defined-only", fixture],
                         capture_output=True, text=True, check=True).stdout
    funcs = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT" and parts[3].startswith("cli_"):
            start, size = int(parts[0], 16), int(parts[1], 16)
            funcs.append((start, start + size, parts[3]))
    return funcs


def covered(fixture, pcs):
    names = set()
    for pc in pcs:
        for start, end, name in functions.cache:
            if start <= pc < end:
                names.add(name)
    return names


def pcs_of(stdout):
    return [int(l, 16) for l in stdout.split()]


def case_help(remcov, fixture):
    rc, out, err = run([remcov, "--help"])
    expect(rc == 0 and out.startswith("Usage: remcov COMMAND") and err == "",
           "remcov --help", (out, err))
    # Every command `remcov --help` lists has its own help, on stdout.
    listed = re.search(r"\nCommands:\n((?:  \S.*\n)+)", out)
    expect(listed is not None, "remcov --help lists no commands", (out, err))
    verbs = [line.split()[0] for line in listed.group(1).splitlines()]
    expect({"trace", "report", "diff"} <= set(verbs),
           "remcov --help lists %r" % verbs, (out, err))
    for verb in verbs:
        for flag in ("--help", "-h"):
            rc, vout, verr = run([remcov, verb, flag])
            expect(rc == 0 and vout.startswith("Usage: remcov %s " % verb)
                   and "-h, --help" in vout and verr == "",
                   "remcov %s %s (rc %d)" % (verb, flag, rc), (vout, verr))
    rc, out, err = run([remcov, "trace", "--help"])
    expect(rc == 0 and out.startswith("Usage: remcov trace [OPTIONS] -- COMMAND")
           and "--in-process" in out and "120 usage" in out and err == "",
           "remcov trace --help", (out, err))


def case_version(remcov, fixture):
    # What the binary prints must agree with project(VERSION) and with the
    # coverage file versions in the public header.
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(top, "CMakeLists.txt")) as f:
        version = re.search(r"project\(remcov VERSION (\S+)", f.read()).group(1)
    with open(os.path.join(top, "include", "remcov", "coverage_file.h")) as f:
        header = f.read()
    writes = re.search(r"kCoverageFileVersion = (\d+);", header).group(1)
    oldest = re.search(r"kCoverageFileOldestVersion = (\d+);", header).group(1)
    want = ("remcov %s\ncoverage files: writes version %s, reads versions %s "
            "to %s\n" % (version, writes, oldest, writes))
    rc, out, err = run([remcov, "--version"])
    expect(rc == 0 and err == "" and out == want,
           "remcov --version, expected:\n" + want, (out, err))


def case_usage(remcov, fixture):
    cases = [
        ([], "Usage: remcov COMMAND"),
        (["bogus"], "unknown command 'bogus'"),
        (["trace"], "missing COMMAND"),
        (["trace", "--bogus", "--", "true"], "unknown option '--bogus'"),
        (["trace", "--common-id", "5", "--", "true"], "need --remote"),
        (["trace", "--size", "1", "--", "true"], "--size needs"),
        (["trace", "--size"], "--size needs"),
        (["trace", "--remote", "--in-process", "--", "true"], "cannot be combined"),
        (["trace", "--usb-bus", "x", "--", "true"], "--usb-bus needs"),
    ]
    for args, msg in cases:
        rc, out, err = run([remcov] + args)
        expect(rc == 120 and out == "" and msg in err,
               "usage error for %r (rc %d)" % (args, rc), (out, err))


def case_kernel_no_kcov(remcov, fixture):
    if os.path.exists("/sys/kernel/debug/kcov"):
        print("SKIP: this kernel has /sys/kernel/debug/kcov")
        return SKIP
    rc, out, err = run([remcov, "trace", "--", "true"])
    expect(rc == 121 and out == "", "kernel mode without kcov: rc %d" % rc, (out, err))
    expect("/sys/kernel/debug/kcov" in err and
           ("debugfs is not mounted" in err or "CONFIG_KCOV" in err or
            "does not exist" in err), "explanation", (out, err))
    expect("--in-process" in err, "the --in-process hint", (out, err))
    rc, out, err = run([remcov, "trace", "--device", "/nonexistent/kcov", "--", "true"])
    expect(rc == 121 and "/nonexistent does not exist" in err,
           "missing device directory", (out, err))
    with tempfile.TemporaryDirectory() as d:
        # A directory that exists but is not debugfs: the path does not
        # exist; the kernel's configuration is not to blame.
        rc, out, err = run([remcov, "trace", "--device", d + "/nonexistent", "--",
                            "true"])
        expect(rc == 121 and d + "/nonexistent does not exist" in err and
               "CONFIG_KCOV" not in err, "no device in a plain directory",
               (out, err))


def case_in_process_digits(remcov, fixture):
    rc, out, err = run([remcov, "trace", "--in-process", "--", fixture, "123"])
    expect(rc == 0, "rc %d" % rc, (out, err))
    names = covered(fixture, pcs_of(out))
    expect(names == {"cli_dispatch", "cli_digits"}, "covered %r" % names, (out, err))
    expect(re.search(r"pc mode, \d+ entries, \d+ unique PCs, overflow no, 0 dropped", err),
           "summary", (out, err))
    rc2, out2, err2 = run([remcov, "trace", "--in-process", "--unique", "--", fixture, "123"])
    pcs = pcs_of(out2)
    expect(rc2 == 0 and len(pcs) == len(set(pcs)) and set(pcs) == set(pcs_of(out)),
           "--unique", (out2, err2))


def case_in_process_letters_exit_code(remcov, fixture):
    rc, out, err = run([remcov, "trace", "--in-process", "-q", "--", fixture, "abc", "7"])
    expect(rc == 7 and err == "", "exit code mirrored (rc %d)" % rc, (out, err))
    names = covered(fixture, pcs_of(out))
    expect(names == {"cli_dispatch", "cli_letters"}, "covered %r" % names, (out, err))


def case_in_process_cmp(remcov, fixture):
    rc, out, err = run([remcov, "trace", "--in-process", "--cmp", "--", fixture, "#"])
    expect(rc == 0, "rc %d" % rc, (out, err))
    expect(re.search(r"^cmp64 const 0x4b434f56 0x23 ip=0x[0-9a-f]{16}$", out, re.M),
           "the 8-byte constant comparison in cli_compare", (out, err))
    expect("cmp mode" in err, "summary", (out, err))


def read_modules(data, count, off=64):
    """The module table at off (after the header in version 2, after the
    process table in version 3): (list, end offset)."""
    mods = []
    for _ in range(count):
        kind, flags, plen, idlen, start, end, bias = struct.unpack_from("<IIIIQQQ", data, off)
        path = data[off + 40:off + 40 + plen].decode()
        build_id = data[off + 40 + plen:off + 40 + plen + idlen].hex()
        mods.append(dict(kind=kind, flags=flags, path=path, build_id=build_id,
                         start=start, end=end, bias=bias))
        off += 40 + (plen + idlen + 7) // 8 * 8
    return mods, off


def case_in_process_output_file(remcov, fixture):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cov.bin")
        rc, out, err = run([remcov, "trace", "--in-process", "--unique", "-o", path,
                            "--", fixture, "42"])
        expect(rc == 0 and out == "", "rc %d" % rc, (out, err))
        data = open(path, "rb").read()
        magic, version, hsize, mode, word, flags, nmod, n, raw, dropped, _sum = \
            struct.unpack_from("<8sIIIIIIQQQQ", data)
        expect(magic == b"RMCOVCOV" and version == 3 and hsize == 64 and mode == 0 and
               word == 8 and flags == 0b1001 and nmod >= 1 and dropped == 0,
               "header %r" % (struct.unpack_from("<8sIIIIIIQQQQ", data),), (out, err))
        # One process: the fixture, with all modules and entries.
        nproc, pid, _ppid, pflags, res, pmods, pents = struct.unpack_from(
            "<QQQIIQQ", data, 64)
        expect(nproc == 1 and pid > 0 and pflags == 0 and res == 0 and
               pmods == nmod and pents == n, "process table", (out, err))
        mods, off = read_modules(data, nmod, 64 + 8 + 48)
        expect(len(data) == off + 8 * n, "size", (out, err))
        pcs = list(struct.unpack_from("<%dQ" % n, data, off))
        names = covered(fixture, pcs)
        expect(names == {"cli_dispatch", "cli_digits"}, "covered %r" % names, (out, err))
        # The load map: the fixture (non-PIE: bias 0) holds every PC, and
        # its build-id is the one in the file.
        exe = [m for m in mods if m["path"] == os.path.realpath(fixture)]
        expect(len(exe) == 1 and exe[0]["kind"] == 0 and exe[0]["bias"] == 0,
               "fixture in the load map: %r" % mods, (out, err))
        expect(all(exe[0]["start"] <= pc < exe[0]["end"] for pc in pcs),
               "PCs inside the fixture's executable segment: %r" % exe, (out, err))
        notes = subprocess.run(["readelf", "-n", fixture], capture_output=True,
                               text=True, check=True).stdout
        m = re.search(r"Build ID: ([0-9a-f]+)", notes)
        if m:
            expect(exe[0]["build_id"] == m.group(1), "build-id %r" % exe, (out, err))


def case_output_not_writable(remcov, fixture):
    # -o is checked before COMMAND runs: the command must not run (its
    # coverage would be lost), and the exit code is 125 ("cannot write -o
    # FILE"), in every mode.
    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "ran")
        for mode in (["--in-process"], []):
            for target, why in ((os.path.join(d, "missing-dir", "x.cov"),
                                 "No such file or directory"),
                                (d, "Is a directory")):
                rc, out, err = run([remcov, "trace"] + mode + ["-o", target, "--",
                                   "sh", "-c", "touch " + marker])
                expect(rc == 125 and out == "" and
                       "cannot write -o %s: %s" % (target, why) in err,
                       "-o %s %r: rc %d" % (target, mode, rc), (out, err))
                expect(not os.path.exists(marker), "the command ran", (out, err))
        # A writable -o is not left behind by the check when the trace fails.
        target = os.path.join(d, "new.cov")
        rc, out, err = run([remcov, "trace", "--in-process", "-o", target, "--",
                            "/nonexistent/prog"])
        expect(rc == 127 and not os.path.exists(target), "no stray -o file",
               (out, err))


def case_size_limits(remcov, fixture):
    # The largest --size is INT_MAX/8 words (KCOV_INIT_TRACE's limit) rounded
    # down to whole pages; above it, a usage error that says so (before: the
    # documented 268435456 failed with "never attached to remcov's runtime").
    page_words = os.sysconf("SC_PAGESIZE") // 8
    top = (2**31 - 1) // 8 // page_words * page_words
    for words in (top + 1, 268435456, 2**40):
        rc, out, err = run([remcov, "trace", "--in-process", "--size", str(words),
                            "--", fixture, "1"])
        expect(rc == 120 and "--size %d exceeds the maximum %d" % (words, top) in err
               and "never attached" not in err, "--size %d: rc %d" % (words, rc),
               (out, err))
    rc, out, err = run([remcov, "trace", "--help"])
    expect("at most %d" % top in out or page_words != 512, "--help states the maximum",
           (out, err))
    # An overflow says by how much and which --size would have held it; that
    # size does.
    digits = "1" * (3 * page_words)  # about 6 entries per page word
    rc, out, err = run([remcov, "trace", "--in-process", "--size", "2", "--",
                        fixture, digits])
    m = re.search(r"(\d+) entries did not fit beside the (\d+) stored; --size (\d+) "
                  r"would have held all (\d+)", err)
    expect(rc == 0 and "overflow yes" in err and m is not None,
           "overflow hint: rc %d" % rc, (out, err))
    dropped, stored, size, total = map(int, m.groups())
    expect(stored == page_words - 1 and dropped + stored == total and
           size >= total + 1, "overflow numbers %r" % (m.groups(),), (out, err))
    rc, out, err = run([remcov, "trace", "--in-process", "--size", str(size), "--",
                        fixture, digits])
    expect(rc == 0 and "overflow no, 0 dropped" in err and
           ("%d entries" % total) in err and "did not fit" not in err,
           "--size %d holds it: rc %d" % (size, rc), (out, err))


def case_empty_trace_hints(remcov, fixture):
    # 0 entries: say why it may be. --cmp on a trace-pc-only build; work
    # done only in a second thread (--in-process traces the main thread).
    pc_only = os.path.join(os.path.dirname(fixture), "cli_fixture_pc_only")
    rc, out, err = run([remcov, "trace", "--in-process", "--", pc_only, "#"])
    expect(rc == 0 and "pc mode, 0 entries" not in err and "hint" not in err,
           "trace-pc only, PC mode: rc %d" % rc, (out, err))
    rc, out, err = run([remcov, "trace", "--in-process", "--cmp", "--", pc_only, "#"])
    expect(rc == 0 and out == "" and "cmp mode, 0 entries" in err and
           "-fsanitize-coverage=trace-cmp" in err, "--cmp without trace-cmp: rc %d" % rc,
           (out, err))
    rc, out, err = run([remcov, "trace", "--in-process", "--", fixture, "123", "thread"])
    expect(rc == 0 and out == "" and "pc mode, 0 entries" in err and
           "traces only the main thread" in err, "work in a thread: rc %d" % rc,
           (out, err))
    # With entries, or with -q, no hint.
    rc, out, err = run([remcov, "trace", "--in-process", "--cmp", "--", fixture, "#"])
    expect(rc == 0 and "hint" not in err, "--cmp with trace-cmp", (out, err))
    rc, out, err = run([remcov, "trace", "--in-process", "-q", "--", fixture, "123",
                        "thread"])
    expect(rc == 0 and err == "", "-q", (out, err))


def case_in_process_threads_pool(remcov, fixture):
    # A thread pool (4 workers, one of which creates a thread of its own):
    # nothing without --threads (the main thread runs no instrumented code),
    # every worker's functions with it, in the one process of the file.
    rc, out, err = run([remcov, "trace", "--help"])
    expect(rc == 0 and "--threads" in out, "help lists --threads", (out, err))
    def entries_in(out, name):
        return len([pc for pc in pcs_of(out)
                    if covered(fixture, [pc]) == {name}])

    # One call in one thread, for the counts below.
    _, out, _ = run([remcov, "trace", "--in-process", "--threads", "--",
                     fixture, "123", "thread"])
    one_digits = entries_in(out, "cli_digits")
    _, out, _ = run([remcov, "trace", "--in-process", "--threads", "--",
                     fixture, "abc", "thread"])
    one_letters = entries_in(out, "cli_letters")
    expect(one_digits > 0 and one_letters > 0, "one thread: %d, %d" %
           (one_digits, one_letters))
    args = ["--", fixture, "123", "pool", "4"]
    rc, out, err = run([remcov, "trace", "--in-process"] + args)
    expect(rc == 0 and out == "" and "pc mode, 0 entries" in err and
           "--threads" in err, "without --threads: rc %d" % rc, (out, err))
    for extra in ([], ["detached"]):
        rc, out, err = run([remcov, "trace", "--in-process", "--threads"] +
                           args + extra)
        expect(rc == 0 and "warning" not in err and "hint" not in err and
               covered(fixture, pcs_of(out)) ==
               {"cli_dispatch", "cli_digits", "cli_letters"},
               "--threads %r: rc %d, covered %r" %
               (extra, rc, covered(fixture, pcs_of(out))), (out, err))
        # 4 workers and the nested thread: cli_digits("123") 4 times and
        # cli_letters("abc") once, each call as many PCs as in one thread:
        # no entry lost or duplicated between threads.
        expect(entries_in(out, "cli_digits") == 4 * one_digits and
               entries_in(out, "cli_letters") == one_letters,
               "%r: %d cli_digits PCs (one call: %d), %d cli_letters (%d)" %
               (extra, entries_in(out, "cli_digits"), one_digits,
                entries_in(out, "cli_letters"), one_letters), (out, err))
        rc, out, err, cov = trace_to_file(remcov, ["--threads"] + args + extra)
        procs, _, pcs = read_coverage(cov)
        expect(rc == 0 and len(procs) == 1 and procs[0]["flags"] == 0 and
               not unresolved(procs[0]) and
               covered(fixture, pcs) ==
               {"cli_dispatch", "cli_digits", "cli_letters"},
               "-o %r: rc %d, processes %r" % (extra, rc, procs), (out, err))
    # Each thread takes a slot: with 3 slots, the main thread and two
    # workers fit, the other three threads are counted.
    rc, out, err = run([remcov, "trace", "--in-process", "--threads",
                        "--max-processes", "3"] + args)
    expect(rc == 0 and "3 instrumented processes or threads found every one "
           "of the 3 slots taken" in err, "table full: rc %d" % rc, (out, err))
    rc, out, err = run([remcov, "trace", "--threads"] + args)
    expect(rc == 120 and "need --in-process" in err, "usage: rc %d" % rc,
           (out, err))


def case_in_process_threads_created_early(remcov, fixture):
    # A thread created before the runtime attached (a priority-101
    # constructor) is not traced; the thread it creates afterwards is.
    env = dict(os.environ, CLI_FIXTURE_EARLY_THREAD="1")
    p = subprocess.run([remcov, "trace", "--in-process", "--threads", "--",
                        fixture, "123", "early"], capture_output=True,
                       text=True, timeout=60, env=env)
    out, err = p.stdout, p.stderr
    expect(p.returncode == 0 and
           covered(fixture, pcs_of(out)) == {"cli_dispatch", "cli_digits"},
           "rc %d, covered %r" % (p.returncode, covered(fixture, pcs_of(out))),
           (out, err))


def case_in_process_threads_own_api(remcov, fixture):
    # A program that uses remcov's API itself (a local device on main, a
    # remote device whose common handle a thread's section uses): its
    # devices get their entries (the fixture exits 5 otherwise); the
    # hand-off gets what ran outside them: main's cli_compare before its own
    # device, the thread's cli_letters before its section; never cli_digits,
    # which ran only in the program's own device and section.
    for threads, want in (([], {"cli_dispatch", "cli_compare"}),
                          (["--threads"], {"cli_dispatch", "cli_compare",
                                           "cli_letters"})):
        rc, out, err = run([remcov, "trace", "--in-process"] + threads +
                           ["--", fixture, "123", "own"])
        own = re.search(r"own: local (\d+) remote (\d+)", err)
        expect(rc == 0 and own and int(own.group(1)) > 0 and
               int(own.group(2)) > 0 and covered(fixture, pcs_of(out)) == want,
               "%r: rc %d, covered %r" % (threads, rc,
                                          covered(fixture, pcs_of(out))),
               (out, err))


def case_in_process_not_found(remcov, fixture):
    rc, out, err = run([remcov, "trace", "--in-process", "--", "/nonexistent/prog"])
    expect(rc == 127 and "cannot execute '/nonexistent/prog'" in err,
           "rc %d" % rc, (out, err))


def case_in_process_uninstrumented(remcov, fixture):
    rc, out, err = run([remcov, "trace", "--in-process", "--", "true"])
    expect(rc == 121 and "never attached to remcov's runtime" in err, "rc %d" % rc, (out, err))


def case_in_process_killed_by_signal(remcov, fixture):
    # The area is shared live: coverage published before a fatal signal is
    # kept; the exit code mirrors the signal; the unknown overflow is said.
    rc, out, err = run([remcov, "trace", "--in-process", "--", fixture, "77", "abort"])
    expect(rc == 128 + 6, "rc %d" % rc, (out, err))
    names = covered(fixture, pcs_of(out))
    expect(names == {"cli_dispatch", "cli_digits"}, "covered %r" % names, (out, err))
    expect("ended without exit()" in err, "warning", (out, err))


def read_coverage(path):
    """A version 3 coverage file (docs/format.md): (processes, modules, pcs);
    each process a dict with its own modules and pcs."""
    b = open(path, "rb").read()
    (magic, version, _hsize, mode, _wb, _flags, nmod, n, _raw, _dropped,
     _sum) = struct.unpack_from("<8sIIIIIIQQQQ", b, 0)
    assert magic == b"RMCOVCOV" and version == 3 and mode == 0, (magic, version)
    off = 64
    (nproc,) = struct.unpack_from("<Q", b, off)
    off += 8
    procs = []
    for _ in range(nproc):
        pid, ppid, flags, _res, mods, ents, dropped = struct.unpack_from(
            "<QQIIQQQ", b, off)
        off += 48
        procs.append({"pid": pid, "ppid": ppid, "flags": flags, "nmod": mods,
                      "n": ents, "dropped": dropped})
    modules = []
    for _ in range(nmod):
        _kind, _mflags, plen, idlen, start, end, bias = struct.unpack_from(
            "<IIIIQQQ", b, off)
        path = b[off + 40:off + 40 + plen].decode()
        off += 40 + ((plen + idlen + 7) & ~7)
        modules.append({"path": path, "start": start, "end": end, "bias": bias})
    pcs = list(struct.unpack_from("<%dQ" % n, b, off))
    m = e = 0
    for p in procs:
        p["modules"] = modules[m:m + p["nmod"]]
        p["pcs"] = pcs[e:e + p["n"]]
        m += p["nmod"]
        e += p["n"]
    return procs, modules, pcs


def unresolved(proc):
    """The PCs of a process outside every module of its own load map."""
    return [pc for pc in proc["pcs"]
            if not any(m["start"] <= pc < m["end"] for m in proc["modules"])]


PROCESS_EXECED, PROCESS_NO_EXIT, PROCESS_FORKED = 1, 2, 8


def scratch_dir():
    """A temporary directory removed when the test ends."""
    tmp = tempfile.mkdtemp(prefix="remcov-cli-")
    atexit.register(shutil.rmtree, tmp, True)
    return tmp


def trace_to_file(remcov, args, cwd=None, env=None):
    tmp = scratch_dir()
    out = os.path.join(tmp, "trace.cov")
    p = subprocess.run([remcov, "trace", "--in-process", "-o", out] + args,
                       capture_output=True, text=True, timeout=60, cwd=cwd,
                       env=env)
    return p.returncode, p.stdout, p.stderr, out


def case_in_process_shell_two_programs(remcov, fixture):
    # Two different instrumented programs run by one shell (the second a PIE,
    # the first not): both collected, each with its own load map, every PC
    # resolved; `remcov report` places all of them.
    other = os.path.join(os.path.dirname(fixture), "cli_fixture_pc_only")
    script = "%s 12; %s ab; true" % (fixture, other)
    rc, out, err, cov = trace_to_file(remcov, ["--", "sh", "-c", script])
    expect(rc == 0 and "warning" not in err, "rc %d" % rc, (out, err))
    procs, _, _ = read_coverage(cov)
    expect(len(procs) == 2, "%d processes" % len(procs), (out, err))
    expect(procs[0]["pid"] != procs[1]["pid"] and
           all(p["flags"] == 0 for p in procs), "processes %r" % procs, (out, err))
    expect(procs[0]["modules"][0]["path"] == os.path.realpath(fixture) and
           procs[1]["modules"][0]["path"] == os.path.realpath(other),
           "main programs %r" % [p["modules"][0] for p in procs], (out, err))
    for p in procs:
        expect(p["pcs"] and not unresolved(p), "pid %d: %d of %d PCs unresolved"
               % (p["pid"], len(unresolved(p)), len(p["pcs"])), (out, err))
    names = covered(fixture, procs[0]["pcs"])
    expect(names == {"cli_dispatch", "cli_digits"}, "covered %r" % names, (out, err))
    rc, rout, rerr = run([remcov, "report", cov])
    expect(rc == 0 and "outside every module" not in rout + rerr and
           "cli_letters" in rout and "cli_digits" in rout,
           "report: rc %d" % rc, (rout, rerr))


def case_in_process_fork_child(remcov, fixture):
    # A fork() child is collected in its own process slot, with its own load
    # map (its parent's, copied at the fork), attributed to it.
    rc, out, err, cov = trace_to_file(remcov, ["--", fixture, "12", "fork", "ab"])
    expect(rc == 0 and "warning" not in err, "rc %d" % rc, (out, err))
    procs, _, _ = read_coverage(cov)
    expect(len(procs) == 2, "%d processes" % len(procs), (out, err))
    parent, child = procs
    expect(child["flags"] == PROCESS_FORKED and child["ppid"] == parent["pid"]
           and parent["flags"] == 0, "processes %r" % procs, (out, err))
    expect(child["modules"] and not unresolved(child) and not unresolved(parent),
           "child map %r" % child["modules"], (out, err))
    expect(covered(fixture, parent["pcs"]) == {"cli_dispatch", "cli_digits"} and
           covered(fixture, child["pcs"]) == {"cli_dispatch", "cli_letters"},
           "covered %r / %r" % (covered(fixture, parent["pcs"]),
                                covered(fixture, child["pcs"])), (out, err))
    # --unique deduplicates within each process: the counts still add up
    # (report reads the file) and each process keeps its functions.
    rc, out, err, cov = trace_to_file(
        remcov, ["--unique", "--", fixture, "12", "fork", "ab"])
    procs, _, pcs = read_coverage(cov)
    expect(rc == 0 and len(procs) == 2 and
           sum(p["n"] for p in procs) == len(pcs) and
           all(len(set(p["pcs"])) == len(p["pcs"]) for p in procs) and
           covered(fixture, procs[1]["pcs"]) == {"cli_dispatch", "cli_letters"},
           "--unique: %r" % procs, (out, err))
    rc, rout, rerr = run([remcov, "report", cov])
    expect(rc == 0 and "cli_letters" in rout, "report --unique: rc %d" % rc,
           (rout, rerr))


def case_in_process_exec_chain(remcov, fixture):
    # An instrumented program that exec()s another: both images collected
    # (same pid, two slots), the first marked exec'd, and the note says so
    # instead of "ended without exit()".
    rc, out, err, cov = trace_to_file(
        remcov, ["--", fixture, "12", "exec", fixture, "ab"])
    expect(rc == 0 and "ended without exit()" not in err and
           "called exec()" in err, "rc %d" % rc, (out, err))
    procs, _, _ = read_coverage(cov)
    expect(len(procs) == 2 and procs[0]["pid"] == procs[1]["pid"] and
           procs[0]["flags"] == PROCESS_EXECED and procs[1]["flags"] == 0,
           "processes %r" % procs, (out, err))
    expect(covered(fixture, procs[0]["pcs"]) == {"cli_dispatch", "cli_digits"} and
           covered(fixture, procs[1]["pcs"]) == {"cli_dispatch", "cli_letters"},
           "covered", (out, err))
    # An exec of a program remcov does not trace: the warning names it.
    rc, out, err, cov = trace_to_file(
        remcov, ["--", fixture, "12", "exec", "/bin/true"])
    expect(rc == 0 and "ended without exit() (a signal, _exit(), or an exec() "
           "of a program remcov does not trace)" in err, "rc %d" % rc, (out, err))


def case_in_process_no_follow(remcov, fixture):
    # --no-follow: the command's own process only (through its exec()s, as
    # KCOV follows a task); its fork() children and the programs a shell
    # starts are not collected.
    rc, out, err, cov = trace_to_file(
        remcov, ["--no-follow", "--", fixture, "12", "fork", "ab"])
    expect(rc == 0, "rc %d" % rc, (out, err))
    procs, _, _ = read_coverage(cov)
    expect(len(procs) == 1 and
           covered(fixture, procs[0]["pcs"]) == {"cli_dispatch", "cli_digits"},
           "processes %r" % procs, (out, err))
    rc, out, err, cov = trace_to_file(
        remcov, ["--no-follow", "--", fixture, "12", "exec", fixture, "ab"])
    procs, _, _ = read_coverage(cov)
    expect(rc == 0 and len(procs) == 2 and procs[0]["pid"] == procs[1]["pid"],
           "exec under --no-follow: %r" % procs, (out, err))
    rc, out, err = run([remcov, "trace", "--in-process", "--no-follow", "--",
                        "sh", "-c", "%s 12; true" % fixture])
    expect(rc == 121 and "never attached" in err, "sh: rc %d" % rc, (out, err))
    rc, out, err = run([remcov, "trace", "--no-follow", "--", "true"])
    expect(rc == 120 and "need --in-process" in err, "usage: rc %d" % rc, (out, err))


def case_in_process_corrupt_table(remcov, fixture):
    # A traced program that overwrites the process table: refused, 125.
    rc, out, err = run([remcov, "trace", "--in-process", "--", fixture, "12",
                        "corrupt"])
    expect(rc == 125 and "corrupt process table in the coverage hand-off" in err
           and out == "", "rc %d" % rc, (out, err))


def case_in_process_table_full(remcov, fixture):
    # More processes than slots: the rest are counted and reported.
    script = "%s 12; %s ab; %s cd; true" % (fixture, fixture, fixture)
    rc, out, err, cov = trace_to_file(
        remcov, ["--max-processes", "1", "--", "sh", "-c", script])
    expect(rc == 0 and "2 instrumented processes found every one of the 1 "
           "process slots taken" in err, "rc %d" % rc, (out, err))
    procs, _, _ = read_coverage(cov)
    expect(len(procs) == 1, "%d processes" % len(procs), (out, err))
    rc, out, err = run([remcov, "trace", "--in-process", "--max-processes", "0",
                        "--", "true"])
    expect(rc == 120, "--max-processes 0: rc %d" % rc, (out, err))


def case_in_process_relative_library_path(remcov, fixture, program, library):
    # LD_LIBRARY_PATH=lib (relative): the load map records the library's
    # absolute path, so `remcov report` works from another directory.
    tmp = scratch_dir()
    os.mkdir(os.path.join(tmp, "lib"))
    lib = os.path.join(tmp, "lib", os.path.basename(library))
    with open(library, "rb") as src, open(lib, "wb") as dst:
        dst.write(src.read())
    env = dict(os.environ, LD_LIBRARY_PATH="lib")
    rc, out, err, cov = trace_to_file(remcov, ["--", program, "12"], cwd=tmp,
                                      env=env)
    expect(rc == 0, "rc %d" % rc, (out, err))
    procs, modules, _ = read_coverage(cov)
    paths = [m["path"] for m in modules]
    # Every path from a file is absolute (the vDSO has none: the kernel's
    # name for it stays).
    expect(os.path.realpath(lib) in paths and
           all(p.startswith("/") for p in paths if "vdso" not in p),
           "paths %r" % paths, (out, err))
    expect(not unresolved(procs[0]), "unresolved PCs", (out, err))
    p = subprocess.run([remcov, "report", cov], capture_output=True, text=True,
                       timeout=60, cwd="/")
    expect(p.returncode == 0 and "is missing" not in p.stderr and
           "cli_dso" in p.stdout, "report from /: rc %d" % p.returncode,
           (p.stdout, p.stderr))


def main():
    case, remcov, fixture = sys.argv[1:4]
    if case == "in_process_relative_library_path":
        functions.cache = functions(fixture)
        sys.exit(case_in_process_relative_library_path(remcov, fixture,
                                                       *sys.argv[4:6]) or 0)
    functions.cache = functions(fixture)
    rc = globals()["case_" + case](remcov, fixture)
    if rc == SKIP and os.environ.get("CI") == "true":
        print("FAIL: a skip under CI=true is a failure")
        rc = 1
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
