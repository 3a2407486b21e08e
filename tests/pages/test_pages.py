# SPDX-License-Identifier: MIT
"""test_pages.py - `memlayout pages` end to end on target-pages (see
tests/targets/target-pages.c): counts and bar of a region with pages 0, 5,
6 written, 9 read (zero page) and 12 a guard; a page touched after a run
turns present on the next; the 2 MiB THP block is huge exactly where smaps
reports AnonHugePages for it; PAGEMAP_SCAN and pread give the same counts
for every region; RESIDENT adds up to smaps Rss; --shared-with finds libc's
text frames shared between two copies; usage and target errors.

Where the kernel has no PAGEMAP_SCAN (before 6.7, probed), only pread
is checked and --method scan must say so in one line.  What pread can
know depends on privilege: frame numbers (CAP_SYS_ADMIN) and
/proc/kpageflags tell it zero and huge pages.  Without them (an ordinary
user; FRAMES false) the test asserts the unprivileged semantics on the same
target: pread's zero and huge counts are unknown (null), the zero page
counts as resident, the bar shows 'O' for it and for huge pages, and
--shared-with refuses in one line (frames need root); PAGEMAP_SCAN still
tells everything.  As root it also runs memlayout as 'nobody' on a target
of nobody's, the same semantics.

usage: test_pages.py MEMLAYOUT TARGET_PAGES
"""
import ctypes
import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from e2e import Target, check, check_eq, done, run

TRY = "Try 'memlayout pages --help'."
MIB2 = 2 << 20


def frames_visible():
    """Whether we see what pread needs to tell zero and huge pages: a frame
    number in our own pagemap for a page we wrote, and /proc/kpageflags."""
    page = os.sysconf('SC_PAGE_SIZE')
    buf = ctypes.create_string_buffer(2 * page)
    addr = (ctypes.addressof(buf) + page - 1) // page * page
    ctypes.memset(addr, 1, 1)
    try:
        with open('/proc/self/pagemap', 'rb') as f:
            f.seek(addr // page * 8)
            entry = struct.unpack('<Q', f.read(8))[0]
        with open('/proc/kpageflags', 'rb') as f:
            f.read(8)
    except OSError:
        return False
    return entry & (1 << 54) - 1 != 0


FRAMES = frames_visible()


def pagemap_scan():
    """None if PAGEMAP_SCAN works on our own pagemap, else the ioctl's
    error (ENOTTY before Linux 6.7: pagemap has no ioctl)."""
    page = os.sysconf('SC_PAGE_SIZE')
    buf = ctypes.create_string_buffer(2 * page)
    addr = (ctypes.addressof(buf) + page - 1) // page * page
    vec = ctypes.create_string_buffer(24)              # one page_region
    arg = bytearray(struct.pack('<12Q', 96, 0, addr, addr + page, 0,
                                ctypes.addressof(vec), 1, 0, 0, 0, 8, 8))
    scan = 3 << 30 | 96 << 16 | ord('f') << 8 | 16     # _IOWR('f', 16, 96 bytes)
    try:
        with open('/proc/self/pagemap', 'rb') as f:
            fcntl.ioctl(f.fileno(), scan, arg)
    except OSError as e:
        return e.strerror
    return None


NO_SCAN = pagemap_scan()
# The methods this kernel has: pread always, PAGEMAP_SCAN from 6.7.
METHODS = ('pread',) if NO_SCAN else ('scan', 'pread')


def text(b):
    return b.decode('utf-8', 'replace')


def pages_json(ml, *args, env=None, runner=()):
    """memlayout pages -J ARGS as a list of rows, or None (a failure)."""
    argv = list(runner) + [ml, 'pages', '-J'] + [str(a) for a in args]
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, timeout=60)
    what = 'pages -J %s' % ' '.join(map(str, args))
    if not check(res.returncode == 0, what + ' exits 0', res.returncode,
                 text(res.stderr)):
        return None
    try:
        return json.loads(res.stdout)['pages']
    except (ValueError, KeyError) as e:
        check(False, what + ' prints {"pages": [...]}', str(e), text(res.stdout)[:500])
        return None


def method_env(method):
    env = dict(os.environ)
    env['MEMLAYOUT_PAGEMAP_METHOD'] = method
    return env


def one_row(rows, what):
    if rows is None or not check(len(rows) == 1, what + ': one row', rows):
        return None
    return rows[0]


