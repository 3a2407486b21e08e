# SPDX-License-Identifier: MIT
"""test_bss_merged.py - a .bss tail the kernel merged with an anonymous
mapping made right after it: target-anon-after maps 4 rw-p pages at the
end of libc's .bss tail (MAP_FIXED_NOREPLACE), which the kernel joins to
the tail (one vma, one maps line).

show splits that line where libc's page-rounded p_memsz ends: the part
up to there is libc's bss (object libc, section .bss), the rest anon
with no object; where on an address in the tail names libc and .bss.
watch, which samples without ELF parsing, calls the same mappings the
same: its per-kind sizes (bss, anon) and libc's per-object bss are the
ones show gives (the old watch took any rw-p mapping after an object's
last mapping as its bss, show called it anon).  Skips (77) if libc has
no .bss tail or the pages after it are taken.

The kernel's smaps figures are of the whole merged mapping: show
apportions them (smaps-split.c), so the tail's RSS is its own resident
pages (counted here from /proc/PID/pagemap), the target's 4 touched pages
are the rest's, the two sum to the mapping's Rss, Anonymous and
Private_Dirty, and show's RSS and ANON over all rows are smaps' totals
(the old show gave the tail none and the rest the whole mapping's).

usage: test_bss_merged.py MEMLAYOUT TARGET_ANON_AFTER
"""
import json
import os
import struct
import subprocess
import sys

from e2e import (Target, addr, check, check_eq, done, region_at, run,
                 show_json)

LIBC = 'libc.so.6'


def smaps(pid):
    """(start, end, {field: bytes}) of each mapping in /proc/PID/smaps."""
    out = []
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            head = line.split()
            if '-' in head[0] and not head[0].endswith(':'):
                lo, hi = head[0].split('-')
                out.append((int(lo, 16), int(hi, 16), {}))
            elif len(head) == 3 and head[2] == 'kB':
                out[-1][2][head[0].rstrip(':')] = int(head[1]) * 1024
    return out


def resident(pid, lo, hi):
    """Bytes of [lo, hi) present in RAM, from /proc/PID/pagemap."""
    page = os.sysconf('SC_PAGE_SIZE')
    with open('/proc/%d/pagemap' % pid, 'rb') as f:
        f.seek(lo // page * 8)
        data = f.read((hi - lo) // page * 8)
    return sum(page for (e,) in struct.iter_unpack('<Q', data) if e >> 63)


def split_figures(ml, pid, last, anon, end):
    cols = ('RSS', 'ANON', 'PRIVATE_DIRTY', 'SWAP')
    regions = show_json(ml, '-o', 'START,END,' + ','.join(cols), pid) or []
    tail, rest = region_at(regions, anon - 1), region_at(regions, anon)
    vma = [m for m in smaps(pid) if m[0] <= last < m[1]]
    if not check(tail and rest and len(vma) == 1 and vma[0][1] == end,
                 'smaps: one mapping from the tail to the target\'s end', vma):
        return
    whole = vma[0][2]
    page = os.sysconf('SC_PAGE_SIZE')
    for col in cols:
        key = {'RSS': 'Rss', 'ANON': 'Anonymous', 'PRIVATE_DIRTY': 'Private_Dirty',
               'SWAP': 'Swap'}[col]
        c = col.lower()
        check_eq((tail.get(c) or 0) + (rest.get(c) or 0), whole[key],
                 'split %s: the two rows sum to the mapping\'s %s' % (c, key))
    check_eq(rest.get('rss'), end - anon,
             'split rss: the target\'s touched pages are the rest\'s')
    check_eq(tail.get('rss'), resident(pid, last, anon),
             'split rss: the tail\'s own resident pages (pagemap)')
    check((tail.get('rss') or 0) % page == 0 and (tail.get('rss') or 0) > 0,
          'split rss: whole pages, some (libc writes its .bss)', tail)
    for col, key in (('rss', 'Rss'), ('anon', 'Anonymous')):
        check_eq(sum(r.get(col) or 0 for r in regions),
                 sum(m[2].get(key, 0) for m in smaps(pid)),
                 'show\'s %s over all rows: smaps\' total' % col)


def main():
    ml, target = sys.argv[1], sys.argv[2]
    try:
        t = Target([target, LIBC, 'tail', '4'])
    except RuntimeError as e:
        print('skip: bss-merged: %s' % e)
        sys.exit(77)
    with t:
        last, anon, end = t.facts['last'], t.facts['anon'], t.facts['anon_end']
        regions = show_json(ml, '-o', 'START,END,KIND,OBJECT,SECTIONS',
                            t.pid) or []
        tail = region_at(regions, anon - 1)
        rest = region_at(regions, anon)
        check(tail is not None and tail['kind'] == 'bss' and
              (tail.get('object') or '').endswith('/' + LIBC) and
              addr(tail['start']) == last and addr(tail['end']) == anon,
              'the tail up to the target mapping is libc\'s bss', tail,
              hex(last), hex(anon))
        check(tail is not None and '.bss' in (tail.get('sections') or []),
              'the tail lists .bss', tail)
        check(rest is not None and rest['kind'] == 'anon' and
              not rest.get('object') and addr(rest['start']) == anon and
              addr(rest['end']) == end,
              'the target\'s mapping is anon, from its start to its end',
              rest, hex(anon), hex(end))
        starts = [addr(r['start']) for r in regions]
        check(starts == sorted(starts) and all(
            addr(a['end']) <= addr(b['start'])
            for a, b in zip(regions, regions[1:])),
            'regions sorted and disjoint')
        res = run(ml, 'where', '-J', '-b', t.pid, '%#x' % (last + 16))
        if check_eq(res.returncode, 0, 'where exit status'):
            w = json.loads(res.stdout)['addresses'][0]
            check(w.get('kind') == 'bss' and
                  (w.get('object') or '').endswith('/' + LIBC) and
                  w.get('section') == '.bss',
                  'where in the tail: libc, .bss', w.get('kind'),
                  w.get('object'), w.get('section'), w.get('symbol'))
        split_figures(ml, t.pid, last, anon, end)
        # watch: the same kinds and objects as show
        res = run(ml, 'watch', '-J', '-c', '1', t.pid)
        check_eq(res.returncode, 0, 'watch exit status')
        lines = [json.loads(l) for l in res.stdout.decode().splitlines()]
        sample = next((l for l in lines if 'sample' in l), None)
        if check(sample is not None, 'watch printed a sample', res.stdout[:300]):
            for kind in ('bss', 'anon'):
                want = sum(addr(r['end']) - addr(r['start'])
                           for r in regions if r['kind'] == kind)
                got = sample['kinds'].get(kind, {}).get('vsize', 0)
                check_eq(got, want, 'watch: %s vsize as show sums it' % kind)
            want = sum(addr(r['end']) - addr(r['start']) for r in regions
                       if r['kind'] == 'bss' and
                       (r.get('object') or '').endswith('/' + LIBC))
            libc = [o for o in sample.get('objects', [])
                    if o['name'].endswith('/' + LIBC)]
            check(libc and libc[0]['bss'] == want,
                  'watch: libc\'s bss as show has it (%d)' % want,
                  libc and libc[0])
    done()


main()
