#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run-reports.py MEMLAYOUT TARGET_PAGES CRASH_TARGET [--update] - golden
output of `where`, `pages` and `run`, pinned in expected/reports/.

where: on the saved /proc trees (trees/x86_64, trees/i386, through
  --proc-root), addresses in every kind of region and hole: the blocks
  (memlayout's own text: the bytes are pinned), JSON (compared as parsed
  JSON, not as libsmartcols' spacing) and raw tables (compared cell by
  cell).  The aligned table (-t) is not pinned: its text is compared, in
  the same run, with what the installed libsmartcols makes of it
  (MEMLAYOUT_TABLE=libsmartcols), so a newer libsmartcols does not break
  it and a bulk writer that strays from it does.
pages: on target-pages (a live process: 16 pages, 0, 5 and 6 written),
  the range of its pages 0-8, with the method pread and scan (where the
  kernel has PAGEMAP_SCAN): JSON and raw, addresses as offsets from the
  region (ASLR).
run: crash-target null-pointer, the report as text and as JSON, with what
  changes from run to run or machine to machine replaced by a name: PIDs,
  addresses (ASLR), the build directory, the sizes of unmapped gaps, and
  the C library's frames (its own build) folded to one line.

Regenerate after a change meant to change the output:
  MEMLAYOUT_GOLDEN_UPDATE=1 meson test -C build golden-reports
(or run this script with --update), then review `git diff tests/golden`.
Prints one line per case and a count; exits 1 if any case differs.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
T = os.path.join(HERE, "trees")
X, I = os.path.join(T, "x86_64"), os.path.join(T, "i386")
EXP = os.path.join(HERE, "expected", "reports")

X_ADDRS = ["0x10", "0x20000", "0x555555556100", "0x55555555d010", "0x555555660000",
           "0x555555700100", "0x555555800000", "0x7ff000010000", "0x7ff010000800",
           "0x7ff010400000", "0x7ff020000010", "0x7ff020011010", "0x7ff020012345",
           "0x7ff020112010", "0x7ff7f7c28100", "0x7ff7f7fc8000", "0x7ff7f7fc1010",
           "0x7ffff8000000", "0x7fffff900000", "0x7ffffffdd000", "0x7ffffffe0000", "0x7ffffffff800",
           "0x800000000000", "0xffff888000000000", "0xffffffffff600010"]
I_ADDRS = ["0x10", "0x56556010", "0x56600000", "0x57a31100", "0x60000000",
           "0xf7c1f100", "0xf7fc4010", "0xffd8e000", "0xfffff000"]
RAW_COLS = "ADDR,KIND,PERMS,START,END,MAPOFF,FILEOFF,STACK,BELOWTOP,ROOM,ROOMLIMIT," \
           "HEAPOFF,TOBRK,HOLE,BELOWDIST,ABOVEDIST,VPN,PGOFF,WALK"

# name: (memlayout args, how the output is compared)
WHERE = {
    "where-x86_64":      (["where", "--proc-root", X, "4242"] + X_ADDRS, "text"),
    "where-x86_64-json": (["where", "-J", "-b", "--proc-root", X, "4242"] + X_ADDRS, "json"),
    "where-x86_64-raw":  (["where", "-r", "-o", RAW_COLS, "--proc-root", X, "4242"] + X_ADDRS, "raw"),
    "where-i386":        (["where", "--proc-root", I, "777"] + I_ADDRS, "text"),
    "where-i386-json":   (["where", "-J", "--proc-root", I, "777"] + I_ADDRS, "json"),
    "where-bad-addr":    (["where", "--proc-root", X, "4242", "0x10", "zz"], "text"),
}
TABLES = {
    "where-x86_64-table": ["where", "-t", "--proc-root", X, "4242"] + X_ADDRS,
    "where-x86_64-table-all": ["where", "-t", "-o", RAW_COLS, "--proc-root", X, "4242"] + X_ADDRS,
    "where-i386-table": ["where", "-t", "--proc-root", I, "777"] + I_ADDRS,
}
PAGES_COLS = "START,END,SIZE,PERMS,KIND,PAGES,RESIDENT,SWAPPED,UNTOUCHED,BAR"

