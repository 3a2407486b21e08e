#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_fullcost.py LIBMLALLOC FULLCOST: full check mode's cheaper paths
stay exact (fullcost.c, MLALLOC_CHECK=full).
- sites: blocks from two callers of the same helper, at the same depth,
  alternate; the walk memo (alloc/backtrace.c) answers most backtraces
  (",stats": at least N of the 4N walks from the memo), and the double
  free of a site_b block names site_b, then the helper's malloc line, in
  its allocation backtrace (file:line by addr2line), not site_a.
- reuse: page blocks' runs are reused once they leave the FIFO of freed
  runs (alloc/guard.c), and a calloc on a reused run is all zero.
- uaf-late: a page block freed 2,000 page-block frees earlier (within the
  FIFO) is still inaccessible: its read is a heap-use-after-free of that
  block, 8000 bytes, offset 100, allocated at its line.
- pxor: a frame whose prologue zeroes an SSE register between its pushes
  (git's do) is learned from its prologue: at most 60 DWARF walks for N
  blocks (each of those walks is one through libgcc's unwinder)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_btchain import frames, lines_of, source_tags  # noqa: E402  (one reader of a report's frames)

MEMO = re.compile(r'^mlalloc: backtraces: of the fast, from the memo (\d+)$', re.M)
N = 5000


def run(prog, lib, args, spec='full', extra=None):
    env = dict(os.environ, LD_PRELOAD=lib, MLALLOC_CHECK=spec, **(extra or {}))
    return subprocess.run([prog] + args, env=env, capture_output=True, text=True, timeout=120)


def main():
    lib, prog = os.path.abspath(sys.argv[1]), sys.argv[2]
    tags = source_tags('fullcost.c', 'fc')
    bad = []

    r = run(prog, lib, ['sites', str(N)])
    got = lines_of(prog, frames(r.stderr, 'allocated at:'))[:2]
    if 'mlalloc: double-free' not in r.stderr or got != [tags['take'], tags['b']]:
        bad.append('sites: allocation lines %s, want %s: %s' % (got, [tags['take'], tags['b']], r.stderr[-300:]))
    r = run(prog, lib, ['sites', str(N)], 'full,stats', {'FULLCOST_CLEAN': '1'})
    m = MEMO.search(r.stderr)
    if not m or int(m.group(1)) < N:
        bad.append('sites: %s walks from the memo of %d, want at least %d: %s'
                   % (m.group(1) if m else 'no line of', 4 * N + 2, N, r.stderr[-300:]))
    else:
        print('ok: sites exact; %s of the walks from the memo' % m.group(1))

    r = run(prog, lib, ['reuse'])
    m = re.search(r'reused (\d+) of (\d+), not zero (\d+)', r.stdout)
    if r.returncode != 0 or not m or int(m.group(1)) == 0 or int(m.group(3)) != 0:
        bad.append('reuse: %r (status %d) %s' % (r.stdout.strip(), r.returncode, r.stderr[-300:]))
    else:
        print('ok: reuse: %s' % r.stdout.strip())

    r = run(prog, lib, ['uaf-late'])
    m = re.search(r'^mlalloc: heap-use-after-free: a read of 0x[0-9a-f]+, the block 0x[0-9a-f]+ '
                  r'of (\d+) bytes, at offset (\d+)', r.stderr, re.M)
    got = lines_of(prog, frames(r.stderr, 'allocated at:'))[:1]
    if not m or (m.group(1), m.group(2)) != ('8000', '100') or got != [tags['late']]:
        bad.append('uaf-late: %s' % r.stderr[-400:])
    else:
        print('ok: uaf-late: a heap-use-after-free of the 8000-byte block at offset 100, allocated at line %d' % got[0])

    r = run(prog, lib, ['pxor', str(N)], 'full,stats')
    m = re.search(r'^mlalloc: backtraces: fast (\d+) dwarf (\d+)$', r.stderr, re.M)
    if r.returncode != 0 or not m or int(m.group(2)) > 60:
        bad.append('pxor: %s DWARF walks for %d blocks, want at most 60: %s'
                   % (m.group(2) if m else 'no count of', N, r.stderr[-300:]))
    else:
        print('ok: pxor: a prologue with an SSE register zeroed learned: %s DWARF walks' % m.group(2))

    for b in bad:
        print('FAIL: ' + b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
