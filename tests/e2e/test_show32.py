# SPDX-License-Identifier: MIT
"""test_show32.py - memlayout show on target-bss32, a 32-bit (-m32) build
of target-bss: the same kinds (text, rodata, data, bss, heap, stack) in a
32-bit address space, byte sizes in the JSON, spans equal to
/proc/PID/maps.

usage: test_show32.py MEMLAYOUT TARGET_BSS32
"""
import os
import sys

from e2e import (COLUMNS, Target, addr, check, check_bss_target, check_eq,
                 check_shape, check_sizes, done, read_maps, show_json, spans)


def main():
    ml, target = sys.argv[1], os.path.realpath(sys.argv[2])
    with Target([target]) as t:
        check(all(v < 1 << 32 for v in t.facts.values()),
              'target-bss32 really is 32-bit', t.facts)
        regions = show_json(ml, '-o', COLUMNS + ',RSS', t.pid)
        maps = read_maps(t.pid)
        if regions:
            check_eq(spans(regions), maps, 'regions == /proc/PID/maps spans')
            check_sizes(regions, 'target-bss32')
            check_shape(regions, 'target-bss32')
            check(all(isinstance(r.get('rss'), int) for r in regions),
                  'with -b the RSS of every region is an int', regions[:2])
            check_bss_target(regions, t.facts, target, 'target-bss32')
            # glibc's mmap'ed chunk on i386: its header 8 bytes in (the
            # correction that aligns the user pointer to 16), read from
            # the target: heap, owned by glibc, not a guess
            if os.access('/proc/%d/mem' % t.pid, os.R_OK):
                owners = show_json(ml, '-o', 'START,END,KIND,ALLOCATOR,OBJECT', t.pid)
                big = [r for r in owners if addr(r['start']) <= t.facts['malloc_large'] < addr(r['end'])]
                check(len(big) == 1 and big[0].get('kind') == 'heap' and
                      big[0].get('allocator') == 'glibc' and
                      big[0].get('object') == '[malloc mmap chunk]',
                      'malloc(1 MiB) is heap: a glibc mmap chunk (32-bit header)', big)
            below = [r for r in regions if addr(r['end']) <= 1 << 32]
            check(len(below) >= len(regions) - 1,
                  'all regions (but maybe [vsyscall]) below 4 GiB',
                  [r for r in regions if addr(r['end']) > 1 << 32])
        check_eq(t.close(), 0, 'target-bss32 exit status')
    done()


main()