failed = total = 0


def run(args, extra=None, stdin=None):
    env = dict(os.environ, NO_COLOR="1", LC_ALL="C.UTF-8")
    env.pop("MEMLAYOUT_TABLE", None)
    env.pop("MEMLAYOUT_PAGEMAP_METHOD", None)
    env.update(extra or {})
    p = subprocess.run(args, capture_output=True, env=env, timeout=120, stdin=stdin)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def doc(rc, out, err):
    return "rc: %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err)


def split_doc(text):
    head, rest = text.split("\n--- stdout\n", 1)
    out, err = rest.split("--- stderr\n", 1)
    return head, out, err


def same(kind, want, got):
    """Equal as the kind of output says: text byte for byte, JSON as
    parsed, raw cell by cell (libsmartcols' spacing is not the point)."""
    if kind == "text":
        return want == got
    wh, wo, we = split_doc(want)
    gh, go, ge = split_doc(got)
    if wh != gh or we != ge:
        return False
    if kind == "json":
        try:
            return json.loads(wo) == json.loads(go)
        except ValueError:
            return False
    return [l.split(" ") for l in wo.splitlines()] == [l.split(" ") for l in go.splitlines()]


def compare(name, kind, got, update):
    global failed, total
    path = os.path.join(EXP, name + ".txt")
    if update:
        os.makedirs(EXP, exist_ok=True)
        with open(path, "w") as f:
            f.write(got)
        print("updated", name)
        return
    want = open(path).read() if os.path.exists(path) else "(missing)"
    total += 1
    if same(kind, want, got):
        print("ok  ", name)
        return
    failed += 1
    print("FAIL", name)
    import difflib
    for l in difflib.unified_diff(want.splitlines(), got.splitlines(), "expected", "got",
                                  lineterm="", n=2):
        print("    " + l)


def check(ok, what, detail=""):
    global failed, total
    total += 1
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed += 1
        for l in str(detail).splitlines()[:40]:
            print("    " + l)


def where_cases(exe, update):
    for name, (args, kind) in WHERE.items():
        rc, out, err = run([exe] + args)
        compare(name, kind, doc(rc, out.replace(T, "@TREES@"), err.replace(T, "@TREES@")),
                update)
    if update:
        return
    # aligned tables: the bulk writer against the installed libsmartcols
    for name, args in TABLES.items():
        a = run([exe] + args)
        b = run([exe] + args, {"MEMLAYOUT_TABLE": "libsmartcols"})
        check(a == b and a[0] == 0 and a[1].count("\n") > 3,
              name + ": as the installed libsmartcols lays it out",
              "\n".join(__import__("difflib").unified_diff(
                  b[1].splitlines(), a[1].splitlines(), "libsmartcols", "memlayout",
                  lineterm="")))


# ---- live processes: normalised ----

def fold_addrs(text, names):
    """Known addresses by name (longest first), then any other address
    of 9 or more hex digits as 0xADDR."""
    for addr, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(addr, name)
    return re.sub(r"0x0*[0-9a-f]{9,16}\b", "0xADDR", text)


