#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_btchain.py LIBMLALLOC BTCHAIN: mlalloc's checking mode takes its
backtraces from the shapes of frames it learned (alloc/backtrace.c), not
from a DWARF walk each time, and they stay exact through code built
without frame pointers.  Under MLALLOC_CHECK=full,stats, btchain allocates
and frees N blocks from the same sites (main thread, then another), then
frees one twice: the report's allocation backtrace must be chain3's malloc,
chain2's and chain1's calls (file:line by addr2line, in that order), its
free backtrace release's free; and of the 2N+ walks at most a few dozen
may be DWARF walks (the learning), the rest fast."""
import os
import re
import subprocess
import sys

FRAME = re.compile(r'^    #\d+ 0x[0-9a-f]+ \((.*)\+(0x[0-9a-f]+)\)$')
STATS = re.compile(r'^mlalloc: backtraces: fast (\d+) dwarf (\d+)$', re.M)
N = 5000


def frames(text, title):
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith('  ') and line.strip().endswith(':'):
            inside = line.strip() == title
            continue
        m = FRAME.match(line)
        if inside and m:
            out.append((m.group(1), int(m.group(2), 16)))
    return out


def lines_of(prog, fr):
    out = []
    for mod, off in fr:
        if os.path.realpath(mod) != os.path.realpath(prog):
            continue
        r = subprocess.run(['addr2line', '-e', prog, hex(off - 1)],
                           capture_output=True, text=True, check=True)
        m = re.search(r':(\d+)', r.stdout)
        out.append(int(m.group(1)) if m else 0)
    return out


def source_tags(name, prefix):
    """{tag: line} of the markers '@PREFIX:tag' in the source NAME beside this script."""
    tags = {}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name)) as f:
        for n, line in enumerate(f, 1):
            for m in re.finditer('@' + prefix + r':([a-z0-9]+)', line):
                tags[m.group(1)] = n
    return tags


def main():
    lib, prog = os.path.abspath(sys.argv[1]), sys.argv[2]
    tags = source_tags('btchain.c', 'bt')
    want_alloc = [tags['alloc3'], tags['alloc2'], tags['alloc1']]
    bad = 0
    for extra in ([], ['thread']):
        what = 'thread' if extra else 'main'
        env = dict(os.environ, LD_PRELOAD=lib, MLALLOC_CHECK='full,stats')
        r = subprocess.run([prog, str(N)] + extra, env=env, capture_output=True, text=True, timeout=120)
        if 'mlalloc: double-free' not in r.stderr:
            print('FAIL: %s: no double-free report (status %d): %s' % (what, r.returncode, r.stderr[-400:]))
            bad += 1
            continue
        got = lines_of(prog, frames(r.stderr, 'allocated at:'))[:3]
        if got != want_alloc:
            print('FAIL: %s: allocation backtrace lines %s, want %s' % (what, got, want_alloc))
            bad += 1
        got = lines_of(prog, frames(r.stderr, 'freed at:'))[:1]
        if got != [tags['free1']]:
            print('FAIL: %s: free backtrace lines %s, want [%d]' % (what, got, tags['free1']))
            bad += 1
        # The report aborts before the exit's stats line: count the walks
        # in a clean run of the same loop (BTCHAIN_CLEAN: no double free).
        r2 = subprocess.run([prog, str(N)] + extra, env=dict(env, BTCHAIN_CLEAN='1'),
                            capture_output=True, text=True, timeout=120)
        m = STATS.search(r2.stderr)
        if not m:
            print('FAIL: %s: no stats line from MLALLOC_CHECK=full,stats: %s' % (what, r2.stderr[-300:]))
            bad += 1
            continue
        fast, dwarf = int(m.group(1)), int(m.group(2))
        if fast < 2 * N - 10 or dwarf > 60:
            print('FAIL: %s: %d fast and %d DWARF walks for %d blocks' % (what, fast, dwarf, N))
            bad += 1
        else:
            print('ok: %s: allocation and free sites exact; %d fast walks, %d DWARF' % (what, fast, dwarf))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
