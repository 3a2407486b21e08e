# SPDX-License-Identifier: MIT
"""test_run_insn.py - the faulting instruction decoded in glibc's string
functions of an AVX-512 CPU (EVEX encodings, which capstone 4 could not
decode: no instruction line, "access unknown"):

- strlen(NULL): __strlen_evex faults in an EVEX compare against [rdi]:
  the instruction is shown and the access is a read at 0x0;
- memset(NULL, 0, 10): glibc's AVX-512/EVEX memset stores fewer bytes
  than a vector with an EVEX masked store (vmovdqu8 [rax]{k1}): the
  access is a write, not a read.

Skips (77) where the CPU has no AVX-512BW/VL, or glibc picked another
variant (frame #0 names neither evex nor avx512, e.g. GLIBC_TUNABLES).

usage: test_run_insn.py MEMLAYOUT STRLEN_NULL
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402


def cpu_flags():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def report(ml, target, *args):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, 'r.json')
        res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--',
                              target, *args], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=60)
        try:
            return json.load(open(rep))
        except (OSError, ValueError) as e:
            check(False, 'run %s: one JSON report' % (args,), str(e),
                  res.stderr[-300:])
            return {}


def frame0(d):
    bt = d.get('backtrace') or [{}]
    return bt[0].get('function') or ''


def evex(d):
    f = frame0(d)
    return 'evex' in f or 'avx512' in f


def main():
    ml, target = sys.argv[1:3]
    if not {'avx512bw', 'avx512vl'} <= cpu_flags():
        print('SKIP: no AVX-512BW/VL on this CPU: glibc runs no EVEX code')
        sys.exit(77)

    d = report(ml, target)
    if not evex(d):
        print('SKIP: strlen is not glibc\'s EVEX variant here:', frame0(d))
        sys.exit(77)
    insn = d.get('instruction') or ''
    check(insn.startswith('vpcmp') and '[rdi]' in insn,
          'strlen(NULL): the EVEX compare against [rdi] is shown', insn)
    check_eq(d.get('access'), 'read', 'strlen(NULL): access')
    check_eq(d.get('address'), '0x0', 'strlen(NULL): address')
    check_eq(d.get('kind'), 'null-pointer', 'strlen(NULL): kind')
    check('a read at 0x0' in (d.get('explanation') or ''),
          'strlen(NULL): the sentence says a read', d.get('explanation'))

    d = report(ml, target, 'memset')
    if evex(d):
        insn = d.get('instruction') or ''
        check(insn.startswith('vmovdqu') and '{k' in insn,
              'memset(NULL, 0, 10): the EVEX masked store is shown', insn)
        check_eq(d.get('access'), 'write', 'memset(NULL, 0, 10): access')
        check('a write at 0x0' in (d.get('explanation') or ''),
              'memset(NULL, 0, 10): the sentence says a write',
              d.get('explanation'))
    else:
        print('note: memset is not glibc\'s EVEX variant here:', frame0(d))
    done()


if __name__ == '__main__':
    main()
