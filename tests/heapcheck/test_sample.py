#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_sample.py WHAT LIBMLALLOC PROG: sampled mode's pool of slots
(alloc/sample.c) with sample-slots.c under LD_PRELOAD=libmlalloc.so.

  slots MODE  (MODE sample:1 or sample:1,mprotect) a freed slot is reused
              and the new block is sound; a use after free of a block whose
              slot was reused before is reported at the access (kind, size,
              offset, both sites); more live blocks than slots all work,
              and an overflow of one past the pool is still reported
  markers     with guard markers (Linux 6.13+; else exit 77) the pool is
              not a VMA per live block: 20 live blocks add at most one line
              to /proc/self/maps; with ',mprotect' at least one each
  nomarkers LAUNCHER  as slots sample:1, under LAUNCHER (no-guard-markers.c:
              madvise refuses guard markers, as before Linux 6.13): the
              pool falls back to mprotect (a mapping more per live block)
  rate        MLALLOC_CHECK=sample (no rate) samples one malloc in 20000,
              the documented default: 400,000 mallocs, 20 sampled (+-2)"""
import os
import re
import signal
import subprocess
import sys

HEAD = re.compile(r'^mlalloc: ([a-z-]+): .*?the block (0x[0-9a-f]+) of (\d+) bytes, '
                  r'at offset (-?\d+)', re.M)
FRAME = re.compile(r'^    #\d+ 0x[0-9a-f]+ \((.*)\+(0x[0-9a-f]+)\)$')
DEFAULT_RATE = 20000


WRAP = []   # a command to run the program under (nomarkers)


def run(lib, mode, prog, *args):
    env = dict(os.environ, LD_PRELOAD=lib, MLALLOC_CHECK=mode)
    return subprocess.run(WRAP + [prog] + list(args), env=env, capture_output=True, text=True, timeout=120)


def sites(err, prog):
    """file:line of the first frame in PROG of each backtrace, in order."""
    out = []
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sample-slots.c')
    first = True
    for line in err.splitlines():
        if line.strip().endswith(':'):
            first = True
            continue
        m = FRAME.match(line)
        if m and first and os.path.realpath(m.group(1)) == os.path.realpath(prog):
            r = subprocess.run(['addr2line', '-e', prog, hex(int(m.group(2), 16) - 1)],
                               capture_output=True, text=True, check=True)
            n = int(re.match(r'\d+', r.stdout.strip().rpartition(':')[2]).group(0))
            with open(src) as f:
                out.append(f.readlines()[n - 1].strip())
            first = False
    return out


def slots(lib, prog, mode, fails):
    r = run(lib, mode, prog, 'reuse')
    m = re.search(r'reused (\d+)', r.stdout)
    if r.returncode != 0 or 'mlalloc:' in r.stderr or not m or int(m.group(1)) < 1000:
        fails.append(f'{mode} reuse: status {r.returncode}, {r.stdout.strip()!r}, '
                     f'want at least 1000 of 5000 blocks at an address used before and no report\n'
                     + r.stderr[-1500:])
    else:
        print(f'ok: {mode} reuse: {m.group(1)} of 5000 blocks in a reused slot, each sound')
    for case, kind, size, off, sig in (('uaf-reused', 'heap-use-after-free', 40, 3, True),
                                       ('many-live', 'heap-buffer-overflow', 128, 128, False)):
        r = run(lib, mode, prog, case)
        h = HEAD.search(r.stderr)
        got = (h.group(1), int(h.group(3)), int(h.group(4))) if h else None
        where = sites(r.stderr, prog)
        want_sites = [f'@alloc:{case}'] + ([f'@free:{case}'] if sig else [])
        site_ok = len(where) >= len(want_sites) and all(w in s for w, s in zip(want_sites, where))
        if r.returncode != -signal.SIGSEGV or got != (kind, size, off) or not site_ok:
            fails.append(f'{mode} {case}: status {r.returncode}, report {got}, sites {where}; '
                         f'want death by SIGSEGV, {(kind, size, off)}, sites {want_sites}\n'
                         + r.stderr[-1500:])
        else:
            print(f'ok: {mode} {case}: {kind}, {size} bytes, offset {off}, sites {want_sites}')


def check_vmas(r, label, ok, want, fails):
    """r printed 'vmas N', the mappings 20 live sampled blocks added: ok(N) must hold."""
    m = re.search(r'vmas (\d+)', r.stdout)
    if r.returncode != 0 or not m or not ok(int(m.group(1))):
        fails.append(f'{label}: status {r.returncode}, {r.stdout.strip()!r}: want {want}\n' + r.stderr[-1500:])
    else:
        print(f'ok: {label}: 20 live sampled blocks, {m.group(1)} more mappings')


def markers(lib, prog, fails):
    r = run(lib, 'sample:1', prog, 'vmas')
    if r.returncode == 77:
        print('SKIP: ' + r.stdout.strip())
        sys.exit(77)
    check_vmas(r, 'guard markers', lambda n: n <= 1,
               'at most one more mapping for 20 live sampled blocks', fails)
    check_vmas(run(lib, 'sample:1,mprotect', prog, 'vmas'), ',mprotect', lambda n: n >= 20,
               'a mapping per live block (the fallback really protects by mprotect)', fails)


def rate(lib, prog, fails):
    n = 400000
    for mode in ('sample', 'sample,leaks'):
        r = run(lib, mode, prog, 'rate', str(n))
        m = re.search(r'sampled (\d+)', r.stdout)
        want = n // DEFAULT_RATE
        if r.returncode != 0 or not m or abs(int(m.group(1)) - want) > 2:
            fails.append(f'MLALLOC_CHECK={mode}: status {r.returncode}, {r.stdout.strip()!r}: '
                         f'want about {want} of {n} sampled (one in {DEFAULT_RATE})\n' + r.stderr[-1500:])
        else:
            print(f'ok: MLALLOC_CHECK={mode}: {m.group(1)} of {n} mallocs sampled')


def main():
    what, lib, prog = sys.argv[1], sys.argv[2], sys.argv[3]
    fails = []
    if what == 'slots':
        slots(lib, prog, sys.argv[4], fails)
    elif what == 'nomarkers':
        WRAP.append(sys.argv[4])
        r = run(lib, 'sample:1', prog, 'vmas-any')
        if r.returncode == 77:
            print('SKIP: ' + r.stdout.strip())
            sys.exit(77)
        check_vmas(r, 'no guard markers', lambda n: n >= 20, 'a mapping more per live block (mprotect)', fails)
        slots(lib, prog, 'sample:1', fails)
    elif what == 'markers':
        markers(lib, prog, fails)
    elif what == 'rate':
        rate(lib, prog, fails)
    for f in fails:
        print('FAIL: ' + f)
    sys.exit(1 if fails else 0)


if __name__ == '__main__':
    main()
