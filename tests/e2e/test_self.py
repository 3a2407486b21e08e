# SPDX-License-Identifier: MIT
"""test_self.py - memlayout show --self: memlayout's own address space has
its text (with .text) owned by the memlayout executable, one stack, a
[vdso], regions sorted with -b sizes; -s --self has a text total.

usage: test_self.py MEMLAYOUT
"""
import os
import sys

from e2e import (COLUMNS, check, check_eq, check_shape, check_sizes,
                 describe, done, show_json)


def main():
    ml = sys.argv[1]
    exe = os.path.realpath(ml)
    regions = show_json(ml, '-o', COLUMNS, '--self')
    if regions:
        check_sizes(regions, '--self')
        check_shape(regions, '--self')
        text = [r for r in regions
                if r.get('kind') == 'text' and r.get('object') == exe]
        check(len(text) >= 1 and '.text' in (text[0].get('sections') or []),
              '--self: memlayout text with .text, object = its path',
              [describe(r) for r in text] or
              [(r.get('kind'), r.get('object')) for r in regions][:8])
        kinds = [r.get('kind') for r in regions]
        check_eq(kinds.count('stack'), 1, '--self: number of stack regions')
        check_eq(kinds.count('vdso'), 1, '--self: number of vdso regions')
        summary = show_json(ml, '-s', '--self', key='summary')
        if summary:
            check('text' in [s.get('kind') for s in summary],
                  '--self -s: a text total', summary)
    done()


main()
