# SPDX-License-Identifier: MIT
"""test_where_sections.py - show and where name the same section for an
address: the sections of a mapping are read once (elf.c), and where names
the one the snapshot holds.

On a program with thread-local storage (target-tls.c: .tdata, .tbss,
.data, .bss), run twice: as built, and as a copy with its section headers
cut off (e_shoff, e_shnum and e_shstrndx zeroed: the file then has only
program headers, and show lists pseudo-sections such as [LOAD#2] and
[PT_TLS]).  For every address tried -- the first, middle and last byte of
each section readelf -S lists in the image (SHF_ALLOC, not .tbss) for
the program as built, of each PT_LOAD's bytes in memory for the copy --
where -J names a section, and it is one of the SECTIONS show -J lists for
the region holding the address; for the program as built it is the
section readelf places there.

usage: test_where_sections.py MEMLAYOUT TARGET-TLS
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from e2e import Target, addr, check, check_eq, done, run, show_json, region_at

SEC_RE = re.compile(r'^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+'
                    r'[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*)\s')
LOAD_RE = re.compile(r'^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+'
                     r'0x([0-9a-f]+)\s+0x([0-9a-f]+)')


def readelf(*args):
    return subprocess.run(['readelf'] + list(args), capture_output=True,
                          text=True).stdout


def sections(path):
    """(name, addr, size) of each section in the image, readelf's order."""
    out = []
    for line in readelf('-SW', path).splitlines():
        m = SEC_RE.match(line)
        if not m:
            continue
        name, typ, a, size, flags = (m.group(1), m.group(2), int(m.group(3), 16),
                                     int(m.group(4), 16), m.group(5))
        if 'A' in flags and size > 0 and not (typ == 'NOBITS' and 'T' in flags):
            out.append((name, a, size))
    return out


def loads(path):
    """(vaddr, memsz) of each PT_LOAD."""
    out = []
    for line in readelf('-lW', path).splitlines():
        m = LOAD_RE.match(line)
        if m:
            out.append((int(m.group(2), 16), int(m.group(4), 16)))
    return out


def cut_section_headers(src, dst):
    """A copy of the 64-bit ELF src with no section headers."""
    data = bytearray(open(src, 'rb').read())
    if data[4] != 2:
        return False
    struct.pack_into('<Q', data, 0x28, 0)       # e_shoff
    struct.pack_into('<HH', data, 0x3c, 0, 0)   # e_shnum, e_shstrndx
    with open(dst, 'wb') as f:
        f.write(data)
    os.chmod(dst, 0o755)
    return True


def probe(ml, path, want_names):
    """Run path and compare where with show at each address tried."""
    secs = sections(path)
    tried = 0
    with Target([path]) as t:
        regions = show_json(ml, '-o', 'START,END,OFFSET,KIND,OBJECT,SECTIONS', t.pid) or []
        mine = [r for r in regions if r.get('object') == os.path.realpath(path)]
        first = [r for r in mine if addr(r.get('offset')) == 0]
        if not check(first, '%s: show lists the program' % path, regions):
            return 0
        bias = addr(first[0]['start'])
        spans = secs if want_names else [('LOAD', a, s) for a, s in loads(path)]
        for name, a, size in spans:
            for link in sorted({a, a + size // 2, a + size - 1}):
                at = bias + link
                r = region_at(regions, at)
                if r is None or r.get('object') != os.path.realpath(path):
                    continue   # a .bss past the file's pages: its own region
                res = run(ml, 'where', '-J', '-b', t.pid, '%#x' % at)
                what = '%s %s+%#x (%#x)' % (os.path.basename(path), name, link - a, at)
                if not check_eq(res.returncode, 0, what + ': where exit status'):
                    continue
                w = json.loads(res.stdout)['addresses'][0]
                tried += 1
                listed = r.get('sections') or []
                check(w.get('section') is not None and w.get('section') in listed,
                      what + ': where names a section show lists for its region',
                      w.get('section'), listed)
                if want_names:
                    inside = [n for n, sa, ss in secs if sa <= link < sa + ss]
                    check(w.get('section') == inside[-1],
                          what + ': the section readelf places there',
                          w.get('section'), inside)
    return tried


def main():
    ml, target = sys.argv[1], sys.argv[2]
    if not shutil.which('readelf'):
        print('skip: where-sections: no readelf')
        sys.exit(77)
    if not any(n == '.tdata' for n, _, _ in sections(target)):
        print('skip: where-sections: the target has no .tdata')
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix='ml-where-sections-')
    try:
        built = os.path.join(tmp, 'target-tls')
        shutil.copy(target, built)
        bare = os.path.join(tmp, 'target-tls-noshdr')
        tried = probe(ml, built, True)
        if cut_section_headers(target, bare):
            tried += probe(ml, bare, False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    check(tried > 0, 'some addresses tried')
    done()


main()
