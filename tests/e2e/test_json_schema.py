# SPDX-License-Identifier: MIT
"""test_json_schema.py - every JSON document memlayout writes, taken from
real runs, validated against its JSON Schema in doc/schema/ (draft
2020-12, python3-jsonschema): show -J (default and every column, human
sizes and -b), show -s -J, where -J (every column, mapped addresses and
holes), pages -J, heap -J (a process with and without mlalloc), run -J's
crash report, run -J --check=heap's heap and leak reports, watch -J's lines (samples with brk, perms, grew, thread and exec
events, then the summary) and aslr -J.  Also what the schemas encode as
conventions, asserted by name so a failure says which: an empty array is
[] (never [null]), show -J names its process (pid, exe, comm, word size,
format version), each key of watch's events has one JSON type.
Skips (77) without python3-jsonschema.

usage: test_json_schema.py MEMLAYOUT TARGET_BSS LIBMLALLOC
"""
import json
import os
import subprocess
import sys
import time

from e2e import FACT_RE, Target, check, check_eq, done, run, traced_env

try:
    import jsonschema
except ImportError:
    print('skip: json-schema: python3-jsonschema is not installed (apt-get install '
          'python3-jsonschema)')
    sys.exit(77)

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          '..', '..', 'doc', 'schema')
ML, TARGET, LIBMLALLOC = sys.argv[1:4]
TARGET_STATIC = os.environ['TARGET_STATIC']     # target-bss linked statically: no glibc heap
_schemas = {}


def schema(name):
    if name not in _schemas:
        with open(os.path.join(SCHEMA_DIR, name)) as f:
            s = json.load(f)
        jsonschema.Draft202012Validator.check_schema(s)
        _schemas[name] = jsonschema.Draft202012Validator(s)
    return _schemas[name]


def validate(doc, name, what):
    """Assert doc is valid under doc/schema/NAME; every error is shown."""
    errs = sorted(schema(name).iter_errors(doc), key=lambda e: list(e.path))
    return check(not errs, '%s is valid under %s' % (what, name),
                 *['%s: %s' % ('/'.join(map(str, e.absolute_path)),
                               e.message[:300]) for e in errs[:5]])


def json_of(res, what, text_stream='stdout'):
    """The JSON document a run printed (bytes stdout); None on failure."""
    out = getattr(res, text_stream).decode('utf-8', 'replace')
    if not check(res.returncode == 0, '%s exits 0' % what, res.returncode,
                 res.stderr.decode('utf-8', 'replace')[-500:]):
        return None
    try:
        return json.loads(out)
    except ValueError as e:
        check(False, '%s prints one JSON document' % what, str(e), out[:500])
        return None


def label(cmd, args):
    """'show -J -b -o ALL': a run named without its long column list."""
    words = [cmd, '-J'] + ['ALL' if len(a) > 40 else a for a in args]
    return ' '.join(words)


def columns(verb):
    res = run(ML, verb, '--list-columns')
    return ','.join(l.split()[0] for l in res.stdout.decode().splitlines()
                    if l.strip())


def empty_arrays(doc, key):
    """Every value of key in the rows of doc: lists, the empty ones []."""
    return [r[key] for r in doc if key in r]


def check_show(pid):
    allcols = columns('show')
    for args in ([], ['-b'], ['-o', allcols], ['-b', '-o', allcols]):
        what = label('show', args)
        doc = json_of(run(ML, 'show', '-J', *args, pid), what)
        if doc is None:
            continue
        validate(doc, 'show.json', what)
        secs = empty_arrays(doc['regions'], 'sections')
        check(any(s == [] for s in secs),
              '%s: a region without sections has "sections": []' % what,
              [s for s in secs if not s or None in s][:3])
        check(all(None not in s for s in secs),
              '%s: no null inside a sections array' % what)
        check_eq((doc.get('pid'), doc.get('comm'), doc.get('word_size'),
                  doc.get('format_version')),
                 (pid, 'target-bss', 64, 1), '%s: the process it describes' % what)
        check_eq(doc.get('exe'), os.path.realpath(TARGET), '%s: exe' % what)
        check_eq(list(doc)[0], 'regions', '%s: regions stays the first key' % what)
    for args in ([], ['-b']):
        what = 'show -s -J %s' % ' '.join(args)
        doc = json_of(run(ML, 'show', '-s', '-J', *args, pid), what)
        if doc is not None:
            validate(doc, 'show-summary.json', what)
            check_eq(doc.get('pid'), pid, '%s: pid' % what)


