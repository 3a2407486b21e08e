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

usage: test_bss_merged.py MEMLAYOUT TARGET_ANON_AFTER
"""
import json
import subprocess
import sys

from e2e import (Target, addr, check, check_eq, done, region_at, run,
                 show_json)

LIBC = 'libc.so.6'


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
