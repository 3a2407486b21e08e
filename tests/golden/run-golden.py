#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run-golden.py MEMLAYOUT [--update] - run memlayout on the saved /proc
trees in trees/ (through --proc-root) and compare stdout, stderr and the
exit code with the pinned files in expected/.  --update rewrites them
(review the diff before committing).  Every case runs twice: as it is
(off a terminal, plain tables go through the bulk writer) and with
MEMLAYOUT_TABLE=libsmartcols.  The first must give the pinned bytes (made
by memlayout's own writers: the bulk table writer, the JSON writer); the
second the first's bytes, so that the table libsmartcols lays out is
compared with the installed libsmartcols, never with bytes pinned from one
version of it.  Prints one line per case and ends with a count; exits 1
if any case differs."""
import os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
T = os.path.join(HERE, "trees")
X, I = os.path.join(T, "x86_64"), os.path.join(T, "i386")

CASES = {
    "x86_64-table":    ["show", "--proc-root", X, "4242"],
    "x86_64-json":     ["show", "-J", "-b", "--proc-root", X, "4242"],
    "x86_64-json-h":   ["show", "-J", "-o", "START,SIZE,KIND,OBJECT,SECTIONS,TID,NAME", "--proc-root", X, "4242"],
    "x86_64-raw":      ["show", "-r", "-n", "-o", "START,END,PERMS,OFFSET,DEV,INODE,KIND,OBJECT,TID,NAME", "--proc-root", X, "4242"],
    "x86_64-smaps":    ["show", "-o", "START,PSS_DIRTY,SWAP_PSS,SHARED_CLEAN,SHARED_DIRTY,PRIVATE_CLEAN,PRIVATE_DIRTY,ANON,ANONHUGE,LOCKED,VMFLAGS", "--proc-root", X, "4242"],
    "x86_64-summary":  ["show", "-s", "-J", "-b", "--proc-root", X, "4242"],
    "x86_64-diagram":  ["show", "-d", "--mark", "0x555555700010=heap block", "--mark", "0x20=NULL->member", "--proc-root", X, "4242"],
    "i386-table":      ["show", "--proc-root", I, "777"],
    "i386-diagram":    ["show", "-d", "-b", "--proc-root", I, "777"],
    "kthread":         ["show", "--proc-root", os.path.join(T, "kthread"), "2"],
    "malformed-maps":  ["show", "-o", "START,KIND", "--proc-root", os.path.join(T, "malformed"), "9"],
    "malformed-smaps": ["show", "--proc-root", os.path.join(T, "malformed"), "9"],
    "nosmaps-table":   ["show", "--proc-root", os.path.join(T, "nosmaps"), "55"],
    "nosmaps-maps":    ["show", "-o", "START,SIZE,KIND,OBJECT", "--proc-root", os.path.join(T, "nosmaps"), "55"],
    "no-such-pid":     ["show", "--proc-root", X, "5"],
    "bad-column":      ["show", "-o", "START,BOGUS", "--proc-root", X, "4242"],
    "json-and-raw":    ["show", "-J", "-r", "--proc-root", X, "4242"],
    "torch-cuda-table": ["show", "--no-elf", "-o", "START,END,SIZE,PERMS,KIND,ALLOCATOR,TID,OBJECT", "--proc-root", os.path.join(T, "torch-cuda"), "430"],
    "torch-cuda-summary": ["show", "-s", "--no-elf", "--proc-root", os.path.join(T, "torch-cuda"), "430"],
    "torch-cuda-where": ["where", "--proc-root", os.path.join(T, "torch-cuda"), "430", "0x7f7882000000", "0x7f78c2000000", "0x200700000", "0x7f7790000100"],
}

WAYS = {"": {}, " (libsmartcols)": {"MEMLAYOUT_TABLE": "libsmartcols"}}

def run(exe, args, extra):
    env = dict(os.environ, NO_COLOR="1", LC_ALL="C.UTF-8")
    env.pop("MEMLAYOUT_TABLE", None)
    env.update(extra)
    p = subprocess.run([exe] + args, capture_output=True, env=env, timeout=60)
    out = p.stdout.replace(T.encode(), b"@TREES@")
    err = p.stderr.replace(T.encode(), b"@TREES@")
    return b"rc: %d\n--- stdout\n%s--- stderr\n%s" % (p.returncode, out, err)

def main():
    exe, update = sys.argv[1], "--update" in sys.argv
    exp_dir = os.path.join(HERE, "expected")
    os.makedirs(exp_dir, exist_ok=True)
    failed = total = 0
    for name, args in CASES.items():
        path = os.path.join(exp_dir, name + ".txt")
        if update:
            open(path, "wb").write(run(exe, args, {}))
            print("updated", name)
            continue
        pinned = open(path, "rb").read() if os.path.exists(path) else b"(missing)"
        first = None
        for way, extra in WAYS.items():
            got = run(exe, args, extra)
            total += 1
            want = pinned if first is None else first
            first = got if first is None else first
            if got == want:
                print("ok  ", name + way)
                continue
            failed += 1
            print("FAIL", name + way, "(memlayout " + " ".join(args) + ")")
            import difflib
            for l in difflib.unified_diff(want.decode("utf-8", "replace").splitlines(),
                                          got.decode("utf-8", "replace").splitlines(),
                                          "expected", "got", lineterm="", n=2):
                print("    " + l)
    print("%d passed, %d failed" % (total - failed, failed))
    sys.exit(1 if failed else 0)

main()