def blind(method):
    """Whether method cannot tell zero and huge pages here (pread without
    frame numbers): they are unknown, and the zero page is resident."""
    return method == 'pread' and not FRAMES


def expect_bar(guard, touched=(0, 5, 6), zero='Z'):
    bar = ['.'] * 16
    for p in touched:
        bar[p] = 'O'
    bar[9] = zero
    if guard:
        bar[12] = 'G'
    return ''.join(bar)


def check_region(row, guard, touched, what, blind=False):
    """The test region's row; blind: read without frame numbers (the zero
    page is resident, zero and huge unknown)."""
    if row is None:
        return
    check_eq(row['pages'], 16, what + ': pages')
    check_eq(row['resident'], len(touched) + (1 if blind else 0), what + ': resident')
    check_eq((row['zero'], row['huge']), (None, None) if blind else (1, 0),
             what + ': zero and huge pages')
    check_eq(row['guard'], 1 if guard else 0, what + ': guard markers')
    check_eq(row['untouched'], 16 - len(touched) - 1 - (1 if guard else 0),
             what + ': untouched')
    check_eq(row['bar'], expect_bar(guard, touched, 'O' if blind else 'Z'),
             what + ': bar')


def smaps_of(pid, start):
    """The smaps fields (kB) of the mapping starting at start."""
    fields, inside = {}, False
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            head = line.split()[0]
            if '-' in head and not head.endswith(':'):
                inside = int(head.split('-')[0], 16) == start
            elif inside and head.endswith(':') and line.split()[1].isdigit():
                fields[head[:-1]] = int(line.split()[1])
    return fields


def test_region(ml, t):
    region, guard = t.facts['region'], t.facts['guard']
    for method in METHODS:
        row = one_row(pages_json(ml, '--method', method, t.pid, hex(region)),
                      'region, --method ' + method)
        check_region(row, guard, (0, 5, 6), 'region (%s)' % method, blind(method))
    # A page touched after the first run is present on the second.
    t.proc.stdin.write(b'touch 3\n')
    t.proc.stdin.flush()
    check_eq(t.proc.stdout.readline().strip(), b'touched=3', 'target touched page 3')
    for method in METHODS:
        row = one_row(pages_json(ml, t.pid, hex(region + 4096 * 2), env=method_env(method)),
                      'after touch, method ' + method)
        check_region(row, guard, (0, 3, 5, 6), 'after touch (%s)' % method,
                     blind(method))
    # A range inside it: the part asked for, clipped to the mapping.
    row = one_row(pages_json(ml, t.pid, '%#x-%#x' % (region + 4096 * 4, region + 4096 * 8)),
                  'range of 4 pages')
    if row:
        check_eq((row['start'], row['end'], row['bar']),
                 (hex(region + 4096 * 4), hex(region + 4096 * 8), '.OO.'), 'range: part and bar')


def test_thp(ml, t):
    thp = t.facts['thp']
    with open('/sys/kernel/mm/transparent_hugepage/enabled') as f:
        mode = f.read().strip()
    huge_kb = smaps_of(t.pid, thp).get('AnonHugePages')
    check(huge_kb is not None, 'smaps has the THP block at %#x' % thp)
    want = (huge_kb or 0) * 1024 // 4096
    for method in METHODS:
        row = one_row(pages_json(ml, '--method', method, t.pid, hex(thp)), 'thp ' + method)
        if not row:
            continue
        # Huge exactly where the kernel says AnonHugePages, whatever THP
        # mode (%s) gave us; the block is written whole either way.
        if blind(method):
            check_eq(row['huge'], None, 'THP block (%s, no frames): huge pages unknown'
                     % method)
        else:
            check_eq(row['huge'], want, 'THP block (%s, THP %s): huge pages = '
                     'AnonHugePages/4K' % (method, mode))
        check_eq(row['resident'], 512, 'THP block (%s): all 512 pages resident' % method)
        check_eq(row['bar'], ('H' if want == 512 and not blind(method) else 'O') * 32,
                 'THP block (%s): bar' % method)


