# SPDX-License-Identifier: MIT
"""test_where.py - memlayout where on target-where (built -O0 -g) and
three builds of a shared object (DWARF inside; stripped with a separate
debug file; stripped with none).

Checks, on a live target: the kind, section and symbol of a global in
.data, an address deep in a .bss array, a const in .rodata, a function
(with its source line, the file joined with the compilation directory), a local of main (main stack, distance below the
top), a heap block (offset, brk), a thread's local (its TID); the static
function of the library is found through the separate debug file (.symtab
from it, its line) and, without a debug file, the global comes from
.dynsym with the source unknown; an untouched page is not present and
turns present once the target touches it; an unmapped page between two
mappings, address 0 and a kernel address get their hole kinds and
neighbours; the page-table walk has this machine's levels and the
address's indices; a touched 2 MiB-aligned MADV_HUGEPAGE area reports the
page size smaps implies (a 2 MiB THP when AnonHugePages says so, its walk
ending at the PMD); every PLT entry objdump names NAME@plt is named so; the padding after
.fini, in no section, has no symbol; clock_gettime in the vDSO is named
by an alias its .dynsym gives (and gdb agrees, as root); the block and
the table agree with the JSON; malformed
addresses exit 2; a missing process exits 1.

usage: test_where.py MEMLAYOUT TARGET LIB LIB_LINKED LIB_BARE TARGET_SRC LIB_SRC
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from e2e import Target, addr, check, check_eq, done, run


def marker_line(src, name):
    """The line number of the 'LINE:name' marker in src."""
    with open(src) as f:
        for i, line in enumerate(f, 1):
            if 'LINE:%s */' % name in line:
                return i
    raise RuntimeError('no marker %s in %s' % (name, src))


def where_json(ml, *args, what):
    res = run(ml, 'where', '-J', '-b', *args)
    if not check(res.returncode == 0, '%s exits 0' % what, res.returncode,
                 res.stderr.decode(errors='replace')):
        return []
    try:
        doc = json.loads(res.stdout)
    except ValueError as e:
        check(False, '%s prints JSON' % what, str(e), res.stdout[:500])
        return []
    return doc.get('addresses', [])


def wait_blocked(pid, tids, what):
    """Wait (at most 20 s) until every thread in tids is blocked in
    read(2).  The target prints ready=0x1 just before its main thread
    enters read(), and its second thread announces itself just before its
    own read(): on a loaded machine either may still be running when the
    test asks, and a running thread has no stack pointer in
    /proc/PID/task/TID/syscall, so its stack would not be recognised."""
    import platform
    # read(2) by number: a thread seen in another system call (the write
    # of its last printf) may be back in user space when memlayout looks.
    nr_read = {'aarch64': '63'}.get(platform.machine(), '0')
    deadline = time.monotonic() + 20
    pending = list(tids)
    while pending and time.monotonic() < deadline:
        with open('/proc/%d/task/%d/syscall' % (pid, pending[0])) as f:
            if f.read().split(' ', 1)[0] != nr_read:
                time.sleep(0.005)
                continue
        pending.pop(0)
    check(not pending, '%s: threads %s blocked in read(2)' % (what, tids))


def expected_walk(a):
    """The page-table walk of address a on this machine: 'PGD i PUD j ...'
    (x86-64, 5 levels with la57 in /proc/cpuinfo) or 'L0 i ... L3 l'
    (aarch64, 4K granule), each index the address's 9 bits at that level."""
    import platform
    if platform.machine() == 'aarch64':
        names = ['L0', 'L1', 'L2', 'L3']
    else:
        with open('/proc/cpuinfo') as f:
            la57 = ' la57' in f.read()
        names = ['PGD', 'P4D', 'PUD', 'PMD', 'PTE'] if la57 else ['PGD', 'PUD', 'PMD', 'PTE']
    shifts = [12 + 9 * i for i in range(len(names) - 1, -1, -1)]
    return ' '.join('%s %d' % (n, (a >> s) & 511) for n, s in zip(names, shifts))


