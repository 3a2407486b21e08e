# SPDX-License-Identifier: MIT
"""test_where32.py - memlayout where on a 32-bit (-m32) process.

A compat task on a 64-bit kernel is translated by the same 4- or 5-level
page tables as any other (2-level and PAE paging belong to 32-bit
kernels): the walk of its addresses has this machine's levels, upper
indices 0.  Also checks that its text symbol comes from its .symtab, its
main stack is named, and an address above its 4 GiB user space is a hole
above the top of user space, with a walk.

usage: test_where32.py MEMLAYOUT TARGET32
"""
import json
import sys

from e2e import Target, addr, check, check_eq, done, run
from test_where import expected_walk


def main():
    ml, target = sys.argv[1:3]
    with Target([target]) as t:
        f = t.facts
        names = ['data', 'text', 'local']
        res = run(ml, 'where', '-J', '-b', t.pid, *[hex(f[n]) for n in names], '0xfffff000')
        check_eq(res.returncode, 0, 'where -J on a 32-bit process exits 0')
        ans = json.loads(res.stdout).get('addresses', []) if res.returncode == 0 else []
        if check_eq(len(ans), 4, 'one answer per address'):
            a = dict(zip(names + ['top'], ans))
            for n in names:
                check_eq(addr(a[n]['addr']), f[n], '%s: addr echoed' % n)
                check_eq(a[n].get('walk'), expected_walk(f[n]), '%s: walk, machine levels' % n)
            kinds = {'data': 'data', 'text': 'text', 'local': 'stack'}
            for n, k in kinds.items():
                check_eq(a[n].get('kind'), k, '%s: kind' % n)
            check_eq(a['text'].get('symbol'), 'text_func', 'text: symbol from .symtab')
            check_eq(a['local'].get('stack'), t.pid, "local: the main thread's stack")
            check_eq(a['top'].get('hole'), 'above-user-top', '0xfffff000: above user space')
            check_eq(a['top'].get('walk'), expected_walk(0xfffff000), '0xfffff000: walk')
        res = run(ml, 'where', t.pid, hex(f['data']))
        check(b'walk unknown' not in res.stdout and b'-level page tables)' in res.stdout,
              'block: the walk is known for a 32-bit process', res.stdout)
    done()


main()