def test_methods_agree(ml, t):
    if NO_SCAN:
        print('skip: methods-agree: PAGEMAP_SCAN: %s (Linux 6.7 added it): '
              'pread alone, nothing to compare' % NO_SCAN)
        target_error(ml, ['pages', '--method', 'scan', t.pid], 'no PAGEMAP_SCAN: '
                     '--method scan', '%d:' % t.pid, 'no PAGEMAP_SCAN')
        return
    rows = {m: pages_json(ml, '-b', '--method', m, t.pid) for m in ('scan', 'pread')}
    if rows['scan'] is None or rows['pread'] is None:
        return
    check_eq([(r['start'], r['kind']) for r in rows['scan']],
             [(r['start'], r['kind']) for r in rows['pread']], 'both methods: same rows')
    for a, b in zip(rows['scan'], rows['pread']):
        if blind('pread'):
            # What pread cannot tell: zero pages count as resident, zero
            # and huge unknown, and the bar cells differ with them.
            a = dict(a, resident=a['resident'] + a['zero'], zero=None, huge=None,
                     bar=len(a['bar']))
            b = dict(b, bar=len(b['bar']))
        check_eq(b, a, 'region %s %s: pread counts == PAGEMAP_SCAN counts%s'
                 % (a['start'], a['kind'], ' (no frames)' if blind('pread') else ''))
    rss = 0
    with open('/proc/%d/smaps_rollup' % t.pid) as f:
        for line in f:
            if line.startswith('Rss:'):
                rss = int(line.split()[1])
    check_eq(sum(r['resident'] for r in rows['scan']) * 4, rss,
             'sum of RESIDENT (kB) == smaps_rollup Rss')


def libc_text(rows, pid):
    return [r for r in rows if r['pid'] == pid and r['kind'] == 'text'
            and (r['object'] or '').split('/')[-1].startswith('libc.so')]


def test_shared_with(ml, target, t):
    if not FRAMES:
        with Target([target]) as u:
            target_error(ml, ['pages', '--shared-with', u.pid, t.pid],
                         'without frame numbers: --shared-with', '--shared-with:',
                         'physical frame numbers need root')
        return
    with Target([target]) as u:
        rows = pages_json(ml, '--shared-with', u.pid, '-o',
                          'PID,START,KIND,OBJECT,RESIDENT,ZERO,SHARED,PRIVATE', t.pid)
        if rows is None:
            return
        for pid in (t.pid, u.pid):
            text_rows = libc_text(rows, pid)
            if check(len(text_rows) == 1, 'libc text row of %d' % pid, rows):
                r = text_rows[0]
                check(r['shared'] > 0, 'libc text of %d: frames shared with the other copy' % pid, r)
                check_eq(r['shared'] + r['private'], r['resident'], 'libc text: shared + private = resident')
            mine = [r for r in rows if r['pid'] == pid and int(r['start'], 16) in
                    (t.facts['region'], u.facts['region'])]
            if check(len(mine) == 1, 'the test region of %d' % pid, rows):
                # Written pages are each one's own; the zero page is one frame for all.
                check_eq((mine[0]['shared'], mine[0]['private']), (1, mine[0]['resident']),
                         'test region of %d: zero page shared, written pages private' % pid)


def usage_error(ml, args, what, mention, env=None):
    res = subprocess.run([ml] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, timeout=60)
    err = text(res.stderr)
    check_eq(res.returncode, 2, what + ': exit status')
    check_eq(res.stdout, b'', what + ': stdout')
    lines = err.splitlines()
    check(len(lines) == 2 and lines[0].startswith('memlayout: %s: ' % mention)
          and lines[1] == TRY, what + ': "memlayout: %s: ..." then %r' % (mention, TRY), err)


