# SPDX-License-Identifier: MIT
"""test_heap_out.py - `memlayout heap`'s tables through the one table
printer: -o and --list-columns for glibc malloc's tables (its heap table
by default, its arena table with -c alone; a name no heap table has is
exit 2 before the target is read, a name of another table exit 2 too),
the glibc JSON document built as one document (parsed, the members in
place), and target text in heap tables escaped the way show's is: a
process named with a right-to-left override (U+202E) shows it as \\xHH in
a table, \\u202e in JSON, never raw.

Usage: test_heap_out.py MEMLAYOUT GLIBC_TARGET HEAP_TARGET_STATIC
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

MEMLAYOUT, GLIBC_TARGET, STATIC_TARGET = sys.argv[1:4]
failures = 0
RLO = '\u202e'


def check(cond, what, got=None):
    global failures
    print(('ok: ' if cond else 'FAIL: ') + what + ('' if cond or got is None else ': %r' % (got,)))
    failures += not cond


def heap(*args):
    return subprocess.run([MEMLAYOUT, 'heap', *args], capture_output=True, timeout=60)


class Target:
    """A target started with its stdin open, up to its line `until`."""

    def __init__(self, argv, until):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for line in self.p.stdout:
            if line.decode(errors='replace').startswith(until):
                return
        raise RuntimeError('%s ended before %r' % (argv, until))

    def close(self):
        self.p.stdin.close()
        self.p.kill()
        self.p.wait(timeout=10)


def glibc_columns():
    t = Target([GLIBC_TARGET], 'ready')
    pid = str(t.p.pid)
    try:
        r = heap('-J', '-m', '-o', 'START,SIZE,MAP', pid)
        d = json.loads(r.stdout) if r.returncode == 0 else {}
        rows = d.get('heaps', [])
        check(r.returncode == 0 and rows and all(set(x) == {'start', 'size', 'map'} for x in rows),
              'glibc: -m -o START,SIZE,MAP -J gives the heaps with those keys only', rows[:1])
        check(d.get('allocator') == 'glibc' and isinstance(d.get('totals'), dict) and
              d['totals'].get('arena_bytes', 0) > 0, 'glibc: -J is one document with its totals')

        r = heap('-c', '-r', '-n', '-o', 'ARENA,MAX-SYSTEM,FAST-CHUNKS', pid)
        lines = r.stdout.decode().splitlines()
        rows = [l.split() for l in lines if l.strip()]
        first = rows[0] if rows else []
        check(r.returncode == 0 and first and len(first) == 3 and first[0] == '0',
              'glibc: -c -o ARENA,MAX-SYSTEM,FAST-CHUNKS prints the arena table with 3 columns',
              rows[:3])

        r = heap('-r', '-o', 'START,ARENA', pid)
        text = r.stdout.decode()
        tail = text.split('START ARENA\n')[-1].splitlines()
        check(r.returncode == 0 and 'START ARENA\n' in text and tail and
              all(1 <= len(l.split()) <= 2 for l in tail),
              'glibc: -o START,ARENA on the default report picks the heap table\'s columns',
              text[-300:])

        r = heap('-c', '-o', 'START', pid)
        check(r.returncode == 2 and b'unknown column' in r.stderr,
              'glibc: -c -o START (not an arena column) is a usage error', r.stderr)
    finally:
        t.close()
    r = heap('-o', 'NOPE', '1')
    check(r.returncode == 2 and b'NOPE: unknown column' in r.stderr,
          'a name no heap table has: exit 2 before reading the target', r.stderr)
    r = heap('--list-columns')
    out = r.stdout.decode()
    check(r.returncode == 0 and 'glibc malloc: arenas' in out and 'MAX-SYSTEM' in out and
          'glibc malloc: heaps' in out and 'RUN' in out,
          '--list-columns lists the glibc tables beside mlalloc\'s', out[:300])


def escaping():
    d = tempfile.mkdtemp()
    exe = os.path.join(d, 'ev' + RLO + 'il')   # comm: its first 15 bytes
    shutil.copy(STATIC_TARGET, exe)
    t = Target([exe], 'ready=')
    pid = str(t.p.pid)
    try:
        for args, what in ((['-s', '-r'], 'raw'), (['-s', '-n'], 'no headings')):
            r = heap(*args, pid)
            check(r.returncode == 3 and RLO.encode() not in r.stdout and
                  b'ev\\xe2\\x80\\xaeil' in r.stdout,
                  'comm with U+202E in the %s summary table: escaped as \\xHH' % what, r.stdout)
        r = heap('-J', pid)
        check(r.returncode == 3 and RLO.encode() not in r.stdout and b'"ev\\u202eil"' in r.stdout,
              'comm with U+202E in JSON: \\u202e', r.stdout[:200])
    finally:
        t.close()
        shutil.rmtree(d)


glibc_columns()
escaping()
print('%d failure(s)' % failures)
sys.exit(1 if failures else 0)
