# SPDX-License-Identifier: MIT
"""test_linkage.py - libdw and jansson are loaded on first use, not linked:
the memlayout executable names no libdw, libjansson (nor libdw's liblzma
and libbz2) among its DT_NEEDED libraries, and a command that needs
neither (show --self) does not have them mapped; one that needs libdw
(where on an address in a file's text) gets its section.
The dynamic section is read here (no readelf needed).

usage: test_linkage.py MEMLAYOUT
"""
import os
import re
import struct
import sys

from e2e import check, done, run, show_json

LAZY = ('libdw.so', 'libjansson.so', 'liblzma.so', 'libbz2.so')


def needed(path):
    """The DT_NEEDED names of ELF file path (32- or 64-bit, little-endian)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[5] != 1:
        return None
    is64 = data[4] == 2
    if is64:
        phoff, = struct.unpack_from('<Q', data, 0x20)
        phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
        ph_fmt, dyn_fmt = '<IIQQQQQQ', '<qQ'
    else:
        phoff, = struct.unpack_from('<I', data, 0x1c)
        phentsize, phnum = struct.unpack_from('<HH', data, 0x2a)
        ph_fmt, dyn_fmt = '<IIIIIIII', '<iI'
    loads, dynamic = [], None
    for i in range(phnum):
        p = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
        if is64:
            p_type, p_offset, p_vaddr, p_filesz = p[0], p[2], p[3], p[5]
        else:
            p_type, p_offset, p_vaddr, p_filesz = p[0], p[1], p[2], p[4]
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []
    entries, strtab = [], None
    size = struct.calcsize(dyn_fmt)
    for off in range(dynamic[0], dynamic[0] + dynamic[1], size):
        tag, val = struct.unpack_from(dyn_fmt, data, off)
        if tag == 0:
            break
        if tag == 5:               # DT_STRTAB, an address
            strtab = next((o + val - v for v, o, n in loads if v <= val < v + n), None)
        entries.append((tag, val))
    if strtab is None:
        return None
    return [data[strtab + v:data.index(b'\0', strtab + v)].decode()
            for t, v in entries if t == 1]      # DT_NEEDED


def main():
    ml = sys.argv[1]
    names = needed(ml)
    check(names is not None, 'the dynamic section of memlayout is readable', ml)
    names = names or []
    check('libelf.so.1' in names and 'libsmartcols.so.1' in names,
          'DT_NEEDED has libelf and libsmartcols (the parser works)', names)
    check(not [n for n in names if n.startswith(LAZY)],
          'DT_NEEDED names no libdw, libjansson, liblzma, libbz2', names)

    regions = show_json(ml, '-o', 'START,KIND,OBJECT', '--self') or []
    objects = {r.get('object') or '' for r in regions}
    check(regions and not [o for o in objects if LAZY[0] in o or LAZY[1] in o],
          'show --self: libdw and libjansson are not mapped', sorted(objects))

    # Symbols need libdw, loaded then: an address in this script's own
    # executable text (python's), from /proc/self/maps.
    with open('/proc/self/maps') as f:
        text = next((l.split('-')[0] for l in f
                     if l.split()[1] == 'r-xp' and '/' in l), None)
    check(text is not None, 'this script has a file-backed text mapping')
    p = run(ml, 'where', os.getpid(), '0x' + (text or '0'))
    out = p.stdout.decode('utf-8', 'replace')
    check(p.returncode == 0 and re.search(r'^  section +\.\w', out, re.M),
          'where: a section, through the loaded libdw', p.returncode, out,
          p.stderr.decode('utf-8', 'replace'))
    done()


main()