def target_error(ml, args, what, prefix, words, runner=()):
    res = subprocess.run(list(runner) + [ml] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    err = text(res.stderr)
    check_eq(res.returncode, 1, what + ': exit status')
    check_eq(res.stdout, b'', what + ': stdout')
    check(err.startswith('memlayout: ' + prefix) and err.count('\n') == 1 and words in err,
          '%s: one line %r ... %r' % (what, prefix, words), err)


def test_errors(ml, t):
    usage_error(ml, ['pages', t.pid, '0x2000-0x1000'], 'empty range', '0x2000-0x1000')
    usage_error(ml, ['pages', t.pid, '0x1000-zz'], 'bad range end', '0x1000-zz')
    usage_error(ml, ['pages', '--method', 'fast', t.pid], 'bad method', 'fast')
    usage_error(ml, ['pages', t.pid], 'bad method in the environment',
                'MEMLAYOUT_PAGEMAP_METHOD', env=method_env('mmap'))
    usage_error(ml, ['pages', '-w', '0', t.pid], 'bad width', '0')
    usage_error(ml, ['pages', '-o', 'NOPE', t.pid], 'bad column', 'NOPE')
    usage_error(ml, ['pages', '-J', '-r', t.pid], 'json and raw', 'pages')
    usage_error(ml, ['pages', 'x1', t.pid], 'not a PID', 'x1')
    target_error(ml, ['pages', t.pid, '0x1000'], 'unmapped address', '0x1000:',
                 'no region holds this address')
    target_error(ml, ['pages', t.pid, 'no-such-lib.so'], 'unknown object', 'no-such-lib.so:',
                 'not a kind, an address or the object')
    target_error(ml, ['pages', t.pid, 'thread-stack'], 'kind without regions', 'thread-stack:',
                 'no region of this kind')
    target_error(ml, ['pages', t.pid, '0x1000-0x2000'], 'range over nothing', '0x1000-0x2000:',
                 'nothing is mapped')
    # A process that exited (a zombie: its address space is gone).
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        import time
        for _ in range(100):
            with open('/proc/%d/stat' % pid) as f:
                if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    break
            time.sleep(0.01)
        target_error(ml, ['pages', pid], 'exited process', '%d:' % pid, 'a zombie')
    finally:
        os.waitpid(pid, 0)
    res = run(ml, 'pages', '--help')
    check(res.returncode == 0 and b'memlayout pages' in res.stdout and b'Examples' in res.stdout,
          'pages --help: usage on stdout, exit 0', res.returncode)
    res = run(ml, 'pages', '--list-columns')
    check(res.returncode == 0 and b'RESIDENT' in res.stdout and b'BAR' in res.stdout,
          'pages --list-columns', res.returncode)


def test_as_nobody(ml, target):
    """A user without CAP_SYS_ADMIN on its own process: PAGEMAP_SCAN still
    tells zero and huge pages; pread cannot (null, "?" and a note);
    --shared-with refuses with a one-line reason."""
    if os.getuid() != 0:
        return        # the tests above ran as this user
    d = tempfile.mkdtemp()
    try:
        os.chmod(d, 0o755)
        for f in (ml, target):
            shutil.copy(f, d)
            os.chmod(os.path.join(d, os.path.basename(f)), 0o755)
        cml = os.path.join(d, os.path.basename(ml))
        nobody = ('runuser', '-u', 'nobody', '--')
        with Target(list(nobody) + [os.path.join(d, os.path.basename(target))]) as t:
            pid = int(subprocess.check_output(['pgrep', '-P', str(t.pid)]).split()[0]) \
                if os.path.basename(os.readlink('/proc/%d/exe' % t.pid)) == 'runuser' else t.pid
            region = hex(t.facts['region'])
            if not NO_SCAN:
                row = one_row(pages_json(cml, '--method', 'scan', pid, region,
                                         runner=nobody), 'as nobody, scan')
                check_region(row, t.facts['guard'], (0, 5, 6), 'as nobody (scan)')
            row = one_row(pages_json(cml, '--method', 'pread', pid, region, runner=nobody),
                          'as nobody, pread')
            if row:
                check_eq((row['zero'], row['huge']), (None, None),
                         'as nobody (pread): zero and huge unknown (null)')
                check_eq(row['resident'], 4, 'as nobody (pread): the zero page counts as resident')
            res = subprocess.run(list(nobody) + [cml, 'pages', '--method', 'pread', str(pid), region],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            check(b'unknown (?)' in res.stdout and b'CAP_SYS_ADMIN' in res.stdout,
                  'as nobody (pread): the table says what needs root', text(res.stdout))
            target_error(cml, ['pages', '--shared-with', pid, pid], 'as nobody: --shared-with',
                         '--shared-with:', 'physical frame numbers need root', runner=nobody)
            target_error(cml, ['pages', 1], 'as nobody: PID 1', '1:', 'permission denied',
                         runner=nobody)
    finally:
        shutil.rmtree(d)


def main():
    ml, target = sys.argv[1], sys.argv[2]
    with Target([target]) as t:
        test_region(ml, t)
        test_thp(ml, t)
        test_methods_agree(ml, t)
        test_shared_with(ml, target, t)
        test_errors(ml, t)
    test_as_nobody(ml, target)
    done()


if __name__ == '__main__':
    main()