def check_fields(a, want, what):
    for k, v in want.items():
        check_eq(a.get(k), v, '%s: %s' % (what, k))


def check_globals(ml, t, src):
    f = t.facts
    names = ['data', 'bss', 'rodata', 'func', 'local', 'heap', 'thread_local']
    wait_blocked(t.pid, [t.pid, f['thread_tid']], 'before where -J globals')
    ans = where_json(ml, t.pid, *[hex(f[n]) for n in names], what='where -J globals')
    if not check_eq(len(ans), len(names), 'one answer per address'):
        return
    a = dict(zip(names, ans))
    exe = os.path.realpath(t.argv[0])
    for n in names:
        check_eq(addr(a[n]['addr']), f[n], '%s: addr echoed' % n)
    check_fields(a['data'], {'kind': 'data', 'section': '.data', 'symbol': 'where_data',
                             'symoff': '0x0', 'symtab': '.symtab', 'object': exe}, 'data')
    check_fields(a['bss'], {'kind': 'bss', 'section': '.bss', 'symbol': 'where_bss',
                            'symoff': hex(40000), 'object': exe, 'fileoff': None}, 'bss')
    check_fields(a['rodata'], {'kind': 'rodata', 'section': '.rodata',
                               'symbol': 'where_rodata', 'object': exe}, 'rodata')
    check_fields(a['func'], {'kind': 'text', 'section': '.text', 'symbol': 'where_func',
                             'symoff': '0x0', 'perms': 'r-xp'}, 'func')
    line = marker_line(src, 'where_func')
    srcs = a['func'].get('source') or ''
    # The line table says ../tests/where/target-where.c, relative to the
    # build directory (DW_AT_comp_dir): shown joined and normalised.
    want = '%s:%d' % (os.path.normpath(os.path.abspath(src)), line)
    check(srcs == want or srcs.startswith(want + ':'),
          'func: source is %s (its opening brace), the full path' % want, srcs)
    check_eq(a['func'].get('debuginfo'), exe, 'func: DWARF from the executable')
    # The main stack: whose, and how far below its top.
    loc = a['local']
    check_fields(loc, {'kind': 'stack', 'stack': t.pid}, 'local')
    check_eq(loc.get('belowtop'), addr(loc['end']) - f['local'], 'local: below the top')
    check(isinstance(loc.get('room'), int) and loc['room'] > 0 and
          loc.get('roomlimit') in ('RLIMIT_STACK', 'the stack guard gap', 'unlimited'),
          'local: room to grow and its limit', loc.get('room'), loc.get('roomlimit'))
    check(loc.get('sp') is not None and addr(loc['sp']) <= f['local'],
          'local: above the main thread\'s sp', loc.get('sp'))
    # The heap: offset from start and the brk.
    h = a['heap']
    check_eq(h.get('kind'), 'heap', 'heap: kind')
    check(isinstance(h.get('tobrk'), int) and f['heap'] + h['tobrk'] == addr(h['end']),
          'heap: addr + distance to brk == end of [heap]', h.get('tobrk'), h.get('end'))
    check(isinstance(h.get('heapoff'), int) and 0 < h['heapoff'] <= f['heap'] - addr(h['start']),
          'heap: offset from the heap start', h.get('heapoff'))
    # A thread's stack.
    check_fields(a['thread_local'], {'kind': 'thread-stack', 'stack': f['thread_tid'],
                                     'roomlimit': 'the guard page'}, 'thread local')
    # Pages of mapped addresses: present with a PFN (root) or hidden.
    d = a['data']
    check_eq(d.get('present'), True, 'data: page present')
    check_eq(d.get('vpn'), hex(f['data'] // os.sysconf('SC_PAGE_SIZE')), 'data: VPN')
    check_eq(d.get('walk'), expected_walk(f['data']), 'data: page-table walk of a base page')
    if os.geteuid() == 0:
        check(d.get('pfn') is not None and addr(d['phys']) % os.sysconf('SC_PAGE_SIZE') ==
              f['data'] % os.sysconf('SC_PAGE_SIZE') and d.get('mapcount', 0) >= 1,
              'data: root sees PFN, physical address, map count', d)


def check_libs(ml, t, lib_src):
    f = t.facts
    line = marker_line(lib_src, 'lib_static')
    names = ['lib1_static', 'lib2_static', 'lib2_global', 'lib3_global', 'lib3_static']
    ans = where_json(ml, t.pid, *[hex(f[n]) for n in names], what='where -J library')
    if not check_eq(len(ans), len(names), 'one answer per library address'):
        return
    a = dict(zip(names, ans))
    for n in ('lib1_static', 'lib2_static'):
        check_fields(a[n], {'symbol': 'where_lib_static', 'symtab': '.symtab',
                            'section': '.text'}, n)
        srcs = a[n].get('source') or ''
        want = '%s:%d' % (os.path.normpath(os.path.abspath(lib_src)), line)
        check(srcs == want or srcs.startswith(want + ':'),
              '%s: source is %s (its opening brace), the full path' % (n, want), srcs)
    check(str(a['lib2_static'].get('debuginfo', '')).endswith('wherelib.debug'),
          'stripped library: DWARF from the separate debug file', a['lib2_static'].get('debuginfo'))
    check_fields(a['lib3_global'], {'symbol': 'where_lib_global', 'symtab': '.dynsym',
                                    'source': None, 'debuginfo': None}, 'bare library global')
    check_eq(a['lib3_static'].get('source'), None, 'bare library: no source line')
    check(a['lib3_static'].get('symbol') in (None,) or a['lib3_static'].get('symoff') != '0x0',
          'bare library: the static function is not named wrongly', a['lib3_static'])
    res = run(ml, 'where', t.pid, hex(f['lib3_global']))
    check(b'source     unknown (no DWARF' in res.stdout,
          'block: a missing debug file makes the source unknown', res.stdout)


def check_pagemap(ml, t):
    f = t.facts
    before = where_json(ml, t.pid, hex(f['fresh']), what='where fresh page')
    check(before and before[0].get('present') is False and before[0].get('kind') == 'anon',
          'untouched page: anon, not present', before)
    t.proc.stdin.write(b'touch\n')
    t.proc.stdin.flush()
    line = t.proc.stdout.readline().decode()
    check_eq(line.strip(), 'touched=0x1', 'target touched the page')
    after = where_json(ml, t.pid, hex(f['fresh']), what='where touched page')
    check(after and after[0].get('present') is True and after[0].get('exclusive') is True,
          'touched page: present, exclusive', after)


def check_holes(ml, t):
    f = t.facts
    page = os.sysconf('SC_PAGE_SIZE')
    ans = where_json(ml, t.pid, hex(f['hole']), '0', '0xffff900000000000',
                     what='where holes')
    if not check_eq(len(ans), 3, 'three hole answers'):
        return
    hole, null, kern = ans
    check_fields(hole, {'kind': 'unmapped', 'hole': 'gap', 'belowdist': 8,
                        'abovedist': page - 8}, 'unmapped page')
    check(all(k in hole and hole[k] is None for k in
              ('present', 'swapped', 'fileshared', 'exclusive', 'guardpg', 'softdirty', 'pfn')),
          'unmapped page: page flags unknown (null, not false), no frame', hole)
    check(str(hole.get('below', '')).startswith('anon') and
          str(hole.get('above', '')).startswith('anon'), 'hole neighbours are the two pages',
          hole.get('below'), hole.get('above'))
    check_fields(null, {'kind': 'unmapped', 'hole': 'null-zone'}, 'address 0')
    res = run(ml, 'where', '-J', '--no-pagemap', '-o', 'ADDR,PRESENT,EXCLUSIVE', t.pid,
              hex(t.facts['data']))
    check(res.returncode == 0 and json.loads(res.stdout)['addresses'][0] ==
          {'addr': hex(t.facts['data']), 'present': None, 'exclusive': None},
          'without pagemap the page flags are null in JSON', res.stdout)
    check_fields(kern, {'kind': 'unmapped', 'hole': 'kernel'}, 'kernel address')
    res = run(ml, 'where', t.pid, '0')
    check(b'null-zone: the NULL guard zone' in res.stdout, 'block names the NULL zone',
          res.stdout)
    res = run(ml, 'where', '-t', '-r', '-o', 'ADDR,KIND,HOLE', t.pid, hex(f['hole']))
    check_eq(res.stdout.decode().split(), ['ADDR', 'KIND', 'HOLE', hex(f['hole']),
                                           'unmapped', 'gap'], 'raw table of a hole')
    # The last address, 2^64 - 1, is in the kernel half like the rest of
    # it (it was "hole: mapped", with no region).
    res = run(ml, 'where', '-t', '-r', '-n', '-o', 'ADDR,KIND,HOLE', t.pid, 'ffffffffffffffff')
    check_eq(res.stdout.decode().split(), ['0xffffffffffffffff', 'unmapped', 'kernel'],
             'the last address is in the kernel half')


def anon_huge_kib(pid, a):
    """AnonHugePages (kB) of the smaps entry holding address a."""
    inside = False
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            head = line.split()[0]
            if '-' in head and not head.endswith(':'):
                lo, hi = (int(x, 16) for x in head.split('-'))
                inside = lo <= a < hi
            elif inside and head == 'AnonHugePages:':
                return int(line.split()[1])
    return None


def check_thp(ml, t):
    """The page size where reports agrees with the kernel's smaps: a 2 MiB
    huge page when the area got one, a base page otherwise (root: frame
    flags), unknown without root."""
    a = t.facts['thp']
    # khugepaged may collapse the area between where and the smaps read:
    # ask again until smaps says the same before and after.
    for _ in range(5):
        before = anon_huge_kib(t.pid, a)
        ans = where_json(ml, t.pid, hex(a), what='where THP area')
        huge = anon_huge_kib(t.pid, a)
        if huge == before:
            break
    if not ans or not check(huge is not None, 'smaps has the THP area', hex(a)):
        return
    got = ans[0].get('pagesize')
    if os.geteuid() != 0:
        want = 'unknown'
    elif huge >= 2048:
        want = '2097152 huge'
    else:
        want = str(os.sysconf('SC_PAGE_SIZE'))
    check_eq(got, want, 'THP area page size (AnonHugePages %s kB)' % huge)
    walk = expected_walk(a)
    if want.endswith('huge'):
        check(ans[0].get('kflags') and 'thp' in ans[0]['kflags'],
              'THP: the frame flags say thp', ans[0].get('kflags'))
        # A PMD-mapped huge page: the walk ends at the PMD entry.
        walk = walk.rsplit(' ', 2)[0]
    check_eq(ans[0].get('walk'), walk, 'THP area walk (page size %s)' % got)


def link_addr(exe, name):
    """The link-time address of symbol name in exe (nm), or None."""
    res = subprocess.run(['nm', exe], stdout=subprocess.PIPE, universal_newlines=True)
    for line in res.stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[2] == name:
            return int(p[0], 16)
    return None


def check_plt_and_padding(ml, t):
    """Every PLT entry objdump names NAME@plt is named so by where, 5 bytes
    in (objdump is the oracle); an address in the padding after .fini, in
    no section, has no symbol (it was _init+0x... and _fini+0x...)."""
    exe = os.path.realpath(t.argv[0])
    func = link_addr(exe, 'where_func')
    if not check(func is not None, 'nm finds where_func in the target'):
        return
    bias = t.facts['func'] - func
    want = []
    for sec in ('.plt', '.plt.sec', '.plt.got'):
        res = subprocess.run(['objdump', '-d', '--section=' + sec, exe],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True)
        for line in res.stdout.splitlines():
            p = line.split()
            if len(p) == 2 and p[1].endswith('@plt>:') and '-0x' not in p[1]:
                want.append((int(p[0], 16) + bias + 5, p[1][1:-2], sec))
    if not check(want, 'objdump names PLT entries in the target'):
        return
    ans = where_json(ml, t.pid, *[hex(a) for a, _, _ in want], what='where PLT entries')
    for (a, name, sec), got in zip(want, ans):
        check_eq((got.get('symbol'), got.get('symoff'), got.get('section')), (name, '0x5', sec),
                 'PLT entry %s+5 as objdump names it' % name)
    fini = None
    res = subprocess.run(['readelf', '-SW', exe], stdout=subprocess.PIPE, universal_newlines=True)
    for line in res.stdout.replace('[ ', '[').splitlines():
        p = line.split()
        if len(p) > 5 and p[1] == '.fini':
            fini = int(p[3], 16) + int(p[5], 16)
    page = os.sysconf('SC_PAGE_SIZE')
    pad = (fini + 15) // 16 * 16 + 16 if fini else None
    if not pad or pad >= (fini + page - 1) // page * page:
        print('skip: padding after .fini: none in the same page here')
        return
    ans = where_json(ml, t.pid, hex(pad + bias), what='where padding after .fini')
    check(ans and ans[0].get('kind') == 'text' and ans[0].get('symbol') is None and
          ans[0].get('section') is None,
          'padding after .fini: text, in no section, no symbol (gdb: No symbol matches)',
          ans and ans[0])


def vdso_names(pid, want=('clock_gettime', '__vdso_clock_gettime', '__kernel_clock_gettime')):
    """(address of clock_gettime in the target's vDSO, the names the vDSO's
    .dynsym gives that address), from its image in /proc/PID/mem (the test
    is the target's parent, so it may read it); None if there is none."""
    import struct
    with open('/proc/%d/maps' % pid) as f:
        spans = [l.split()[0] for l in f if l.rstrip().endswith('[vdso]')]
    if not spans:
        return None
    lo, hi = (int(x, 16) for x in spans[0].split('-'))
    with open('/proc/%d/mem' % pid, 'rb') as f:
        f.seek(lo)
        img = f.read(hi - lo)
    if img[:4] != b'\x7fELF' or img[4] != 2:
        return None
    shoff, = struct.unpack_from('<Q', img, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', img, 0x3a)
    shdrs = [struct.unpack_from('<IIQQQQIIQQ', img, shoff + i * shentsize) for i in range(shnum)]
    by_addr = {}
    for sh in shdrs:
        if sh[1] != 11:                    # SHT_DYNSYM
            continue
        strtab = shdrs[sh[6]][4]
        for k in range(sh[5] // 24):
            st_name, st_info, _, st_shndx, st_value, _ = struct.unpack_from('<IBBHQQ', img, sh[4] + k * 24)
            name = img[strtab + st_name:img.index(b'\0', strtab + st_name)].decode()
            if st_shndx and st_value:
                by_addr.setdefault(st_value, set()).add(name)
    for a, names in by_addr.items():
        if names & set(want):
            return lo + a, names
    return None


def check_vdso(ml, t):
    """A vDSO function is named as its .dynsym names it (gdb resolves it
    too); memlayout reads the image from the target's memory, so an
    ordinary user under Yama's ptrace_scope >= 1 gets the region only."""
    got = vdso_names(t.pid)
    if not got:
        print('skip: vdso: no [vdso] with clock_gettime in the target')
        return
    a, names = got
    ans = where_json(ml, t.pid, hex(a + 3), what='where vdso')
    if not ans:
        return
    scope = '0'
    if os.path.exists('/proc/sys/kernel/yama/ptrace_scope'):
        with open('/proc/sys/kernel/yama/ptrace_scope') as f:
            scope = f.read().strip()
    s = ans[0]
    if os.geteuid() != 0 and scope != '0' and s.get('symbol') is None:
        print('skip: vdso: memlayout may not read the target\'s memory (ptrace_scope %s)' % scope)
        return
    check(s.get('kind') == 'vdso' and s.get('symbol') in names and s.get('symoff') == '0x3' and
          s.get('section') == '.text', 'vdso: clock_gettime+3 named (%s)' % sorted(names), s)
    import shutil
    if shutil.which('gdb') and os.geteuid() == 0:
        res = subprocess.run(['gdb', '-p', str(t.pid), '-batch', '-ex', 'info symbol %#x' % (a + 3)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=60)
        said = [l for l in res.stdout.splitlines() if ' + 3 in section .text' in l]
        check(said and said[0].split()[0] in names,
              'gdb names the same vDSO address with an alias of the same symbol', res.stdout)


def check_batch_and_errors(ml, t):
    f = t.facts
    # Addresses are hex with or without 0x (pmap and maps print 16 digits,
    # no 0x, often no letter); decimal only after 0d.
    batch = '%s\n# comment\n\n0d%d\n0xnothex\n%016x\n%d\n' % (
        hex(f['data']), f['rodata'], f['data'], f['rodata'])
    res = subprocess.run([ml, 'where', '-t', '-r', '-n', '-o', 'ADDR,SYMBOL', str(t.pid), '-'],
                         input=batch.encode(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    got = res.stdout.decode().split()
    check_eq(got[:6], [hex(f['data']), 'where_data', hex(f['rodata']), 'where_rodata',
                       hex(f['data']), 'where_data'],
             'batch: 0x hex, 0d decimal and pmap-style bare hex lines')
    check_eq(got[6:7], ['0x%x' % int(str(f['rodata']), 16)],
             'batch: bare digits are hex, not decimal')
    check_eq(res.returncode, 2, 'batch: a malformed line gives exit 2 at the end')
    check(b'0xnothex: not an address (stdin line 5)' in res.stderr,
          'batch: the malformed line is named', res.stderr)
    # From a regular file the batch reads a line ahead and prefetches its
    # region; what it prints, and in which order, is the same as from a pipe.
    batch += '%s\n%s\n0x0\n' % (hex(f['rodata']), hex(f['data']))
    for args in (['-t', '-r', '-n', '-o', 'ADDR,KIND,SYMBOL,HOLE'], []):
        argv = [ml, 'where', '--no-pagemap'] + args + [str(t.pid), '-']
        piped = subprocess.run(argv, input=batch.encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
        with tempfile.TemporaryFile() as tf:
            tf.write(batch.encode())
            tf.seek(0)
            filed = subprocess.run(argv, stdin=tf, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=60)
        check_eq((filed.returncode, filed.stdout), (piped.returncode, piped.stdout),
                 'batch %s: from a file as from a pipe' % (' '.join(args) or 'blocks'))
    for bad in ('0xzz', '12abcg', '-5', '', '0x0x5', '0d12ab', '+5', '0x'):
        res = run(ml, 'where', t.pid, bad)
        check(res.returncode == 2 and res.stdout == b'' and
              b"Try 'memlayout where --help'." in res.stderr,
              'malformed address %r: exit 2, nothing on stdout' % bad,
              res.returncode, res.stderr)
    res = run(ml, 'where', t.pid, '0xzz')
    check(res.stderr.startswith(b'memlayout: 0xzz: not an address'),
          'malformed address named first', res.stderr)
    res = run(ml, 'where', '4194303', '0x1000')
    check(res.returncode == 1 and b'no such process' in res.stderr,
          'missing process: exit 1', res.returncode, res.stderr)
    res = run(ml, 'where', t.pid)
    check_eq(res.returncode, 2, 'no address: exit 2')


def main():
    ml, target, lib, lib_linked, lib_bare, src, lib_src = sys.argv[1:8]
    with Target([target, lib, lib_linked, lib_bare]) as t:
        check_globals(ml, t, src)
        check_libs(ml, t, lib_src)
        check_holes(ml, t)
        check_thp(ml, t)
        check_plt_and_padding(ml, t)
        check_vdso(ml, t)
        check_batch_and_errors(ml, t)
        check_pagemap(ml, t)
    done()


if __name__ == '__main__':
    main()
