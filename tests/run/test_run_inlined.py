#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""memlayout run's backtrace shows inlined functions as frames, as gdb does:
a program built -O2 -g faults in poke(), inlined into scale(), inlined into
outer(); the -J backtrace must be poke [inlined] at the faulting line,
scale [inlined] at poke's call, outer at scale's call, main at outer's
call.  With addr2line at hand, its -i answer for the fault pc must agree.

usage: test_run_inlined.py MEMLAYOUT SOURCE TARGET...
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402


def marked_lines(source):
    lines = {}
    with open(source) as f:
        for n, text in enumerate(f, 1):
            if 'LINE-' in text:
                lines[text.split('LINE-')[1].split()[0]] = n
    return lines


def one(ml, target, lines):
    name = os.path.basename(target)
    res = subprocess.run([ml, 'run', '-J', '--', target], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=120)
    check_eq(res.returncode, -11, name + ': ended by SIGSEGV')
    try:
        doc = json.loads(res.stderr)
    except ValueError:
        check(False, name + ': -J is one JSON document (the report, on stderr)', res.stderr)
        return
    bt = doc.get('backtrace') or []
    got = [(f.get('function'), f.get('inlined'), f.get('line'),
            os.path.basename(f.get('file') or '')) for f in bt[:4]]
    want = [('poke', True, lines['FAULT'], 'inlined.c'),
            ('scale', True, lines['POKE'], 'inlined.c'),
            ('outer', False, lines['SCALE'], 'inlined.c'),
            ('main', False, lines['OUTER'], 'inlined.c')]
    check_eq(got, want, name + ': frames poke, scale (inlined), outer, main and their lines')
    check(len(bt) >= 3 and bt[0]['pc'] == bt[1]['pc'] == bt[2]['pc'],
          name + ': the inlined frames share their pc with outer', bt[:3])
    addr2line = shutil.which('addr2line')
    if not addr2line or len(bt) < 3:
        return
    # addr2line -i on the pc as an address in the executable (for a PIE:
    # less the load bias, from outer's frame and nm's address of outer)
    pc = int(bt[0]['pc'], 16)
    nm = subprocess.run(['nm', target], stdout=subprocess.PIPE, text=True).stdout
    outer_sym = [int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(' outer')]
    if not outer_sym:
        return
    bias = int(bt[2]['pc'], 16) - bt[2]['offset'] - outer_sym[0]
    rel = pc - bias
    out = subprocess.run([addr2line, '-i', '-f', '-e', target, '%x' % rel],
                         stdout=subprocess.PIPE, text=True).stdout.split('\n')
    funcs = out[0::2][:3]
    check_eq(funcs, ['poke', 'scale', 'outer'], name + ': addr2line -i agrees')


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    ml, source = sys.argv[1], sys.argv[2]
    lines = marked_lines(source)
    for target in sys.argv[3:]:
        one(ml, target, lines)
    done()


if __name__ == '__main__':
    main()
