# SPDX-License-Identifier: MIT
"""e2e.py - helpers shared by the end-to-end tests of the memlayout CLI.

Each test script gets the memlayout executable and the target programs it
needs on its command line.  A Target runs a program from tests/targets/,
reads the "name=0x<hex>" facts it prints up to "ready=0x1", and stops it
by closing its stdin.  Checks are soft: check() records a failure with both
operands and the script goes on, so one run reports every broken
assertion; done() exits 1 if any failed.  Python 3 standard library only.
"""
import json
import os
import re
import subprocess
import sys

FACT_RE = re.compile(r'^([A-Za-z0-9_]+)=(0x[0-9a-fA-F]+|-?[0-9]+)$')
# Columns asked for explicitly so the JSON keys do not depend on defaults.
COLUMNS = 'START,END,SIZE,PERMS,OFFSET,KIND,OBJECT,SECTIONS,TID,NAME'
TIMEOUT = 60
# The sanitizers memlayout was built with (meson's b_sanitize, given by
# the test setup of a sanitizer build), 'none' in a plain build.
SANITIZE = os.environ.get('MEMLAYOUT_SANITIZE', 'none')

_failures = []
_checks = 0


def check(cond, what, *operands):
    """Record one assertion; operands are printed when it fails."""
    global _checks
    _checks += 1
    if cond:
        return True
    detail = ''.join('\n    %r' % (o,) for o in operands)
    _failures.append(what)
    print('FAIL: %s%s' % (what, detail), flush=True)
    return False


def check_eq(got, want, what):
    return check(got == want, '%s: got %r, want %r' % (what, got, want))


def done():
    """Exit with the verdict of all checks so far."""
    name = os.path.basename(sys.argv[0])
    if _failures:
        print('%s: %d of %d checks failed' % (name, len(_failures), _checks))
        sys.exit(1)
    print('%s: all %d checks passed' % (name, _checks))
    sys.exit(0)


def parse_facts(lines):
    """name=value lines to a dict of ints; other lines are ignored."""
    facts = {}
    for line in lines:
        m = FACT_RE.match(line.strip())
        if m:
            facts[m.group(1)] = int(m.group(2), 0)
    return facts


class Target:
    """A target program, running until close(); facts in .facts."""

    def __init__(self, argv, cwd=None):
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=cwd)
        self.pid = self.proc.pid
        lines = []
        for raw in self.proc.stdout:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            lines.append(line)
            if line == 'ready=0x1':
                break
        else:
            self.close()
            raise RuntimeError('%s ended before ready: %r' % (argv, lines))
        self.facts = parse_facts(lines)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def traced_env():
    """The environment for a memlayout that runs traced, or where ptrace
    is refused (seccomp): in an ASan build its LeakSanitizer, which
    stops the threads with ptrace at exit, cannot work there ("LeakSanitizer
    has encountered a fatal error") and is turned off for it; elsewhere the
    environment unchanged."""
    env = dict(os.environ)
    if 'address' in SANITIZE.split(','):
        opts = env.get('ASAN_OPTIONS', '')
        env['ASAN_OPTIONS'] = (opts + ':' if opts else '') + 'detect_leaks=0'
    return env


def run(memlayout, *args, stdin=subprocess.DEVNULL):
    """Run memlayout; a CompletedProcess with bytes stdout/stderr."""
    return subprocess.run([memlayout] + [str(a) for a in args], stdin=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT)


def show_json(memlayout, *args, what=None, key='regions'):
    """memlayout show -J -b ARGS, parsed; None (and a failure) if it
    fails or prints something that is not that JSON."""
    what = what or 'show -J -b %s' % ' '.join(map(str, args))
    res = run(memlayout, 'show', '-J', '-b', *args)
    if not check(res.returncode == 0, '%s exits 0' % what,
                 res.returncode, res.stderr.decode('utf-8', 'replace')):
        return None
    return parse_json_output(res.stdout, what, key)


def parse_json_output(out, what, key='regions'):
    """The JSON document in out (bytes), skipping fact lines a traced
    command printed to the same stdout; None on failure."""
    text = out.decode('utf-8', 'replace')
    body = '\n'.join(l for l in text.split('\n') if not FACT_RE.match(l))
    try:
        doc = json.loads(body)
    except ValueError as e:
        check(False, '%s prints valid JSON' % what, str(e), body[:2000])
        return None
    if not check(isinstance(doc, dict) and isinstance(doc.get(key), list),
                 '%s has a "%s" list' % (what, key), body[:500]):
        return None
    return doc[key]


def addr(v):
    """A JSON address ("0x...") as an int."""
    return int(v, 16) if isinstance(v, str) else v


def region_at(regions, a):
    """The region holding address a, or None."""
    for r in regions:
        if addr(r['start']) <= a < addr(r['end']):
            return r
    return None


def index_at(regions, a):
    for i, r in enumerate(regions):
        if addr(r['start']) <= a < addr(r['end']):
            return i
    return None


def read_maps(pid):
    """The (start, end) pairs of /proc/PID/maps."""
    spans = []
    with open('/proc/%d/maps' % pid, 'rb') as f:
        for line in f:
            lo, hi = line.split(b' ', 1)[0].split(b'-')
            spans.append((int(lo, 16), int(hi, 16)))
    return spans


