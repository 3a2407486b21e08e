#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_heapcheck.py MODE LIBMLALLOC PROG [PROG-CXX]: run every case of the
heap-bug corpus (heapbug.c, heapbug-cxx.cc) with LD_PRELOAD=libmlalloc.so
and MLALLOC_CHECK=MODE, and require the report mlalloc prints: the right
bug class, block size and offset, and as allocation (and free) site the
source line tagged @alloc:CASE (@free:CASE), found by addr2line from the
module+offset the message gives; the process must die (SIGSEGV or SIGABRT).
The clean cases must run to the end with no report.

MODE run:MEMLAYOUT[:RATE] runs each case under `memlayout run -J
--check=heap [--sample-rate RATE]` instead, and requires the same facts
from its JSON report (kind, block size and offset, the first frame in the
corpus's source file of alloc_backtrace and free_backtrace)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

RAN = []
HERE = os.path.dirname(os.path.abspath(__file__))

# case: (kind, size, offset, has free site)
CASES = {
    'uaf-read-large': ('heap-use-after-free', 8192, 100, True),
    'uaf-write-small': ('heap-use-after-free', 40, 3, True),
    'overflow-large': ('heap-buffer-overflow', 8000, 8000, False),
    'overflow-small': ('heap-buffer-overflow', 24, 24, False),
    'underflow-small': ('heap-buffer-underflow', 24, -1, False),
    'double-free-small': ('double-free', 64, 0, True),
    'double-free-large': ('double-free', 100000, 0, True),
    'invalid-free-small': ('invalid-free', 48, 8, False),
    'calloc-overflow': ('heap-buffer-overflow', 100, 100, False),
    'realloc-uaf': ('heap-use-after-free', 5000, 16, True),
    'memalign-overflow': ('heap-buffer-overflow', 4096, 4096, False),
}
# page blocks only: sampled mode (every block is one with rate 1)
SAMPLED_CASES = {
    'uaf-read-small': ('heap-use-after-free', 40, 5, True),
}
THREAD_CASES = ['uaf-read-large', 'uaf-write-small', 'overflow-small', 'double-free-large']
CXX_CASES = {
    'new-overflow': ('heap-buffer-overflow', 40, 40, False),
    'new-uaf-large': ('heap-use-after-free', 16384, 20, True),
}
# underflow mode: the guard page before the block
UNDERFLOW_CASES = {
    'underflow-large': ('heap-buffer-underflow', 8192, -8, False),
}

HEAD = re.compile(r'^mlalloc: ([a-z-]+): .*?the block (0x[0-9a-f]+) of (\d+) bytes, '
                  r'at offset (-?\d+)', re.M)
FRAME = re.compile(r'^    #\d+ 0x[0-9a-f]+ \((.*)\+(0x[0-9a-f]+)\)$')


def tags(src):
    out = {}
    with open(src) as f:
        for n, line in enumerate(f, 1):
            for m in re.finditer(r'@(alloc|free):([a-z-]+)', line):
                out[(m.group(1), m.group(2))] = n
    return out


def frames(text, title):
    """(module, offset) of each frame listed under TITLE."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith('  ') and line.strip().endswith(':'):
            inside = line.strip() == title
            continue
        m = FRAME.match(line)
        if inside and m:
            out.append((m.group(1), int(m.group(2), 16)))
        elif not m:
            inside = inside and line.startswith('    #')
    return out


def site(text, title, prog):
    """file:line of the first frame in PROG, by addr2line (return address - 1)."""
    for mod, off in frames(text, title):
        if os.path.realpath(mod) == os.path.realpath(prog):
            r = subprocess.run(['addr2line', '-e', prog, hex(off - 1)],
                               capture_output=True, text=True, check=True)
            f, _, line = r.stdout.strip().partition(':')
            return os.path.basename(f), int(re.match(r'\d+', line).group(0))
    return None


def run(lib, mode, prog, arg):
    env = dict(os.environ, LD_PRELOAD=lib, MLALLOC_CHECK=mode)
    return subprocess.run([prog, arg], env=env, capture_output=True, text=True, timeout=60)


def run_json(ml, rate, prog, arg):
    """memlayout run -J --check=heap: (status, report or None, stderr)."""
    cmd = [ml, 'run', '-J', '--check=heap'] + (['--sample-rate', rate] if rate else [])
    r = subprocess.run(cmd + ['--', prog, arg], capture_output=True, text=True, timeout=60)
    start = r.stderr.find('\n{')
    try:
        return r.returncode, json.loads(r.stderr[start:]) if start >= 0 else None, r.stderr
    except ValueError:
        return r.returncode, None, r.stderr


def json_site(frames, src):
    for f in frames:
        if f.get('file') and os.path.basename(f['file']) == os.path.basename(src):
            return os.path.basename(f['file']), f['line']
    return None


def check_run(ml, rate, prog, src, name, want, failures):
    kind, size, offset, has_free = want
    base = name[:-7] if name.endswith('-thread') else name
    status, doc, err = run_json(ml, rate, prog, name)
    t = tags(src)
    fname = os.path.basename(src)
    problems = []
    RAN.append(name)
    # memlayout run ends by the signal the program died of (memlayout-run(1))
    if status not in (-signal.SIGSEGV, -signal.SIGABRT):
        problems.append(f'memlayout exit status {status}, not death by SIGSEGV or SIGABRT')
    if not doc:
        problems.append('no JSON report')
    else:
        block = doc.get('block') or {}
        got = (doc.get('kind'), block.get('size'), block.get('offset'))
        if got != (kind, size, offset):
            problems.append(f'reported {got}, want {(kind, size, offset)}')
        if json_site(doc['alloc_backtrace'], src) != (fname, t[('alloc', base)]):
            problems.append(f"alloc_backtrace site {json_site(doc['alloc_backtrace'], src)}, "
                            f"want {fname}:{t[('alloc', base)]}")
        if has_free and json_site(doc['free_backtrace'], src) != (fname, t[('free', base)]):
            problems.append(f"free_backtrace site {json_site(doc['free_backtrace'], src)}, "
                            f"want {fname}:{t[('free', base)]}")
        # in full mode a small block's write after free is found when it
        # leaves the quarantine: at exit, in the main thread
        late = base == 'uaf-write-small' and not rate
        if name.endswith('-thread') and not late and doc['thread']['main']:
            problems.append('found in the main thread, not the second one')
    if problems:
        failures.append(f'run {name}: ' + '; '.join(problems) + '\n' + err[-1500:])
    else:
        print(f'ok: run{" --sample-rate " + rate if rate else ""} {name}: {kind}, {size} bytes, offset {offset}')


def check_run_leaks(ml, rate, prog, failures):
    """run -J --check=heap,leaks on the leaks case: the two groups, larger
    first, with their sites from the symbolizer."""
    RAN.append('leaks')
    src = os.path.join(HERE, 'heapbug.c')
    t = tags(src)
    cmd = [ml, 'run', '-J', '--check=heap,leaks'] + (['--sample-rate', rate] if rate else [])
    r = subprocess.run(cmd + ['--', prog, 'leaks'], capture_output=True, text=True, timeout=60)
    start = r.stderr.find('\n{')
    try:
        doc = json.loads(r.stderr[start:]) if start >= 0 else None
    except ValueError:
        doc = None
    problems = []
    if r.returncode != 0:
        problems.append(f'memlayout exit status {r.returncode}')
    if not doc:
        problems.append('no JSON leak report')
    else:
        got = [(g['bytes'], g['blocks'], json_site(g['backtrace'], src)) for g in doc['leaks']]
        want = [(5000, 1, ('heapbug.c', t[('alloc', 'leak-large')])),
                (300, 3, ('heapbug.c', t[('alloc', 'leak-small')]))]
        if got != want or (doc['bytes'], doc['blocks']) != (5300, 4):
            problems.append(f"leaks {got} total {(doc['bytes'], doc['blocks'])}, want {want} total 5300 in 4")
    if problems:
        failures.append('run leaks: ' + '; '.join(problems) + '\n' + r.stderr[-1500:])
    else:
        print('ok: run --check=heap,leaks: 5000 bytes in 1 block, 300 bytes in 3, at their sites')


def check(lib, mode, prog, src, name, want, failures):
    if mode.startswith('run:'):
        _, ml, *rate = mode.split(':')
        return check_run(ml, rate[0] if rate else None, prog, src, name, want, failures)
    kind, size, offset, has_free = want
    base = name[:-7] if name.endswith('-thread') else name
    r = run(lib, mode, prog, name)
    t = tags(src)
    problems = []
    if r.returncode not in (-signal.SIGSEGV, -signal.SIGABRT):
        problems.append(f'status {r.returncode}, not killed by SIGSEGV or SIGABRT')
    m = HEAD.search(r.stderr)
    if not m:
        problems.append('no report')
    else:
        got = (m.group(1), int(m.group(3)), int(m.group(4)))
        if got != (kind, size, offset):
            problems.append(f'reported {got}, want {(kind, size, offset)}')
        fname = os.path.basename(src)
        if site(r.stderr, 'allocated at:', prog) != (fname, t[('alloc', base)]):
            problems.append(f"allocation site {site(r.stderr, 'allocated at:', prog)}, "
                            f"want {fname}:{t[('alloc', base)]}")
        if has_free and site(r.stderr, 'freed at:', prog) != (fname, t[('free', base)]):
            problems.append(f"free site {site(r.stderr, 'freed at:', prog)}, "
                            f"want {fname}:{t[('free', base)]}")
    RAN.append(name)
    if problems:
        failures.append(f'{mode} {name}: ' + '; '.join(problems) + '\n' + r.stderr[-1500:])
    else:
        print(f'ok: {mode} {name}: {kind}, {size} bytes, offset {offset}')


def clean(lib, mode, prog, failures):
    RAN.append('clean')
    if mode.startswith('run:'):
        _, ml, *rate = mode.split(':')
        cmd = [ml, 'run', '--check=heap'] + (['--sample-rate', rate[0]] if rate else [])
        r = subprocess.run(cmd + ['--', prog, 'clean'], capture_output=True, text=True, timeout=60)
    else:
        r = run(lib, mode, prog, 'clean')
    if r.returncode != 0 or r.stdout != 'clean\n' or 'mlalloc' in r.stderr:
        failures.append(f'{mode} clean {prog}: status {r.returncode}, {r.stdout!r} {r.stderr[-500:]!r}')
    else:
        print(f'ok: {mode} clean {os.path.basename(prog)}: no report')


LEAK_HEAD = re.compile(r'^mlalloc: leaks: (\d+) bytes in (\d+) blocks', re.M)
LEAK_GROUP = re.compile(r'^  (\d+) bytes in (\d+) blocks?, allocated at:$', re.M)


def check_leaks(lib, mode, prog, failures):
    """MODE ending in ,leaks: the leaks case reports its two lost sites,
    the larger first, and not the blocks a global still reaches."""
    RAN.append('leaks')
    src = os.path.join(HERE, 'heapbug.c')
    t = tags(src)
    r = run(lib, mode, prog, 'leaks')
    problems = []
    head = LEAK_HEAD.search(r.stderr)
    if r.returncode != 0 or r.stdout != 'leaks\n':
        problems.append(f'status {r.returncode}, output {r.stdout!r}')
    if not head or (int(head.group(1)), int(head.group(2))) != (5300, 4):
        problems.append(f"totals {head.groups() if head else None}, want 5300 bytes in 4 blocks")
    groups = LEAK_GROUP.findall(r.stderr)
    if [(int(b), int(n)) for b, n in groups] != [(5000, 1), (300, 3)]:
        problems.append(f'groups {groups}, want 5000 bytes in 1 block, then 300 in 3')
    for title, tag in [('5000 bytes in 1 block, allocated at:', 'leak-large'),
                       ('300 bytes in 3 blocks, allocated at:', 'leak-small')]:
        got = site(r.stderr, title, prog)
        if got != ('heapbug.c', t[('alloc', tag)]):
            problems.append(f"site of '{title}' {got}, want heapbug.c:{t[('alloc', tag)]}")
    if problems:
        failures.append(f'{mode} leaks: ' + '; '.join(problems) + '\n' + r.stderr[-1500:])
    else:
        print(f'ok: {mode} leaks: 5000 bytes in 1 block, then 300 bytes in 3 blocks, at their sites')


def main():
    mode, lib, prog = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
    cxx = sys.argv[4] if len(sys.argv) > 4 else None
    if not shutil.which('addr2line'):
        print('addr2line (binutils) not installed')
        sys.exit(77)
    failures = []
    src = os.path.join(HERE, 'heapbug.c')
    if mode.endswith(',leaks'):
        check_leaks(lib, mode, prog, failures)
        clean(lib, mode, prog, failures)
        for f in failures:
            print('FAIL:', f)
        print(f'{len(RAN) - len(failures)} passed, {len(failures)} failed')
        sys.exit(1 if failures else 0)
    if mode.endswith(',underflow'):
        cases = dict(UNDERFLOW_CASES)
    else:
        cases = dict(CASES)
        cases.update({n + '-thread': CASES[n] for n in THREAD_CASES})
        if mode.startswith('sample:') or (mode.startswith('run:') and mode.count(':') == 2):
            cases.update(SAMPLED_CASES)
    for name, want in cases.items():
        check(lib, mode, prog, src, name, want, failures)
    if mode.startswith('run:'):
        _, ml, *rate = mode.split(':')
        check_run_leaks(ml, rate[0] if rate else None, prog, failures)
    clean(lib, mode, prog, failures)
    if cxx and not mode.endswith(',underflow'):
        for name, want in CXX_CASES.items():
            check(lib, mode, cxx, os.path.join(HERE, 'heapbug-cxx.cc'), name, want, failures)
        clean(lib, mode, cxx, failures)
    for f in failures:
        print('FAIL:', f)
    print(f'{len(RAN) - len(failures)} passed, {len(failures)} failed')
    sys.exit(1 if failures else 0)


main()
