# SPDX-License-Identifier: MIT
"""test_where_tbss.py - where and show name the same sections: .tbss
(SHT_NOBITS with SHF_TLS, the TLS template's zeroes) has no address in
the image -- its sh_addr overlaps the sections after .tdata, and readelf
and gdb give it no memory -- so neither view names it for an address.

On this test's own process: for every object it maps that has a .tbss
(libc has one), addresses at .tbss's link address + 0, +0x10, ... up to
its size, relocated by the object's load bias: where -J names as SECTION
the section readelf -S places there (SHF_ALLOC, not .tbss; none if
none), never .tbss, and that section is one of the SECTIONS show -J lists
for the region holding the address.  Skips (77) without readelf or
without an object with a .tbss.

usage: test_where_tbss.py MEMLAYOUT
"""
import json
import os
import re
import shutil
import subprocess
import sys

from e2e import addr, check, check_eq, done, run, show_json, region_at

SEC_RE = re.compile(r'^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+'
                    r'[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*)\s')


def sections(path):
    """(name, type, addr, size, flags) of each section readelf lists."""
    out = subprocess.run(['readelf', '-SW', path], capture_output=True,
                         text=True).stdout
    secs = []
    for line in out.splitlines():
        m = SEC_RE.match(line)
        if m:
            secs.append((m.group(1), m.group(2), int(m.group(3), 16),
                         int(m.group(4), 16), m.group(5)))
    return secs


def in_image(s):
    name, typ, a, size, flags = s
    return 'A' in flags and size > 0 and not (typ == 'NOBITS' and 'T' in flags)


def main():
    ml = sys.argv[1]
    if not shutil.which('readelf'):
        print('skip: where-tbss: no readelf')
        sys.exit(77)
    pid = os.getpid()
    regions = show_json(ml, '-o', 'START,END,OFFSET,KIND,OBJECT,SECTIONS',
                        pid) or []
    tried = 0
    for obj in sorted({r['object'] for r in regions if r.get('object')}):
        if not obj.startswith('/') or not os.path.isfile(obj):
            continue
        secs = sections(obj)
        tbss = [s for s in secs if s[0] == '.tbss' and s[1] == 'NOBITS']
        first = [r for r in regions if r.get('object') == obj and
                 addr(r.get('offset')) == 0]
        if not tbss or not first:
            continue
        # bias: the first mapping maps file offset 0 at link address 0 (a
        # shared object; the test skips an executable with a .tbss)
        if not re.search(r'Type:\s+DYN', subprocess.run(
                ['readelf', '-hW', obj], capture_output=True,
                text=True).stdout):
            continue
        bias = addr(first[0]['start'])
        _, _, taddr, tsize, _ = tbss[0]
        for off in range(0, tsize, 0x10):
            link = taddr + off
            want = [s[0] for s in secs if in_image(s) and
                    s[2] <= link < s[2] + s[3]]
            a = bias + link
            res = run(ml, 'where', '-J', '-b', pid, '%#x' % a)
            what = '%s .tbss+%#x (%#x)' % (os.path.basename(obj), off, a)
            if not check_eq(res.returncode, 0, what + ': where exit status'):
                continue
            w = json.loads(res.stdout)['addresses'][0]
            tried += 1
            check(w.get('section') != '.tbss', what + ': not .tbss', w.get('section'))
            check(w.get('section') == (want[0] if want else None),
                  what + ': the section readelf places there', w.get('section'), want)
            r = region_at(regions, a)
            listed = (r or {}).get('sections') or []
            check(w.get('section') is None or w.get('section') in listed,
                  what + ': a section show lists for its region',
                  w.get('section'), listed)
    if not tried:
        print('skip: where-tbss: no shared object with a .tbss mapped')
        sys.exit(77)
    done()


main()