def spans(regions):
    return [(addr(r['start']), addr(r['end'])) for r in regions]


def describe(r):
    """A short text of a region for failure messages."""
    if r is None:
        return None
    return {k: r.get(k) for k in ('start', 'end', 'size', 'perms', 'kind',
                                  'object', 'sections', 'tid', 'name')}


def check_region(regions, a, label, kind=None, section=None, obj=None):
    """Assert the region holding a has kind, lists section, is owned by
    obj.  Returns the region (or None)."""
    r = region_at(regions, a)
    if not check(r is not None, '%s (%#x) lies in a region' % (label, a)):
        return None
    if kind is not None:
        check(r.get('kind') == kind, '%s (%#x) is in a %s region' %
              (label, a, kind), describe(r))
    if section is not None:
        check(section in (r.get('sections') or []),
              '%s (%#x) region lists section %s' % (label, a, section),
              describe(r))
    if obj is not None:
        check(r.get('object') == obj, '%s (%#x) region object is %s' %
              (label, a, obj), describe(r))
    return r


def check_sizes(regions, what):
    """With -b: size is an int equal to end - start, regions sorted and
    disjoint."""
    prev_end = 0
    for r in regions:
        lo, hi = addr(r['start']), addr(r['end'])
        check(isinstance(r.get('size'), int) and r['size'] == hi - lo,
              '%s: size == end - start with -b' % what, describe(r))
        check(lo >= prev_end and hi > lo, '%s: regions sorted, disjoint'
              % what, describe(r))
        prev_end = hi


KINDS = ('text rodata relro data bss heap stack thread-stack guard reserved '
         'anon file shm vdso vvar vsyscall other').split()


def check_shape(regions, what):
    """The JSON types of the spec: kind a known kind, perms rwxp-style,
    object a string or null, tid an int or null, sections a list of
    section names (one string each); no sections may be [] or, as lsblk
    writes an empty MOUNTPOINTS, [null]."""
    bad = {}
    for r in regions:
        secs = r.get('sections')
        if secs == [None]:
            secs = []
        tests = {
            'kind': r.get('kind') in KINDS,
            'perms': isinstance(r.get('perms'), str) and len(r['perms']) == 4,
            'object': r.get('object') is None or isinstance(r['object'], str),
            'tid': r.get('tid') is None or isinstance(r['tid'], int),
            'sections': isinstance(secs, list) and all(
                isinstance(x, str) and x and '\n' not in x for x in secs),
        }
        for key, ok in tests.items():
            if not ok and key not in bad:
                bad[key] = describe(r)
    for key, example in sorted(bad.items()):
        check(False, '%s: JSON "%s" has the type of the spec' % (what, key),
              example)
    check(True, what + ': JSON shape')


def page_size():
    return os.sysconf('SC_PAGE_SIZE')


MIB = 1 << 20


def check_bss_target(regions, facts, exe, what, heap=True):
    """The layout target-bss promises: its 1 MiB .bss, .data, .rodata and
    .text attributed to exe, malloc(16) in the heap, a local on the
    stack.  facts are the target's printed addresses."""
    page = page_size()
    bss_lo = (facts['bss'] + page - 1) // page * page
    r = check_region(regions, facts['bss_end'] - 1, what + ': end of big[]',
                     kind='bss', section='.bss', obj=exe)
    if r:
        check(addr(r['start']) <= bss_lo and
              addr(r['end']) >= facts['bss_end'],
              what + ': the bss region covers big[] past its first page',
              describe(r), hex(facts['bss']), hex(facts['bss_end']))
        check(isinstance(r.get('size'), int) and r['size'] >= MIB,
              what + ': the bss region is at least 1 MiB', describe(r))
    check_region(regions, facts['data'], what + ': initialised global',
                 kind='data', section='.data', obj=exe)
    check_region(regions, facts['rodata'], what + ': const string',
                 kind='rodata', section='.rodata', obj=exe)
    check_region(regions, facts['text'], what + ': function',
                 kind='text', section='.text', obj=exe)
    if heap:
        check_region(regions, facts['malloc_small'], what + ': malloc(16)',
                     kind='heap')
    check_region(regions, facts['local'], what + ': local variable',
                 kind='stack')


def on_pty(argv, cols, rows=24, env=None, stdin=None, stderr='pipe', raw=False,
           timeout=TIMEOUT):
    """Run argv with its stdout on a pseudo-terminal of rows x cols
    (TIOCSWINSZ) and read it to the end.  stderr: 'pipe' (returned),
    'pty' (on the terminal too) or 'null'.  raw: no output processing
    (OPOST off: no \\r added), the bytes as written.  Returns (exit
    status, stdout bytes, stderr bytes or b'')."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    if raw:
        attr = termios.tcgetattr(slave)
        attr[1] &= ~termios.OPOST
        termios.tcsetattr(slave, termios.TCSANOW, attr)
    err_to = {'pipe': subprocess.PIPE, 'pty': slave, 'null': subprocess.DEVNULL}[stderr]
    p = subprocess.Popen(argv, stdin=stdin, stdout=slave, stderr=err_to, env=env)
    os.close(slave)
    out = b''
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    err = p.stderr.read() if stderr == 'pipe' else b''
    p.wait(timeout=timeout)
    return p.returncode, out, err