def maps_addresses(pid):
    """Each mapping's start and last byte, plus holes: 0, below the first,
    the kernel half, non-canonical."""
    addrs = ['0', '0x10', '0x7fffffffffff', '0xffff800000000000',
             '0xffffffffff600000', '0x8000000000000000']
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            lo, hi = line.split()[0].split('-')
            addrs += ['0x' + lo, '0x%x' % (int(hi, 16) - 1)]
    return addrs


def check_where(pid):
    allcols = columns('where')
    addrs = maps_addresses(pid)
    for args in (['-o', allcols], ['-b', '-o', allcols], []):
        what = label('where', args)
        doc = json_of(run(ML, 'where', '-J', *args, pid, *addrs), what)
        if doc is None:
            continue
        validate(doc, 'where.json', what)
        kf = empty_arrays(doc['addresses'], 'kflags')
        if args:
            check(any(k == [] for k in kf),
                  '%s: an unmapped address has "kflags": []' % what, kf[:3])
        check(all(None not in k for k in kf), '%s: no null inside kflags' % what,
              [k for k in kf if None in k][:3])


def check_pages(pid):
    allcols = ','.join(c for c in columns('pages').split(',')
                       if c not in ('SHARED', 'PRIVATE'))
    for args in ([], ['-b', '-o', allcols]):
        what = label('pages', args)
        doc = json_of(run(ML, 'pages', '-J', *args, pid), what)
        if doc is not None:
            validate(doc, 'pages.json', what)


def check_heap():
    """Under mlalloc (exit 0), glibc malloc (exit 0, heap-glibc.json) and
    neither (a static program: exit 3, still a document)."""
    env_mlalloc = ['env', 'LD_PRELOAD=' + os.path.abspath(LIBMLALLOC), TARGET]
    for args, status, what in ((['-b', '--', *env_mlalloc], 0, 'heap -J -b (mlalloc)'),
                               (['--', *env_mlalloc], 0, 'heap -J (mlalloc)'),
                               (['--', TARGET], 0, 'heap -J (glibc)'),
                               (['-b', '--', TARGET], 0, 'heap -J -b (glibc)'),
                               (['--', TARGET_STATIC], 3, 'heap -J (no mlalloc)')):
        res = run(ML, 'heap', '-J', *args)
        if not check_eq(res.returncode, status, '%s: exit status' % what):
            continue
        # the target's fact lines share stdout: skip them
        text = '\n'.join(l for l in res.stdout.decode('utf-8', 'replace').split('\n')
                         if not FACT_RE.match(l))
        try:
            doc = json.loads(text)
        except ValueError as e:
            check(False, '%s prints one JSON document' % what, str(e), text[:500])
            continue
        if 'glibc' in what:
            validate(doc, 'heap-glibc.json', what)
            check_eq(doc.get('allocator'), 'glibc', '%s: allocator' % what)
            continue
        validate(doc, 'heap.json', what)
        check_eq(doc['heap'][0].get('mlalloc'), status == 0, '%s: mlalloc' % what)


def check_crash():
    """A NULL read in a real program (Python's ctypes), reported as JSON."""
    code = 'import ctypes; ctypes.string_at(0x18)'
    res = subprocess.run([ML, 'run', '-J', '--', sys.executable, '-c', code],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60, env=traced_env())
    err = res.stderr.decode('utf-8', 'replace')
    start = err.find('{')
    try:
        doc = json.loads(err[start:]) if start >= 0 else None
    except ValueError as e:
        doc = None
        check(False, 'run -J writes one JSON report', str(e), err[:500])
    if check(doc is not None, 'run -J reports the crash as JSON', err[:500]):
        validate(doc, 'crash.json', 'run -J (a NULL read)')
        check_eq(doc.get('kind'), 'null-pointer', 'run -J: the crash kind')


