# SPDX-License-Identifier: MIT
"""test_where32_plt.py - PLT entries of a 32-bit (i386) process named as
objdump names them: every entry objdump -d calls NAME@plt in .plt,
.plt.sec and .plt.got of target-bss32 (a PIE: its entries jump through
disp32(%ebx), %ebx holding .got.plt's address; non-PIC ones through an
absolute address) is NAME@plt 5 bytes in, in that section.  i386's PLT
entries used to get no name at all.  Skips (77) without objdump.

usage: test_where32_plt.py MEMLAYOUT TARGET_BSS32
"""
import json
import os
import shutil
import subprocess
import sys

from e2e import Target, addr, check, check_eq, done, run


def main():
    ml, target = sys.argv[1], sys.argv[2]
    if not shutil.which('objdump'):
        print('skip: where32-plt: no objdump')
        sys.exit(77)
    exe = os.path.realpath(target)
    with Target([target]) as t:
        with open('/proc/%d/maps' % t.pid) as f:
            base = next(int(l.split('-')[0], 16) for l in f
                        if l.rstrip().endswith(exe) and ' 00000000 ' in l)
        want = []
        for sec in ('.plt', '.plt.sec', '.plt.got'):
            res = subprocess.run(['objdump', '-d', '--section=' + sec, exe],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 universal_newlines=True)
            for line in res.stdout.splitlines():
                p = line.split()
                if len(p) == 2 and p[1].endswith('@plt>:') and '-0x' not in p[1]:
                    want.append((int(p[0], 16) + base + 5, p[1][1:-2], sec))
        if not check(want, 'objdump names PLT entries in target-bss32'):
            done()
        res = run(ml, 'where', '-J', '-b', t.pid, *[hex(a) for a, _, _ in want])
        check_eq(res.returncode, 0, 'where exit status')
        ans = json.loads(res.stdout)['addresses'] if res.returncode == 0 else []
        for (a, name, sec), got in zip(want, ans):
            check_eq((got.get('symbol'), got.get('symoff'), got.get('section')),
                     (name, '0x5', sec), 'PLT entry %s+5 as objdump names it' % name)
    done()


main()
