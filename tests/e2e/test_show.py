# SPDX-License-Identifier: MIT
"""test_show.py - memlayout show on target-bss (64-bit): every part of the
memory model where the target says it is, sizes and spans exactly those
of /proc/PID/maps, and the output modes (-J, -b, human sizes, table, -r
-n, -s, -d with --mark).

usage: test_show.py MEMLAYOUT TARGET_BSS
"""
import os
import sys

from e2e import (COLUMNS, Target, addr, check, check_bss_target, check_eq,
                 check_shape, check_sizes, describe, done, read_maps,
                 page_size, parse_json_output, region_at, run,
                 show_json, spans)


def check_modes(ml, pid, facts, regions):
    # Human sizes without -b: strings like "4K".
    res = run(ml, 'show', '-J', '-o', 'START,END,SIZE,KIND', pid)
    human = parse_json_output(res.stdout, 'show -J (human sizes)')
    if human:
        small = [r for r in human if addr(r['end']) - addr(r['start']) == 4096]
        check(all(isinstance(r['size'], str) for r in human),
              'without -b sizes are strings', human[:3])
        if small:
            check_eq(small[0]['size'], '4K', 'a 4096-byte region without -b')
    # Default table: a column heading near the top (after a process line).
    res = run(ml, 'show', pid)
    lines = res.stdout.decode().splitlines()
    check(res.returncode == 0 and
          any(l.split()[:2] == ['START', 'END'] for l in lines[:3]),
          'table output exits 0 and has a START END heading',
          res.returncode, lines[:3], res.stderr)
    res = run(ml, 'show', '-r', '-n', '-o', 'START,END,KIND', pid)
    rows = res.stdout.decode().splitlines()
    check_eq(len(rows), len(regions), 'show -r -n: one line per region')
    check(all(len(r.split()) == 3 for r in rows),
          'show -r -n -o START,END,KIND: three fields a line', rows[:3])
    # Summary: per-kind totals adding up to the regions.
    summary = show_json(ml, '-s', pid, key='summary')
    if summary:
        kinds = {s['kind']: s for s in summary}
        total = kinds.pop('total', None)
        check('bss' in kinds and kinds['bss']['virtual'] >= 1 << 20,
              'summary: bss virtual >= 1 MiB', kinds.get('bss'))
        check_eq(sum(s['virtual'] for s in kinds.values()),
                 sum(addr(r['end']) - addr(r['start']) for r in regions),
                 'summary: virtual totals add up to the regions')
        check_eq(sum(s['count'] for s in kinds.values()), len(regions),
                 'summary: counts add up to the number of regions')
        if total:
            check_eq(total['count'], len(regions), 'summary: total count')
    # Diagram with a mark.
    res = run(ml, 'show', '-d', '--mark', '%#x=BIGARRAY' % facts['bss'], pid)
    out = res.stdout.decode('utf-8', 'replace')
    check(res.returncode == 0 and 'BIGARRAY' in out,
          'show -d --mark ADDR=LABEL exits 0 and shows the label',
          res.returncode, out[:500], res.stderr)


def main():
    ml, target = sys.argv[1], os.path.realpath(sys.argv[2])
    with Target([target]) as t:
        regions = show_json(ml, '-o', COLUMNS, t.pid)
        maps = read_maps(t.pid)
        if regions:
            check_eq(spans(regions), maps, 'regions == /proc/PID/maps spans')
            check_sizes(regions, 'target-bss')
            check_shape(regions, 'target-bss')
            check_bss_target(regions, t.facts, target, 'target-bss')
            big = region_at(regions, t.facts['malloc_large'])
            # glibc's mmap'ed chunk: heap memory (its header read from
            # the target), owned by glibc, marked apart from the brk heap
            owners = show_json(ml, '-o', 'START,END,KIND,ALLOCATOR,OBJECT', t.pid)
            bigo = region_at(owners, t.facts['malloc_large'])
            check(big is not None and bigo is not None and bigo.get('kind') == 'heap' and
                  bigo.get('allocator') == 'glibc' and bigo.get('object') == '[malloc mmap chunk]',
                  'malloc(1 MiB) is heap: a glibc mmap chunk', describe(bigo))
            heap = [r for r in regions if r.get('kind') == 'heap' and r.get('name') == '[heap]']
            page = page_size()
            brk = (t.facts['brk'] + page - 1) // page * page
            check(len(heap) == 1 and addr(heap[0]['end']) == brk,
                  'one heap region ending at the page-rounded brk',
                  [describe(r) for r in heap], hex(brk))
            check_modes(ml, t.pid, t.facts, regions)
        check_eq(t.close(), 0, 'target-bss exit status')
    done()


main()
