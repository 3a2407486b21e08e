# SPDX-License-Identifier: MIT
"""test_run_kinds.py - memlayout run on crash-target's modes whose facts
the plain corpus (test_run.py) does not pin:

- past-eof: SIGBUS reading a page past the end of a file that was never
  longer: "past the end of the file", no claim that it was truncated;
- misaligned-ac: the alignment-check flag on, an unaligned load: SIGBUS
  BUS_ADRALN carries no address; the report takes it from the operand
  (in .bss), never "a read at 0x0";
- breakpoint: the instruction shown is the int3 itself (pc - 1);
- callee-overflow: a recursion whose stack runs out inside snprintf, a
  callee: the recursion and its depth are still found;
- ret-garbage, call-garbage, ret-wild: a ret or call to a garbage
  address (non-canonical on x86-64: the CPU faults at the ret or call
  itself): the target is the address explained, fetched, in its hole,
  and where it came from (the return slot, the call's operand) is said.

usage: test_run_kinds.py MEMLAYOUT CRASH_TARGET [--32]
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402


def report(ml, target, mode):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, 'r.json')
        res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--',
                              target, mode], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=60)
        try:
            return json.load(open(rep))
        except (OSError, ValueError) as e:
            check(False, 'run %s: one JSON report' % mode, str(e),
                  res.stderr[-300:])
            return {}


def main():
    ml, target = sys.argv[1:3]
    d = report(ml, target, 'past-eof')
    expl = d.get('explanation') or ''
    check_eq(d.get('signal'), 'SIGBUS', 'past-eof: SIGBUS')
    check('past the end of the file' in expl, 'past-eof: says past the end '
          'of the file', expl)
    check('truncated' not in expl, 'past-eof: does not claim a truncation',
          expl)

    d = report(ml, target, 'misaligned-ac')
    addr = int(d.get('address') or '0', 16)
    check_eq(d.get('kind'), 'misaligned', 'misaligned-ac: kind')
    check(addr != 0 and addr % 4 == 1, 'misaligned-ac: the operand\'s '
          'address, not 0', d.get('address'))
    check_eq((d.get('region') or {}).get('section'), '.bss',
             'misaligned-ac: in .bss')
    check('0x0 ' not in (d.get('explanation') or ''),
          'misaligned-ac: no read at 0x0', d.get('explanation'))

    d = report(ml, target, 'breakpoint')
    check_eq(d.get('instruction'), 'int3', 'breakpoint: shows the int3')

    d = report(ml, target, 'callee-overflow')
    check_eq(d.get('kind'), 'stack-overflow', 'callee-overflow: kind')
    bt = [f.get('function') for f in d.get('backtrace') or []]
    check(bt and bt[0] != 'callee_recurse', 'callee-overflow: the fault is '
          'in a callee', bt[:4])
    check((d.get('recursion_depth') or 0) > 100,
          'callee-overflow: the recursion depth', d.get('recursion_depth'))
    check('callee_recurse()' in (d.get('explanation') or ''),
          'callee-overflow: names the recursing function',
          d.get('explanation'))
    is32 = sys.argv[3:] == ['--32']
    garbage = 0x41414141 if is32 else 0x4141414141414141
    for mode, want, via in (
            ('ret-garbage', garbage, ('return-slot',)),
            ('call-garbage', garbage, ('call-operand', 'call')),
            ('ret-wild', garbage if is32 else 0x100000000000,
             ('return-slot',))):
        d = report(ml, target, mode)
        what = mode + ': '
        check_eq(d.get('kind'), 'jump-unmapped', what + 'kind')
        check_eq(d.get('access'), 'exec', what + 'a fetch')
        check_eq(int(d.get('address') or '0', 16), want,
                 what + 'the jump target is the address')
        check('%#x' % want in (d.get('explanation') or ''),
              what + 'the sentence names the target', d.get('explanation'))
        check((d.get('hole') or {}).get('kind') is not None,
              what + 'names the target\'s hole', d.get('hole'))
        if not is32 and want == garbage:
            check_eq((d.get('hole') or {}).get('kind'), 'non-canonical',
                     what + 'the non-canonical hole')
        check((d.get('jump') or {}).get('via') in via,
              what + 'where the target came from', d.get('jump'))
    done()


main()
