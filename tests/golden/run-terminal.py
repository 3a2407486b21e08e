#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run-terminal.py MEMLAYOUT [--update] - every view on a real terminal (a
pseudo-terminal of 80 and of 200 columns, TIOCSWINSZ), as a user sees it.

Pinned (expected/termCOLS-NAME.txt): show, show -d and where on the saved
/proc trees (--proc-root, deterministic).  What libsmartcols lays out is not
pinned as bytes (they are one version's): memlayout runs with
scols-record.so preloaded ($MEMLAYOUT_SCOLS_RECORD), which records each
table it hands libsmartcols (expected/termCOLS-NAME.scols, pinned: the
cells, the columns shown, their flags and hints, the width), and each table
in its output must be what scols-replay ($MEMLAYOUT_SCOLS_REPLAY) prints
for that record with the installed libsmartcols; the .txt file holds the
rest, each table a line @TABLE@.  Piped, the same tables are the bytes the
installed libsmartcols prints (the bulk writer against
MEMLAYOUT_TABLE=libsmartcols).  Checked by structure, on live
processes: pages (on this test's own child), heap (heap-target under
mlalloc), aslr (runs of /bin/true), watch --log (a shell command) with
the summary after it, heap on glibc malloc (glibc-target) and run's crash
report (crash-target, stderr on the terminal): no line wider than the
terminal, one line per row (each row starts as a row does), every region
present.  And off a terminal (a pipe) the same views keep whole paths and
every column.  --update rewrites the pinned files.  Prints one line per
check and ends with a count; exits 1 if any failed.

usage: run-terminal.py MEMLAYOUT [HEAP_TARGET LIBMLALLOC [GLIBC_TARGET CRASH_TARGET]]
                       [--update]
"""
import difflib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e import on_pty  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
T = os.path.join(HERE, "trees")
X, I = os.path.join(T, "x86_64"), os.path.join(T, "i386")

PINNED = {
    "show":      ["show", "--proc-root", X, "4242"],
    "show-i386": ["show", "--proc-root", I, "777"],
    "diagram":   ["show", "-d", "--mark", "0x555555700010=heap block", "--mark",
                  "0x7ff7f7c28100=a long label for a point in the text of libc",
                  "--proc-root", X, "4242"],
    "where":     ["where", "--proc-root", X, "4242", "0x7ff7f7c28100", "0x7ff020011010",
                  "0x10"],
    "where-table": ["where", "-t", "--proc-root", X, "4242", "0x7ff7f7c28100",
                    "0x7ff020011010", "0x10", "0x555555700010"],
    "summary":   ["show", "-s", "--proc-root", X, "4242"],
}
WIDTHS = (80, 200)
failed = total = 0


def check(ok, what, detail=""):
    global failed, total
    total += 1
    if ok:
        print("ok  ", what)
    else:
        failed += 1
        print("FAIL", what)
        if detail:
            for l in str(detail).splitlines()[:30]:
                print("    " + l)


def on_terminal(exe, args, cols, env_extra=None, stderr_too=False):
    """(exit status, stdout as text) of exe ARGS on a pty of cols columns
    (stderr_too: stderr on it as well)."""
    env = dict(os.environ, NO_COLOR="1", LC_ALL="C.UTF-8")
    env.pop("COLUMNS", None)
    env.pop("MEMLAYOUT_TABLE", None)
    env.update(env_extra or {})
    rc, out, _ = on_pty([exe] + args, cols, env=env, stdin=subprocess.DEVNULL,
                        stderr="pty" if stderr_too else "pipe", raw=True, timeout=120)
    return rc, out.decode("utf-8", "replace").replace(T, "@TREES@")


def piped(exe, args, stderr=False, env_extra=None):
    env = dict(os.environ, NO_COLOR="1", LC_ALL="C.UTF-8")
    env.pop("MEMLAYOUT_TABLE", None)
    env.update(env_extra or {})
    p = subprocess.run([exe] + args, capture_output=True, env=env, timeout=120)
    return p.returncode, (p.stderr if stderr else p.stdout).decode("utf-8", "replace")


def too_wide(text, cols):
    return [l for l in text.split("\n") if len(l) > cols]


def recorded(exe, args, cols):
    """(exit status, text, tables) of exe ARGS on a pty of cols columns with
    scols-record.so preloaded: tables, the record of each table it printed."""
    spec = os.path.join(os.environ.get("TMPDIR", "/tmp"), "golden-scols-%d.txt" % os.getpid())
    if os.path.exists(spec):
        os.unlink(spec)
    asan = os.environ.get("ASAN_OPTIONS", "")
    rc, text = on_terminal(exe, args, cols, {
        "LD_PRELOAD": os.environ["MEMLAYOUT_SCOLS_RECORD"], "MEMLAYOUT_SCOLS_SPEC": spec,
        "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"})
    record = open(spec).read().replace(T, "@TREES@") if os.path.exists(spec) else ""
    if os.path.exists(spec):
        os.unlink(spec)
    return rc, text, ["table\t" + t for t in record.split("table\t")[1:]]


def replay(table):
    p = subprocess.run([os.environ["MEMLAYOUT_SCOLS_REPLAY"]], input=table.encode(),
                       capture_output=True, timeout=60)
    return p.stdout.decode("utf-8", "replace") if p.returncode == 0 else None


def diff(want, got):
    return "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), "expected",
                                           "got", lineterm="", n=1))


def pinned(exe, update):
    for name, args in PINNED.items():
        for cols in WIDTHS:
            rc, text, tables = recorded(exe, args, cols)
            rest, at = "", 0
            for i, t in enumerate(tables):
                laid = replay(t)
                k = text.find(laid, at) if laid else -1
                check(k >= 0, "%s at %d columns: table %d as the installed libsmartcols prints it"
                      % (name, cols, i + 1), "replayed:\n%s\ngot:\n%s" % (laid, text))
                if k >= 0:
                    rest, at = rest + text[at:k] + "@TABLE@\n", k + len(laid)
            got = "rc: %d\n%s" % (rc, rest + text[at:])
            base = os.path.join(HERE, "expected", "term%d-%s" % (cols, name))
            if update:
                open(base + ".txt", "w").write(got)
                if tables:
                    open(base + ".scols", "w").write("".join(tables))
                print("updated", base)
                continue
            for ext, mine in ((".txt", got), (".scols", "".join(tables))):
                path = base + ext
                want = open(path).read() if os.path.exists(path) else "" if ext == ".scols" \
                    else "(missing)"
                check(mine == want, "%s at %d columns: %s as pinned" % (
                      name, cols, "the tables memlayout builds" if ext == ".scols" else "its text"),
                      diff(want, mine))
            check(not too_wide(text, cols), "%s at %d columns: every line fits" % (name, cols),
                  too_wide(text, cols))
            if tables and cols == WIDTHS[0]:
                both = [piped(exe, args, env_extra=e)[1] for e in ({}, {"MEMLAYOUT_TABLE": "libsmartcols"})]
                check(both[0] == both[1], "%s piped: the bulk writer prints what the installed "
                      "libsmartcols prints" % name, diff(both[1], both[0]))


def structure(exe, name, args, cols, row_re, nrows, env_extra=None):
    """A live view: exit 0, every line fits, nrows lines that start as a
    row does (one line per row: a folded row would add lines that do not)."""
    rc, text = on_terminal(exe, args, cols, env_extra)
    check(rc == 0, "%s at %d columns: exit 0" % (name, cols), text[-2000:])
    check(not too_wide(text, cols), "%s at %d columns: every line fits" % (name, cols),
          too_wide(text, cols))
    rows = [l for l in text.split("\n") if re.match(row_re, l)]
    check(len(rows) == nrows, "%s at %d columns: one line per row (%d rows)" % (name, cols, nrows),
          "%d rows:\n%s" % (len(rows), text[:3000]))
    return text


def object_rows(summary):
    """The rows of the summary's table of objects (after its heading)."""
    part = summary.split("Code and data per object")[-1].split("\n")[2:] \
        if "Code and data per object" in summary else []
    return [l.rstrip() for l in part if l.strip() and not re.search(r" (exited|was killed)", l)]


def glibc_heap(exe, glibc_target):
    """heap on glibc malloc (glibc-target pattern 3: four arenas, mmap'd
    chunks): its prose folded, its tables fitted, one line per row of the
    heaps table; piped, whole lines and END-less default columns kept."""
    t = subprocess.Popen([glibc_target, "pattern", "3"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        for line in t.stdout:
            if line.strip() == b"ready":
                break
        pid = str(t.pid)
        row = r"^\s*0x[0-9a-f]+ +[0-9.]+[BKMGT]? +(brk|heap|mmap) "
        rc, raw = piped(exe, ["heap", pid])
        n = len([l for l in raw.split("\n") if re.match(row, l)])
        check(rc == 0 and n >= 4, "heap (glibc) piped: its heaps and mmap'd chunks", raw[:1500])
        check("ARENA IN-USE" in raw and any(len(l) > 120 for l in raw.split("\n")),
              "heap (glibc) piped: lines and columns whole", raw[:1500])
        for cols in WIDTHS:
            text = structure(exe, "heap (glibc)", ["heap", pid], cols, row, n)
            check("uses glibc" in text and "MAP:" in text,
                  "heap (glibc) at %d columns: the prose and the legend" % cols, text[:1500])
    finally:
        t.stdin.close()
        t.wait(timeout=30)


def crash_report(exe, crash_target):
    """run's crash report on a terminal (stderr's width): every line fits,
    each frame of the backtrace still starts a line; piped, as long as it
    is (the crash-target's whole path)."""
    args = ["run", "--", crash_target, "null-pointer"]
    rc, out = piped(exe, args, stderr=True)
    frames = len(re.findall(r"(?m)^  #\d+ ", out))
    check(frames >= 2 and crash_target in out,
          "run's crash report piped: a backtrace, the whole path", out[-2000:])
    for cols in WIDTHS:
        rc, text = on_terminal(exe, args, cols, stderr_too=True)
        check("died of SIGSEGV" in text and "Address space around the fault" in text,
              "run's crash report at %d columns: the report" % cols, text[-2000:])
        check(not too_wide(text, cols), "run's crash report at %d columns: every line fits" % cols,
              too_wide(text, cols))
        check(len(re.findall(r"(?m)^  #\d+ ", text)) == frames,
              "run's crash report at %d columns: one line starts each frame (%d)" % (cols, frames),
              text[-2000:])


def live(exe, heap_target, libmlalloc):
    # pages: a child of ours, its regions counted from a raw table
    child = subprocess.Popen(["sleep", "60"])
    try:
        time.sleep(0.2)
        pid = str(child.pid)
        rc, raw = piped(exe, ["pages", "-r", "-n", "-o", "START", pid])
        n = len(raw.split())
        for cols in WIDTHS:
            structure(exe, "pages", ["pages", pid], cols, r"^0x[0-9a-f]+ ", n)
        rc, out = piped(exe, ["pages", pid])
        check("/usr/bin/sleep" in out or "/bin/sleep" in out and " END " in out.split("\n")[1],
              "pages piped: whole paths and END", out[:600])
        rc, out = piped(exe, ["show", pid])
        head = out.split("\n")[1].split() if out.count("\n") > 1 else []
        check(head[:2] == ["START", "END"] and "/sleep" in out and "/libc.so.6" in out,
              "show piped: START END and whole paths", out[:600])
        rc, text = on_terminal(exe, ["show", pid], 80)
        check("libc.so.6" in text and "/usr/lib" not in text,
              "show at 80 columns: objects by their short names", text[:800])
    finally:
        child.kill()
        child.wait()
    # aslr: region names whole at 80 columns
    for cols in WIDTHS:
        text = structure(exe, "aslr", ["aslr", "-c", "3", "--", "/bin/true"], cols,
                         r"^(exe |heap|stack|argv|env|vdso|vvar|vsyscall|anon|ld-|libc)",
                         len([l for l in piped(exe, ["aslr", "-c", "3", "-n", "--", "/bin/true"])[1]
                              .split("\n") if l.strip()]))
        check("stack (top)" in text and "stack pointer" in text,
              "aslr at %d columns: stack (top) and stack pointer told apart" % cols, text[:1500])
    # watch --log: folded lines stay under the figures
    for cols in WIDTHS:
        rc, text = on_terminal(exe, ["watch", "--log", "-i", "0.1", "--", "sh", "-c",
                                     "sleep 0.25; exec sleep 0.2"], cols)
        log = text.split("\nSummary")[0]
        check(rc == 0 and "sample" in log, "watch --log at %d columns: a log" % cols, text[:1500])
        check(not too_wide(log, cols), "watch --log at %d columns: every line fits" % cols,
              too_wide(log, cols))
        summary = text.split("\nSummary")[1] if "\nSummary" in text else ""
        check(summary and not too_wide(summary, cols),
              "watch's summary at %d columns: every line fits" % cols,
              too_wide(summary, cols) or text[-1500:])
        objs = object_rows(summary)
        check(len(objs) >= 3 and all(re.search(r"\d(\.\d+)?[BKMG]?s?$", l) for l in objs),
              "watch's summary at %d columns: one line per object (%d)" % (cols, len(objs)),
              summary)
    # watch's screen (redrawn in place on a terminal of 24 rows): every
    # line fits, every screen in the 23 rows it may take
    for cols in WIDTHS:
        rc, text = on_terminal(exe, ["watch", "-i", "0.1", "-c", "3", "--", "sleep", "1"], cols)
        screens = [x.split("\nSummary of PID")[0] for x in text.split("\x1b[H\x1b[J")[1:]]
        check(rc == 0 and len(screens) == 3, "watch's screen at %d columns: 3 screens" % cols,
              text[-1500:])
        check(not too_wide(text, cols), "watch's screen at %d columns: every line fits" % cols,
              too_wide(text, cols))
        check(all(x.count("\n") <= 23 for x in screens),
              "watch's screen at %d columns: each in 23 rows" % cols,
              [x.count("\n") for x in screens])
    rc, out = piped(exe, ["watch", "--log", "-i", "0.1", "--", "sh", "-c",
                          "sleep 0.25; exec sleep 0.2"])
    objs = object_rows(out.split("\nSummary")[-1])
    check(any(l.startswith("/") and "libc.so.6" in l for l in objs),
          "watch's summary piped: whole paths", out[-1500:])
    # heap: heap-target under mlalloc
    if not heap_target:
        return
    env = dict(os.environ, LD_PRELOAD=libmlalloc)
    t = subprocess.Popen([heap_target], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        for line in t.stdout:
            if line.strip() == b"ready=0x1":
                break
        t.stdin.write(b"a")
        t.stdin.flush()
        for line in t.stdout:
            if line.strip() == b"ready=0x1":
                break
        pid = str(t.pid)
        rc, raw = piped(exe, ["heap", pid])
        n = len([l for l in raw.split("\n") if re.match(r"^\s*0x[0-9a-f]+ ", l)])
        check(n >= 2, "heap piped: its segment and its large block", raw[:1500])
        for cols in WIDTHS:
            structure(exe, "heap", ["heap", pid], cols, r"^\s*0x[0-9a-f]+ ", n)
    finally:
        t.kill()
        t.wait()


def main():
    exe = sys.argv[1]
    rest = [a for a in sys.argv[2:] if a != "--update"]
    update = "--update" in sys.argv or os.environ.get("MEMLAYOUT_GOLDEN_UPDATE") == "1"
    pinned(exe, update)
    if update:
        return
    live(exe, rest[0] if rest else None, rest[1] if len(rest) > 1 else None)
    if len(rest) > 3:
        glibc_heap(exe, rest[2])
        crash_report(exe, rest[3])
    print("%d passed, %d failed" % (total - failed, failed))
    sys.exit(1 if failed else 0)


main()