def check_heapcheck():
    """run -J --check=heap: a double free in a real program (ctypes)."""
    code = ('import ctypes; c = ctypes.CDLL(None); c.malloc.restype = ctypes.c_void_p; '
            'c.free.argtypes = [ctypes.c_void_p]; p = c.malloc(40); c.free(p); c.free(p)')
    res = subprocess.run([ML, 'run', '-J', '--check=heap', '--', sys.executable, '-c', code],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60, env=traced_env())
    err = res.stderr.decode('utf-8', 'replace')
    start = err.find('\n{')
    try:
        doc = json.loads(err[start:]) if start >= 0 else None
    except ValueError as e:
        doc = None
        check(False, 'run -J --check=heap writes one JSON report', str(e), err[:500])
    if check(doc is not None, 'run -J --check=heap reports the double free as JSON', err[-800:]):
        validate(doc, 'run-heap.json', 'run -J --check=heap (a double free)')
        check_eq(doc.get('kind'), 'double-free', 'run -J --check=heap: the kind')
        check_eq((doc.get('block') or {}).get('size'), 40, 'run -J --check=heap: the block size')
    code = 'import ctypes; ctypes.CDLL(None).malloc(4000)'
    res = subprocess.run([ML, 'run', '-J', '--check=heap,leaks', '--', sys.executable, '-c', code],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=120, env=traced_env())
    err = res.stderr.decode('utf-8', 'replace')
    start = err.find('\n{')
    try:
        doc = json.loads(err[start:]) if start >= 0 else None
    except ValueError as e:
        doc = None
        check(False, 'run -J --check=heap,leaks writes one JSON report', str(e), err[-500:])
    if check(doc is not None, 'run -J --check=heap,leaks reports leaks as JSON', err[-800:]):
        validate(doc, 'run-leaks.json', 'run -J --check=heap,leaks (a lost malloc)')
        check(any(g['bytes'] >= 4000 for g in doc.get('leaks', [])),
              'run -J --check=heap,leaks: the 4000-byte block is among the leaks')


# Each step changes one thing watch reports: brk (brk event), an mmap
# (appeared), mprotect of its first page (perms), mremap growing it
# (grew), a thread (thread-new), an exec of sleep (exec).  Steps are apart
# by several intervals.
WATCH_TARGET = r'''
import ctypes, mmap, threading, time
libc = ctypes.CDLL(None, use_errno=True)
libc.sbrk.restype = ctypes.c_void_p
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mremap.restype = ctypes.c_void_p
libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
P = mmap.PAGESIZE
pause = lambda: time.sleep(0.25)
pause()
libc.sbrk(1 << 20); pause()
a = libc.mmap(None, 16 * P, 3, 0x22, -1, 0); pause()
libc.mprotect(a, P, 1); pause()
libc.mremap(a + P, 15 * P, 64 * P, 1); pause()
ev = threading.Event(); t = threading.Thread(target=ev.wait); t.start(); pause()
ev.set(); t.join(); pause()
import os, shutil; os.execv(shutil.which('sleep'), ['sleep', '0.3'])
'''


def check_watch():
    res = subprocess.run([ML, 'watch', '-J', '-i', '0.05', '--detail', '--',
                          sys.executable, '-c', WATCH_TARGET],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60, env=traced_env())
    if not check(res.returncode == 0, 'watch -J exits 0', res.returncode,
                 res.stderr.decode('utf-8', 'replace')[-500:]):
        return
    lines = [l for l in res.stdout.decode('utf-8', 'replace').splitlines() if l]
    seen, types = set(), {}
    for i, line in enumerate(lines):
        try:
            doc = json.loads(line)
        except ValueError as e:
            check(False, 'watch -J line %d is JSON' % i, str(e), line[:300])
            continue
        validate(doc, 'watch.json', 'watch -J line %d' % i)
        for e in doc.get('events', []):
            seen.add(e['event'])
            for k, v in e.items():
                types.setdefault(k, set()).add(type(v).__name__)
    check('summary' in json.loads(lines[-1]) if lines else False,
          'watch -J ends with the summary')
    for ev in ('brk', 'appeared', 'perms', 'grew', 'thread-new', 'exec'):
        check(ev in seen, 'watch -J saw a %s event' % ev, sorted(seen))
    mixed = {k: sorted(t - {'NoneType'}) for k, t in types.items()
             if len(t - {'NoneType'}) > 1}
    check(not mixed, 'watch -J: each event key has one JSON type', mixed)


