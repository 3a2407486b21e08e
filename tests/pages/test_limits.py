# SPDX-License-Identifier: MIT
"""test_limits.py - memlayout where the address space is huge or memory
short, on tests/pages/target-reserve.c (a 20 TiB never-touched PROT_NONE
reservation, a PROT_NONE region whose even pages were written first, and
20,000 more small mappings):

- pages --method pread on the reservation reports it untouched without
  reading its 40 GB of pagemap entries: the bytes memlayout read (rchar
  of its /proc/PID/io, read while it is a zombie) stay under 64 MiB.
  That file of a zombie is readable as root only; for an ordinary user
  what remains is a CPU limit of 10 s (the skip takes ~3 ms; reading the
  entries took 27 s of CPU here), a bound, not a timing.
- the ---p region that holds pages is still read: 32 RESIDENT, 32
  UNTOUCHED, with pread as with PAGEMAP_SCAN (where the kernel has it).
- under an address-space limit (RLIMIT_AS) just below what show -J and
  pages need, each either succeeds whole or fails with
  "memlayout: PID: out of memory" (not "stdout: write error") and nothing
  on stdout; at least one of those limits makes it fail.

usage: test_limits.py MEMLAYOUT TARGET_RESERVE
"""
import json
import os
import resource
import subprocess
import sys

from e2e import Target, check, check_eq, done
from test_pages import METHODS   # pread, and scan where the kernel has it

MIB = 1 << 20
MANY = 20000
RCHAR_MAX = 64 * MIB


def text(b):
    return b.decode('utf-8', 'replace')


def pages_row(ml, pid, a, method):
    res = subprocess.run([ml, 'pages', '-J', '--method', method, str(pid),
                          '%#x' % a], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=120)
    what = 'pages --method %s %#x' % (method, a)
    if not check_eq(res.returncode, 0, what + ': exit status'):
        print(text(res.stderr))
        return None
    rows = json.loads(res.stdout)['pages']
    return rows[0] if check_eq(len(rows), 1, what + ': rows') else None


def rchar_of(argv, cpu_s):
    """Run argv; (exit status, rchar: bytes its read calls returned)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=limit)
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)   # a zombie now
    try:
        with open('/proc/%d/io' % p.pid) as f:
            io = dict(line.split(': ') for line in f.read().splitlines())
        rchar = int(io['rchar'])
    except OSError:
        rchar = None
    return p.wait(), rchar


def reservation(ml, t):
    f = t.facts
    if not f['reserve_pages']:
        print('# the kernel refused a 20 TiB reservation: not checked')
    else:
        status, rchar = rchar_of([ml, 'pages', '--method', 'pread',
                                  str(t.pid), '%#x' % f['reserve']], 10)
        what = 'pages --method pread on a 20 TiB reservation'
        check_eq(status, 0, what + ': exit status (killed: it read all)')
        if rchar is None:
            print('# /proc/PID/io of a zombie is not readable here (not '
                  'root): rchar not checked, only the CPU bound')
        else:
            check(rchar < RCHAR_MAX, what + ': reads under 64 MiB, not the '
                  '40 GB of its entries', rchar)
        row = pages_row(ml, t.pid, f['reserve'], 'pread')
        if row:
            check_eq((row['pages'], row['untouched'], row['resident']),
                     (f['reserve_pages'], f['reserve_pages'], 0),
                     what + ': pages, untouched, resident')
    for method in METHODS:
        row = pages_row(ml, t.pid, f['protected'], method)
        if row is None:
            continue
        n = f['protected_written']
        check_eq((row['resident'], row['untouched']), (n, n),
                 'a ---p region with %d pages written, %s: resident, '
                 'untouched' % (n, method))


def limited(argv, limit):
    def setlimit():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=setlimit, timeout=120)


def whole(args, res):
    """Is res a complete output of args?"""
    if args[0] == 'show':
        try:
            return len(json.loads(res.stdout)['regions']) > MANY
        except ValueError:
            return False
    return res.stdout.rstrip(b'\n').splitlines()[-1].startswith(b'Bar: ')


def smallest_limit(argv):
    """The smallest limit (MiB steps) under which argv exits 0, or None."""
    lo, hi = 1, 4096
    if limited(argv, hi * MIB).returncode != 0:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if limited(argv, mid * MIB).returncode == 0:
            hi = mid
        else:
            lo = mid + 1
    return hi


def out_of_memory(ml, t):
    for args in (['show', '-J'], ['pages']):
        argv = [ml] + args + [str(t.pid)]
        what = ' '.join(args) + ' under RLIMIT_AS'
        low = smallest_limit(argv)
        if low is None:
            print('# %s: does not run under a 4 GiB RLIMIT_AS (a sanitizer '
                  'build reserves terabytes of shadow): not checked' % what)
            continue
        failed = 0
        for mib in range(low - 6, low + 1):
            res = limited(argv, mib * MIB)
            if res.returncode == 0:
                check(whole(args, res), '%s of %d MiB: exit 0 and the whole '
                      'output' % (what, mib), res.stdout[-200:])
                continue
            failed += 1
            check_eq((res.returncode, text(res.stderr), res.stdout),
                     (1, 'memlayout: %d: out of memory\n' % t.pid, b''),
                     '%s of %d MiB: status, the words, stdout' % (what, mib))
        check(failed > 0, what + ': some limit below %d MiB fails' % low)


def main():
    ml, target = sys.argv[1], sys.argv[2]
    with Target([target, str(MANY)]) as t:
        reservation(ml, t)
        out_of_memory(ml, t)
        check_eq(t.close(), 0, 'target-reserve exit status')
    done()


main()
