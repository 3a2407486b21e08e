# SPDX-License-Identifier: MIT
"""test_heap.py - `memlayout heap` on heap-target, whose allocations are
known: 1000 blocks of 48 bytes with every other one freed, and a 3 MiB
block.  Under LD_PRELOAD=libmlalloc.so: per-class live and free counts,
the large block, the brk, the page map, JSON and text; -o, --list-columns;
a published state left torn (the reader gives up) or in an unknown version;
-- COMMAND.  Without mlalloc: the plain message and exit status 3; as a
32-bit process too.  Errors: no such process, permission denied, usage.

Hostile targets (hostile-target.c), each of which hung or stalled the
reader before it was bounded: a FIFO, or a symlink to the test's own FIFO,
where a mapped file's name was (memlayout must not open either: it would
block); as root, the same again with target and memlayout as nobody (no
map_files: the by-name path); an ELF symbol-table bomb mapped many times;
a published segment left torn, a seqlock that never rests, maximal
tables: each must end within its time limit (well under the old 10 s to
forever), with exit 1 and the bound named where one was hit, and small RSS.
(The churning writer is odd all but an instant; should the copy land in
that instant, while the writer is descheduled, it is consistent and
memlayout rightly shows it.)

Usage: test_heap.py MEMLAYOUT HEAP_TARGET LIBMLALLOC HOSTILE_TARGET [HEAP_TARGET32]
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
from e2e import Target, check, check_eq, done, parse_facts, run  # noqa: E402

MEMLAYOUT, TARGET, LIB, HOSTILE = sys.argv[1:5]
TARGET32 = sys.argv[5] if len(sys.argv) > 5 else None
EXIT_NOT_MLALLOC = 3
CLASS48 = 2                 # classes are 16, 32, 48, ... bytes
PER_SPAN48 = 65536 // 48    # a 48-byte span is one 64 KiB page: 1365 blocks


class HeapTarget(Target):
    """heap-target, optionally under mlalloc; command() sends one letter."""

    def __init__(self, argv, mlalloc):
        env = dict(os.environ)
        env.pop('LD_PRELOAD', None)
        if mlalloc:
            env['LD_PRELOAD'] = LIB
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        self.pid = self.proc.pid
        self.facts = self._until_ready()

    def _until_ready(self):
        lines = []
        for raw in self.proc.stdout:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            lines.append(line)
            if line == 'ready=0x1':
                return parse_facts(lines)
        raise RuntimeError('%s ended before ready: %r' % (self.argv, lines))

    def command(self, letter):
        self.proc.stdin.write(letter.encode())
        self.proc.stdin.flush()
        self.facts.update(self._until_ready())


def stat_start_brk(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[47 - 3])


def heap_json(pid, *extra, want_rc=0):
    res = run(MEMLAYOUT, 'heap', '-J', '-b', *extra, pid)
    check_eq(res.returncode, want_rc, 'heap -J -b %s exit status' % pid)
    check_eq(res.stderr, b'', 'heap -J -b %s prints nothing on stderr' % pid)
    try:
        return json.loads(res.stdout)
    except ValueError as e:
        check(False, 'heap -J prints one JSON document', str(e), res.stdout[:500])
        return None


def class_row(doc, cls):
    rows = [c for c in doc['classes'] if c['class'] == cls]
    return rows[0] if rows else {'class': cls, 'live': 0, 'free': 0, 'spans': 0,
                                 'live_bytes': 0, 'free_bytes': 0, 'size': 48}


def check_mlalloc():
    with HeapTarget([TARGET], mlalloc=True) as t:
        before = heap_json(t.pid)
        t.command('a')
        f = t.facts
        doc = heap_json(t.pid)
        if not before or not doc:
            return
        check(set(doc) == {'heap', 'classes', 'regions'}, 'JSON keys', sorted(doc))
        heap = doc['heap'][0]
        check_eq(heap['pid'], t.pid, 'heap.pid')
        check_eq(heap['mlalloc'], True, 'heap.mlalloc')

        # Size class of 48 bytes: 500 more live, the rest of its spans free.
        c0, c = class_row(before, CLASS48), class_row(doc, CLASS48)
        check_eq(c['size'], 48, 'class 2 block size')
        check_eq(c['live'] - c0['live'], 500, 'live 48-byte blocks added')
        check_eq(c['live_bytes'], c['live'] * 48, 'live_bytes of class 48')
        check(c['spans'] >= 1, 'class 48 has a span', c)
        check_eq(c['live'] + c['free'], c['spans'] * PER_SPAN48,
                 'live + free 48-byte blocks == spans * 1365')
        check_eq(c['free_bytes'], c['free'] * 48, 'free_bytes of class 48')
        check_eq(c['span_bytes'], c['spans'] * 65536, 'span_bytes of class 48')
        total_live = sum(k['live_bytes'] for k in doc['classes'])
        check_eq(heap['live_small'], total_live, 'live_small == sum of classes')

        # The 3 MiB block: a live large region holding it.
        larges = [r for r in doc['regions'] if r['type'] == 'large'
                  and r['block'] == '0x%x' % f['large']]
        if check(len(larges) == 1, 'one large region holds the 3 MiB block',
                 [r for r in doc['regions'] if r['type'] == 'large']):
            r = larges[0]
            check_eq(r['state'], 'live', 'large block state')
            check_eq(r['used'], f['large_usable'], 'large block usable bytes')
            check(int(r['start'], 16) <= f['large'] < int(r['end'], 16),
                  'the large region covers the block', r)
            check(r['map'].startswith('#' * 48), 'large map: 48 live cells', r['map'])
        check(heap['large_live'] >= 1 and heap['live_large'] >= 3 << 20,
              'heap counts the large block', heap)

        # The brk: where it started, where it stands, mlalloc's part.
        check_eq(heap['start_brk'], '0x%x' % stat_start_brk(t.pid), 'start_brk from stat')
        check_eq(heap['brk'], '0x%x' % f['brk'], 'brk == sbrk(0)')
        check_eq(heap['brk_moved'], f['brk'] - stat_start_brk(t.pid), 'brk_moved')
        check_eq(heap['mlalloc_brk_end'], '0x%x' % f['brk'], 'mlalloc brk end == sbrk(0)')

        # The segment holding the 48-byte blocks: brk, metadata page, span page.
        seg = [r for r in doc['regions'] if r['type'] == 'segment'
               and int(r['start'], 16) <= f['small'] < int(r['end'], 16)]
        if check(len(seg) == 1, 'one segment holds the 48-byte blocks', doc['regions']):
            s = seg[0]
            cell = (f['small'] - int(s['start'], 16)) // 65536
            check_eq(s['from'], 'brk', 'segment of the small blocks comes from brk')
            check_eq(s['map'][0], 'M', 'map cell 0 is metadata')
            check_eq(s['map'][cell], '#', 'map cell of the 48-byte span')
            check_eq(s['used'], s['map'].count('#') * 65536, 'USED == span cells * 64K')
            check_eq(s['free'], (s['map'].count('.') + s['map'].count(':')) * 65536,
                     'FREE == free cells * 64K')
        check(heap['committed'] >= heap['live'] and heap['reserved'] >= heap['committed'],
              'live <= committed <= reserved', heap)
        frag = 1 - heap['live'] / heap['committed']
        check(abs(heap['fragmentation'] - frag) < 1e-3, 'fragmentation == 1 - live/committed',
              heap['fragmentation'], frag)

        # Text: prose, class table, map legend.
        res = run(MEMLAYOUT, 'heap', t.pid)
        out = res.stdout.decode()
        check_eq(res.returncode, 0, 'heap PID exit status')
        check('uses mlalloc' in out and 'brk: starts at 0x%x' % stat_start_brk(t.pid) in out,
              'text names mlalloc and the brk', out[:400])
        row = [l.split() for l in out.splitlines() if l.split()[:2] == ['2', '48B']]
        check(row and row[0][2] == str(c['live']) and row[0][3] == str(c['free']),
              'text class row of 48B has the live and free counts', row)
        check('MAP: one cell per 64K page' in out, 'text explains the map')

        # -o, --list-columns, -c with -r and -n.
        d = heap_json(t.pid, '-m', '-o', 'START,MAP')
        if d:
            check(set(d) == {'regions'} and all(set(r) == {'start', 'map'} for r in d['regions']),
                  '-m -o START,MAP gives only those', d)
        res = run(MEMLAYOUT, 'heap', '--list-columns')
        check(res.returncode == 0 and b'MAP' in res.stdout and b'RUN' in res.stdout,
              '--list-columns', res.stdout)
        res = run(MEMLAYOUT, 'heap', '-c', '-r', '-n', t.pid)
        rows = [l.split() for l in res.stdout.decode().splitlines()]
        check(res.returncode == 0 and ['2', '48B', str(c['live']), str(c['free'])] in
              [r[:4] for r in rows], '-c -r -n: raw class rows', rows[:5])

        res = run(MEMLAYOUT, 'heap', '-s', '-r', '-b', t.pid)
        lines = res.stdout.decode().splitlines()
        if check(res.returncode == 0 and len(lines) == 2, '-s -r: a heading and one row', lines):
            row = dict(zip(lines[0].split(), lines[1].split()))
            check_eq(row.get('PID'), str(t.pid), '-s -r: PID')
            check_eq(row.get('LIVE_SMALL'), str(heap['live_small']), '-s -r: LIVE_SMALL')

        # A torn published state: the reader gives up; an unknown version.
        t.command('t')
        res = run(MEMLAYOUT, 'heap', t.pid)
        err = res.stderr.decode()
        check_eq(res.returncode, 1, 'torn state: exit status')
        check(err.startswith('memlayout: %d: ' % t.pid) and 'torn' in err and '2 s' in err
              and err.count('\n') == 1,
              'torn state: one line naming the PID', err)
        check_eq(res.stdout, b'', 'torn state: nothing on stdout')
        t.command('v')
        res = run(MEMLAYOUT, 'heap', t.pid)
        check(res.returncode == 1 and b'format version' in res.stderr,
              'unknown version: exit 1 and says so', res.returncode, res.stderr)


def check_glibc(target, bits):
    """A glibc process without mlalloc: read as glibc malloc (test_glibc_heap.py
    checks its figures)."""
    with HeapTarget([target], mlalloc=False) as t:
        t.command('a')
        res = run(MEMLAYOUT, 'heap', t.pid)
        out = res.stdout.decode()
        check_eq(res.returncode, 0, '%d-bit glibc process: exit status' % bits)
        check('PID %d (heap-target' % t.pid in out and 'uses glibc 2.' in out,
              '%d-bit glibc process: read as glibc malloc' % bits, out)


def check_plain(target, bits):
    with HeapTarget([target], mlalloc=False) as t:
        t.command('a')
        res = run(MEMLAYOUT, 'heap', t.pid)
        out = res.stdout.decode()
        check_eq(res.returncode, EXIT_NOT_MLALLOC, '%d-bit plain process: exit status' % bits)
        check('PID %d (heap-target' % t.pid in out and 'does not use mlalloc' in out,
              '%d-bit plain process: says it plainly' % bits, out)
        if bits == 32:
            check('32-bit' in out, '32-bit process: says why', out)
        check('brk starts at 0x%x' % stat_start_brk(t.pid) in out,
              '%d-bit plain process: the brk from stat' % bits, out)
        doc = heap_json(t.pid, want_rc=EXIT_NOT_MLALLOC)
        if doc:
            heap = doc['heap'][0]
            check_eq(heap['mlalloc'], False, 'plain JSON: mlalloc false')
            check_eq(heap['bits'], bits, 'plain JSON: bits')
            check_eq(heap['start_brk'], '0x%x' % stat_start_brk(t.pid), 'plain JSON: start_brk')
            heaps = [r for r in doc['regions'] if r['kind'] == 'heap' and r['object'] == '[heap]']
            if check(len(heaps) == 1, 'plain JSON: the [heap] mapping', doc['regions']):
                check_eq(heaps[0]['end'], heap['brk'], 'plain JSON: [heap] ends at the brk')
                check_eq(heaps[0]['size'], heap['brk_moved'], 'plain JSON: heap size == brk moved')


def check_command():
    res = run(MEMLAYOUT, 'heap', '-J', '-b', '-c', '--', 'env', 'LD_PRELOAD=' + LIB, TARGET, 'exit')
    check_eq(res.returncode, 0, 'heap -- COMMAND exit status')
    try:
        doc = json.loads(res.stdout)
        check(class_row(doc, CLASS48)['live'] >= 500, '-- COMMAND: 48-byte blocks at exit', doc)
    except ValueError as e:
        check(False, '-- COMMAND prints JSON', str(e), res.stdout[:300])


def check_errors():
    gone = subprocess.Popen(['true'])
    gone.wait()
    res = run(MEMLAYOUT, 'heap', gone.pid)
    check(res.returncode == 1 and b'no such process' in res.stderr and not res.stdout,
          'gone process: exit 1, no such process', res.returncode, res.stderr)
    with HeapTarget([TARGET], mlalloc=True) as t:
        if os.getuid() == 0:   # as nobody, look at our (root's) process
            def drop():
                os.setgid(65534)
                os.setuid(65534)
            res = subprocess.run([MEMLAYOUT, 'heap', str(t.pid)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, preexec_fn=drop, timeout=60)
        else:                  # init belongs to root
            res = run(MEMLAYOUT, 'heap', 1)
        check(res.returncode == 1 and b'permission denied' in res.stderr and not res.stdout,
              'another user\'s process: exit 1, permission denied', res.returncode, res.stderr)
    for args, what in ((['heap'], 'no PID'), (['heap', '-J', '-r', '1'], '-J with -r'),
                       (['heap', '-o', 'NOPE', '1'], 'unknown column'),
                       (['heap', 'x1'], 'not a PID')):
        res = run(MEMLAYOUT, *args)
        check(res.returncode == 2 and res.stderr.endswith(b"Try 'memlayout heap --help'.\n"),
              'usage error (%s): exit 2' % what, res.returncode, res.stderr)
    res = run(MEMLAYOUT, 'heap', '--help')
    check(res.returncode == 0 and b'memlayout heap [options] PID' in res.stdout, '--help')


def drop_to_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


ONE_CPU = {min(os.sched_getaffinity(0))}


def preexec(as_nobody, pin):
    """What a child does before exec: run on ONE_CPU, drop to nobody."""
    def run_first():
        if pin:
            os.sched_setaffinity(0, ONE_CPU)
        if as_nobody:
            drop_to_nobody()
    return run_first if as_nobody or pin else None


class Hostile:
    """hostile-target MODE ARGS..., set up and waiting (stdin open)."""

    def __init__(self, *args, as_nobody=False, pin=False):
        self.proc = subprocess.Popen([HOSTILE] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     preexec_fn=preexec(as_nobody, pin))
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if line.strip() != b'ready=0x1':
            raise RuntimeError('hostile-target %r: %r' % (args, line))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Timed:
    """memlayout heap PID, killed after limit seconds: rc, out, err,
    seconds, maxrss (KiB), hung.  maxrss counts this script's own pages
    too (exec keeps the high-water mark of the forked copy): compare it
    with that of `memlayout --help` run the same way."""

    def __init__(self, pid, limit, as_nobody=False, args=None, pin=False):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.monotonic()
            p = subprocess.Popen([MEMLAYOUT] + (args or ['heap', str(pid)]), stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err,
                                 preexec_fn=preexec(as_nobody, pin))
            timer = threading.Timer(limit, p.kill)
            timer.start()
            _, status, ru = os.wait4(p.pid, 0)
            timer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
            self.seconds = time.monotonic() - start
            self.rc, self.maxrss = p.returncode, ru.ru_maxrss
            self.hung = self.rc == -9
            out.seek(0)
            err.seek(0)
            self.out, self.err = out.read(64 << 20), err.read().decode('utf-8', 'replace')

    def __repr__(self):
        return 'rc %d after %.1f s, rss %d KiB, stdout %d bytes, stderr %r' % (
            self.rc, self.seconds, self.maxrss, len(self.out), self.err)


def check_trap(what, args, tmp, as_nobody=False):
    """memlayout heap on a trap: ends (never blocks on the FIFO), exit 0
    (read as glibc malloc: the trap is in the mlalloc search it made first)."""
    with Hostile(*args, as_nobody=as_nobody) as t:
        res = Timed(t.pid, 15, as_nobody=as_nobody)
        check(not res.hung, '%s: memlayout heap ends (it did not open the name)' % what, res)
        check_eq(res.rc, 0, '%s: exit status' % what)


def check_traps():
    tmp = tempfile.mkdtemp(prefix='heap-trap-')
    try:
        os.chmod(tmp, 0o777)
        runs = [False] + ([True] if os.getuid() == 0 else [])
        for nobody in runs:
            who = ' (as nobody)' if nobody else ''
            # The test's own FIFO, mode 0600, readable by the memlayout
            # that runs: one that followed the symlink would block on it.
            fifo = os.path.join(tmp, 'secret%d' % nobody)
            os.mkfifo(fifo, 0o600)
            if nobody:
                os.chown(fifo, 65534, 65534)
            for mode in ('fifo', 'symlink'):
                lib = os.path.join(tmp, 'lib%s%d.so' % (mode, nobody))
                shutil.copyfile(LIB, lib)
                os.chmod(lib, 0o644)
                args = [mode, lib] + ([fifo] if mode == 'symlink' else [])
                check_trap('%s trap%s' % (mode, who), args, tmp, as_nobody=nobody)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def symbol_bomb(path, nsyms, named=False):
    """An ELF file whose .dynsym holds nsyms defined symbols, none of them
    the data object mlalloc_introspect_root: objects with another name
    (each a name the old reader read with a pread; the reader now finds
    the name nowhere in the strings and reads no symbol), or, named,
    functions called mlalloc_introspect_root (the strings hold the name,
    so every symbol is read and checked)."""
    strtab = b'\0' + (b'mlalloc_introspect_root' if named else b'x' * 100) + b'\0'
    sym = struct.pack('<IBBHQQ', 1, 0x12 if named else 0x11, 0, 1, 0, 32)
    dynsym_off, str_off = 8192, 4096
    sh_off = dynsym_off + nsyms * len(sym)
    ehdr = struct.pack('<16sHHIQQQIHHHHHH', b'\x7fELF\x02\x01\x01' + b'\0' * 9, 3, 62, 1, 0,
                       64, sh_off, 0, 64, 56, 1, 64, 3, 0)
    phdr = struct.pack('<IIQQQQQQ', 1, 4, 0, 0, 0, 4096, 4096, 4096)
    shdrs = (b'\0' * 64 +
             struct.pack('<IIQQQQIIQQ', 0, 11, 2, 0, dynsym_off, nsyms * len(sym), 2, 1, 8, 24) +
             struct.pack('<IIQQQQIIQQ', 0, 3, 2, 0, str_off, len(strtab), 0, 0, 1, 0))
    with open(path, 'wb') as f:
        f.write(ehdr + phdr)
        f.seek(str_off)
        f.write(strtab)
        f.seek(dynsym_off)
        f.write(sym * nsyms)
        f.write(shdrs)


def check_publishers():
    """Hostile published states: bounded time and memory, the bound named."""
    cases = (('odd-seg', 'stayed torn (a sequence number left odd', 'a segment left torn'),
             ('churn', 'kept changing for 2 s', 'a seqlock that never rests'),
             ('max', 'over the limit of', 'maximal tables'))
    base = Timed(0, 30, args=['--help']).maxrss
    for mode, words, what in cases:
        # Target and memlayout on one CPU: a reader that yields (or spins)
        # gives a busy writer its whole time slice, as on a loaded machine.
        with Hostile(mode, pin=True) as t:
            res = Timed(t.pid, 30, pin=True)
            check(not res.hung and res.seconds < 5, '%s: memlayout heap ends within 5 s' % what, res)
            if mode == 'churn' and res.rc == 0:
                # The writer was descheduled in the instant its seqs were
                # even: the copy taken then is consistent, and stands.
                continue
            check(res.rc == 1 and res.err.startswith('memlayout: %d: ' % t.pid) and words in res.err
                  and res.err.count('\n') == 1 and not res.out,
                  '%s: exit 1, one line naming the bound (%r), nothing on stdout' % (what, words), res)
            check(res.maxrss < base + (64 << 10), '%s: RSS under 64 MiB more than --help' % what,
                  res, base)
    tmp = tempfile.mkdtemp(prefix='heap-bomb-')
    try:
        bombs = [os.path.join(tmp, 'bomb%d.so' % i) for i in range(2)]
        for b in bombs:
            symbol_bomb(b, 1000000)
        with Hostile('map', '10', *bombs) as t:
            res = Timed(t.pid, 30)
            check(not res.hung and res.seconds < 5, 'symbol-table bomb: ends within 5 s', res)
            check(res.rc == 0 and not res.err,
                  'symbol-table bomb of other names: costs no symbol read, the heap found', res)
        named = [os.path.join(tmp, 'named%d.so' % i) for i in range(2)]
        for b in named:
            symbol_bomb(b, 1000000, named=True)
        with Hostile('map', '10', *named) as t:
            res = Timed(t.pid, 30)
            check(not res.hung and res.seconds < 5, 'named symbol-table bomb: ends within 5 s', res)
            check(res.rc == 1 and 'mlalloc_introspect_root' in res.err and 'exceeds the limit of' in res.err,
                  'named symbol-table bomb: exit 1 naming the bound', res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


check_traps()
check_publishers()
check_mlalloc()
check_glibc(TARGET, 64)
check_plain(os.environ['HEAP_TARGET_STATIC'], 64)
if TARGET32:
    check_glibc(TARGET32, 32)
    check_plain(os.environ['HEAP_TARGET_STATIC32'], 32)
check_command()
check_errors()
done()
