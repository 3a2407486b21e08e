# SPDX-License-Identifier: MIT
"""test_save.py - memlayout save PID DIR writes a tree --proc-root reads:
a live process (a 64-bit one, and a 32-bit one where the suite has it)
saved, then `show --proc-root DIR PID` gives the regions, kinds, objects
and sections `show PID` gives (PSS and RSS move with other processes, so
the columns compared are the layout's), and the same threads; `where`
through the saved tree explains an address as live.  Errors: a process
that does not exist, a DIR/PID already there, no DIR, a core file.

usage: test_save.py MEMLAYOUT TARGET [TARGET32]
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

COLS = 'START,END,PERMS,KIND,TID,OBJECT,SECTIONS'


def ml(*args):
    return subprocess.run([ML, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def blocked(pid):
    """Wait (up to 5 s) until the target sits in its read of stdin: a
    thread still running has no stack pointer in task/TID/syscall, and its
    stack no TID, in one read and not in the other."""
    for _ in range(500):
        with open('/proc/%d/syscall' % pid) as f:
            if not f.read().startswith('running'):
                return
        time.sleep(0.01)


def without_told_owner(line):
    """The row with an anonymous mapping's bracketed object ("[malloc mmap
    chunk]", but not [heap], [stack] and the kernel's other names, which a
    tree keeps) cut, so it compares equal to the row of a tree."""
    f = line.split(' ')
    if len(f) > 5 and f[3] == 'heap' and f[5].startswith('[') and f[5] != '[heap]':
        f[5] = ''
    return ' '.join(f)


def saved_equals_live(target, what):
    p = subprocess.Popen([target], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        while not p.stdout.readline().startswith(b'ready'):
            pass                     # its facts, then "ready=0x1"
        blocked(p.pid)
        with tempfile.TemporaryDirectory() as d:
            cap = os.path.join(d, 'cap')
            res = ml('save', str(p.pid), cap)
            check_eq(res.returncode, 0, what + ': save exit status')
            check_eq(res.stdout + res.stderr, '', what + ': save says nothing')
            live = ml('show', '-r', '-o', COLS, str(p.pid))
            saved = ml('show', '-r', '-o', COLS, '--proc-root', cap, str(p.pid))
            check_eq(saved.returncode, 0, what + ': show --proc-root exit status')
            # A tree holds no memory contents: an anonymous mapping whose
            # owner live show told from its headers (glibc's mmap'ed chunk,
            # obmalloc's arenas: lib/owners.c) has no object from a tree.
            # Every other column, and every file's object, must be equal.
            live_rows = [without_told_owner(line) for line in live.stdout.splitlines()]
            saved_rows = [without_told_owner(line) for line in saved.stdout.splitlines()]
            check(saved_rows == live_rows and len(live_rows) > 10,
                  what + ': show --proc-root DIR PID lays out what show PID does',
                  live.stdout[:3000], saved.stdout[:3000])
            head_live = (ml('show', '-s', str(p.pid)).stdout.splitlines() or [''])[0]
            head_saved = (ml('show', '-s', '--proc-root', cap, str(p.pid)).stdout.splitlines() or [''])[0]
            check_eq(head_saved, head_live, what + ': the same header line')
            again = ml('save', str(p.pid), cap)
            check(again.returncode == 1 and again.stderr.startswith(
                'memlayout: %s/%d: File exists' % (cap, p.pid)),
                what + ': nothing written over', again.stderr)
    finally:
        p.kill()
        p.wait()


def errors():
    with tempfile.TemporaryDirectory() as d:
        sleeper = subprocess.Popen(['sleep', '60'])
        sleeper.kill()
        sleeper.wait()
        res = ml('save', str(sleeper.pid), d)
        check(res.returncode == 1 and res.stderr.startswith(
            'memlayout: %d: no such process' % sleeper.pid), 'save of a gone process',
            res.stderr)
        check_eq(os.listdir(d), [], 'save of a gone process writes nothing')
        res = ml('save', str(os.getpid()))
        check(res.returncode == 2 and 'no directory given' in res.stderr,
              'save without DIR: usage error', res.stderr)
        core = os.path.join(d, 'core')
        with open(core, 'wb') as f:
            f.write(b'\x7fELF')
        res = ml('save', core, d)
        check(res.returncode == 2 and 'save reads a running process' in res.stderr,
              'save of a file: usage error', res.stderr)


def main():
    global ML
    ML = os.path.abspath(sys.argv[1])
    saved_equals_live(sys.argv[2], 'save 64-bit')
    if len(sys.argv) > 3:
        saved_equals_live(sys.argv[3], 'save 32-bit')
    errors()
    done()


main()