def check_aslr():
    what = 'aslr -J'
    doc = json_of(run(ML, 'aslr', '-J', '-c', '8', '--', TARGET), what)
    if doc is not None:
        validate(doc, 'aslr.json', what)
    doc = json_of(run(ML, 'aslr', '-J', '-b', '-c', '8', '--', TARGET), what + ' -b')
    if doc is not None:
        validate(doc, 'aslr.json', what + ' -b')


def check_owners_and_devices():
    """The saved tree of a PyTorch process on a GPU (tests/golden/trees/
    torch-cuda): gpu kinds, glibc and guessed owners in show -J and
    where -J validate."""
    tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'golden',
                        'trees', 'torch-cuda')
    what = 'show -J --proc-root torch-cuda'
    doc = json_of(run(ML, 'show', '-J', '--no-elf', '--proc-root', tree, '430'), what)
    if doc is not None:
        validate(doc, 'show.json', what)
        kinds = {r['kind'] for r in doc['regions']}
        owners = {r.get('allocator') for r in doc['regions']}
        check('gpu' in kinds and 'glibc' in owners and 'probably obmalloc' in owners,
              '%s: gpu kind, certain and guessed owners' % what, kinds, owners)
    what = 'where -J --proc-root torch-cuda'
    doc = json_of(run(ML, 'where', '-J', '--proc-root', tree, '430', '0x7f7882000000',
                      '0x7f7790000100'), what)
    if doc is not None:
        validate(doc, 'where.json', what)
        check_eq([(a.get('kind'), a.get('allocator')) for a in doc['addresses']],
                 [('gpu', None), ('heap', 'glibc')], '%s: kinds and owners' % what)


def check_explain():
    """explain -J and show -J on the core of a NULL read (Python's ctypes,
    RLIMIT_CORE unlimited, in a directory of its own): crash.json and
    show.json, as run -J and show -J on a live process."""
    import glob
    import resource
    import tempfile
    import shutil
    with open('/proc/sys/kernel/core_pattern') as f:
        gcore = (f.read().startswith('|') or
                 os.environ.get('MEMLAYOUT_TEST_CORE') == 'gcore')
    if gcore and not shutil.which('gdb'):
        print('skip: json-schema: explain -J: kernel.core_pattern pipes cores to a handler '
              'and there is no gdb to dump one with gcore')
        return
    code = 'import ctypes; ctypes.string_at(0x18)'
    with tempfile.TemporaryDirectory() as d:
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        if gcore:   # gdb stops it at the SIGSEGV and dumps it
            subprocess.run(['gdb', '-batch', '-nx', '-ex', 'run',
                            '-ex', 'gcore ' + os.path.join(d, 'core'),
                            '--args', sys.executable, '-c', code],
                           cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
        elif hard == 0:
            print('skip: json-schema: explain -J: the hard RLIMIT_CORE is 0')
            return
        else:
            subprocess.run([sys.executable, '-c', code], cwd=d, stderr=subprocess.DEVNULL,
                           timeout=60, preexec_fn=lambda: resource.setrlimit(
                               resource.RLIMIT_CORE, (hard, hard)))
        cores = glob.glob(os.path.join(d, 'core*'))
        if not check(len(cores) == 1, 'explain -J: the crash left one core in its directory',
                     os.listdir(d)):
            return
        res = subprocess.run([ML, 'explain', '-J', cores[0]], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=60)
        doc = json_of(res, 'explain -J CORE')
        if doc is not None:
            validate(doc, 'crash.json', 'explain -J CORE (a NULL read)')
            check_eq(doc.get('kind'), 'null-pointer', 'explain -J: the crash kind')
        res = subprocess.run([ML, 'show', '-J', cores[0]], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=60)
        doc = json_of(res, 'show -J CORE')
        if doc is not None:
            validate(doc, 'show.json', 'show -J CORE')


def main():
    check_owners_and_devices()
    with Target([TARGET]) as t:
        check_show(t.pid)
        check_where(t.pid)
        check_pages(t.pid)
    check_heap()
    check_crash()
    check_heapcheck()
    check_explain()
    check_watch()
    check_aslr()
    done()


main()
