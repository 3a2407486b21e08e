# SPDX-License-Identifier: MIT
"""test_run_ptrace.py - a program that traces (strace, gdb, LeakSanitizer)
cannot while memlayout run traces it: one line on stderr says why, once
a run, and the program goes on as it would (its ptrace(2) calls run and
fail with EPERM, its exit status is passed through).

ptracer.c calls ptrace(2) as tracers do: PTRACE_TRACEME (twice; from a
second thread; from a parent and its child), PTRACE_ATTACH and
PTRACE_SEIZE of its own child, or not at all; and a program with a
seccomp filter of its own that asks a tracer (SECCOMP_RET_TRACE) gets
ENOSYS as it does without memlayout.  lsan-leak.c, where the
suite builds it (-fsanitize=address), leaks: LeakSanitizer attaches to
its threads at exit from a process cloned with CLONE_UNTRACED.  Then,
where they are installed, real strace and gdb.

usage: test_run_ptrace.py MEMLAYOUT PTRACER [PTRACER32] [LSAN_LEAK]
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

LINE = re.compile(r'^memlayout: (.*?): process (\d+) calls ptrace\((PTRACE_\w+)\), '
                  r'which fails under memlayout run: a process has one tracer, '
                  r'and memlayout is it$')

# mode: (exit status, request named, what the program printed)
MODES = {
    'traceme': (3, 'PTRACE_TRACEME', ['TRACEME: EPERM', 'TRACEME: EPERM']),
    'attach': (4, 'PTRACE_ATTACH', ['ATTACH: EPERM']),
    'seize': (4, 'PTRACE_SEIZE', ['SEIZE: EPERM']),
    'thread': (5, 'PTRACE_TRACEME', ['TRACEME: EPERM']),
    'forked': (6, 'PTRACE_TRACEME', ['TRACEME: EPERM', 'TRACEME: EPERM']),
}


def run(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def notes(stderr):
    return [m for m in (LINE.match(l) for l in stderr.decode(errors='replace').splitlines())
            if m]


def check_modes(ml, target):
    name = os.path.basename(target)
    for mode, (status, request, printed) in MODES.items():
        res = run([ml, 'run', '--', target, mode])
        what = 'run %s %s' % (name, mode)
        check_eq(res.returncode, status, what + ': the program\'s exit status')
        check_eq(res.stdout.decode().splitlines(), printed,
                 what + ': its ptrace calls ran and failed as under any tracer')
        found = notes(res.stderr)
        check_eq(len(found), 1, what + ': one line on stderr')
        if found:
            check_eq(found[0].group(3), request, what + ': the request named')
            check_eq(found[0].group(1), name[:15], what + ': the program named')
    # A filter of the program's own that asks its tracer: the call fails
    # with ENOSYS, as with no tracer (memlayout is not the tracer it meant).
    bare = run([target, 'own-filter'])
    res = run([ml, 'run', '--', target, 'own-filter'])
    check_eq(res.returncode, bare.returncode, 'run %s own-filter: its status' % name)
    check_eq(res.stdout, bare.stdout, 'run %s own-filter: as without memlayout' % name)
    check_eq(res.stdout, b'getppid: ENOSYS\n', 'run %s own-filter: ENOSYS' % name)
    check_eq(notes(res.stderr), [], 'run %s own-filter: no ptrace line' % name)
    res = run([ml, 'run', '--', target, 'none'])
    check_eq(res.returncode, 7, 'run %s none: the program\'s exit status' % name)
    check_eq(notes(res.stderr), [], 'run %s none: no ptrace line' % name)
    check_eq(res.stderr, b'', 'run %s none: nothing on stderr' % name)


def check_lsan(ml, target):
    """LeakSanitizer's tracer: the line, its attach failing with EPERM."""
    env = dict(os.environ, LSAN_OPTIONS='verbosity=1:log_threads=1')
    res = subprocess.run([ml, 'run', '--', target], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=env)
    found = notes(res.stderr)
    check_eq(len(found), 1, 'run lsan-leak: one line on stderr')
    if found:
        check_eq(found[0].group(3), 'PTRACE_ATTACH', 'run lsan-leak: the request named')
    check(b'(errno 1)' in res.stderr, 'run lsan-leak: its attach fails with EPERM',
          res.stderr)
    check_eq(res.stdout, b'leaked\n', 'run lsan-leak: the program ran')


def check_tools(ml):
    """Real tracers, where installed."""
    strace = shutil.which('strace')
    if not strace:
        print('SKIP: strace is not installed')
    else:
        res = run([ml, 'run', '--', strace, '-o', '/dev/null', 'true'])
        found = notes(res.stderr)
        check_eq(len(found), 1, 'run strace: one line on stderr')
        if found:
            check_eq(found[0].group(1), 'strace', 'run strace: strace named')
        plain = run([strace, '-o', '/dev/null', 'true'])
        if plain.returncode == 0:
            check(res.returncode != 0, 'run strace: it fails as under any tracer',
                  res.returncode, res.stderr)
    gdb = shutil.which('gdb')
    if not gdb:
        print('SKIP: gdb is not installed')
    else:
        res = run([ml, 'run', '--', gdb, '-nx', '-batch', '-ex', 'run', '--args', 'true'])
        found = notes(res.stderr)
        check_eq(len(found), 1, 'run gdb: one line on stderr')


def main():
    ml, targets = sys.argv[1], sys.argv[2:]
    for target in targets:
        if os.path.basename(target) == 'lsan-leak':
            check_lsan(ml, target)
        else:
            check_modes(ml, target)
    check_tools(ml)
    done()


if __name__ == '__main__':
    main()