def pages_cases(exe, target, update):
    t = subprocess.Popen([target], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    facts = {}
    try:
        for raw in t.stdout:
            line = raw.decode().strip()
            if "=" in line:
                k, v = line.split("=", 1)
                facts[k] = int(v, 0)
            if line == "ready=0x1":
                break
        base = facts["region"]
        sel = "0x%x-0x%x" % (base, base + 9 * 4096)
        names = {"0x%x" % (base + i * 4096): "@REGION+%d@" % i for i in range(17)}
        methods = ["pread"]
        rc, _, err = run([exe, "pages", "--method", "scan", str(t.pid), sel])
        if rc == 0:
            methods.append("scan")
        else:
            print("skip pages --method scan: " + err.strip())
        for m in methods:
            for suffix, extra, kind in (("json", ["-J", "-b"], "json"), ("raw", ["-r"], "raw")):
                rc, out, err = run([exe, "pages", "--method", m, "-o", PAGES_COLS] + extra +
                                   [str(t.pid), sel])
                out = fold_addrs(out.replace("PID %d" % t.pid, "PID @PID@"), names)
                err = err.replace(str(t.pid), "@PID@")
                # one golden for both methods: they must agree
                compare("pages-%s" % suffix, kind, doc(rc, out, err), update and m == "pread")
    finally:
        t.stdin.close()
        t.wait(timeout=30)


LIBC_FRAME = re.compile(r"^  #\d+ +0xADDR in .*\((libc\.so\.6|ld-linux[^)]*)\)$")


def normalise_run(text, target, pid):
    text = text.replace(target, "@TARGET@")
    text = re.sub(r"(process|thread|TID)(\s+)\d+", r"\1\2@PID@", text)
    text = fold_addrs(text, {})
    # gaps between regions move with ASLR
    text = re.sub(r"(:\s+)[\d.]+[BKMGTPE](\s+unmapped)", r"\1SIZE\2", text)
    text = re.sub(r"[\d.]+[KMGTPE] (above|below)", r"SIZE \1", text)
    out, libc, n = [], False, 0
    for line in text.split("\n"):
        if LIBC_FRAME.match(line):
            if not libc:
                out.append("  #%d  (the C library's frames)" % n)
                n += 1
            libc = True
            continue
        libc = False
        m = re.match(r"^  #\d+( +.*)$", line)
        if m:      # frames numbered again, the C library's counted as one
            line = "  #%d%s" % (n, m.group(1))
            n += 1
        elif not line.startswith("  "):
            n = 0
        out.append(line)
    return "\n".join(out)


def normalise_json(obj):
    """The JSON report with the same names put in, and the C library's
    frames left out (its build, not ours)."""
    if isinstance(obj, dict):
        return {k: normalise_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        items = [normalise_json(v) for v in obj]
        return [v for v in items if not (isinstance(v, dict) and
                                         re.search(r"/(libc\.so\.6|ld-linux[^/]*)$",
                                                   str(v.get("object", ""))))]
    if isinstance(obj, int) and not isinstance(obj, bool) and obj >= 1 << 32:
        return "BIG"       # an address or a distance between two (ASLR)
    if isinstance(obj, str):
        s = re.sub(r"0x0*[0-9a-f]{9,16}\b", "0xADDR", obj)
        return re.sub(r"^/.*/(crash-target)$", r"@TARGET@", s)
    return obj


def run_cases(exe, target, update):
    rc, out, err = run([exe, "run", "--", target, "null-pointer"])
    m = re.search(r"process (\d+) ", err)
    pid = int(m.group(1)) if m else 0
    compare("run-null-pointer", "text", doc(rc, out, normalise_run(err, target, pid)), update)
    rc, out, err = run([exe, "run", "-J", "--", target, "null-pointer"])
    try:
        j = normalise_json(json.loads(err))
        text = json.dumps(j, indent=1, sort_keys=True) + "\n"
        text = re.sub(r'("(pid|tid)": )\d+', r"\1-1", text)
    except ValueError:
        text = "(not JSON)\n" + err
    compare("run-null-pointer-json", "text", doc(rc, out, text), update)   # dumped sorted here


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv or os.environ.get("MEMLAYOUT_GOLDEN_UPDATE") == "1"
    exe, pages_target, crash_target = (os.path.abspath(a) for a in args[:3])
    where_cases(exe, update)
    pages_cases(exe, pages_target, update)
    run_cases(exe, crash_target, update)
    if update:
        return
    print("%d passed, %d failed" % (total - failed, failed))
    sys.exit(1 if failed else 0)


main()
