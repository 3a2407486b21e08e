# SPDX-License-Identifier: MIT
"""test_run_handled.py - memlayout run on programs whose own SIGSEGV
handler catches the fault first (handled.c) and then ends the process:
the report explains the fault itself (its true kind, address, the
backtrace from the faulting frame) and says the handler caught it, then
aborted or raised it again (JSON handled_then).  A fault the handler
recovered from is not blamed for a later, unrelated abort().  64 threads
faulting at once give one report.  Python with -X faulthandler (a NULL
read through ctypes) where this python3 has ctypes.

usage: test_run_handled.py MEMLAYOUT HANDLED [--32]
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

SEGV, ABRT = 128 + signal.SIGSEGV, 128 + signal.SIGABRT

# mode: (death status, kind, then signal, function at the fault)
CASES = {
    'overflow-abort': (ABRT, 'stack-overflow', 'SIGABRT', 'deep'),
    'thread-abort': (ABRT, 'thread-stack-overflow', 'SIGABRT', 'deep'),
    'null-reraise': (SEGV, 'null-pointer', 'SIGSEGV', 'null_read'),
}


def status(res):
    """The shell's view: 128 + signal for a death by a signal."""
    return 128 - res.returncode if res.returncode < 0 else res.returncode


def run(ml, argv):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, 'report.json')
        res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--',
                              *argv], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=120)
        docs = []
        if os.path.exists(rep):
            text = open(rep, encoding='utf-8').read()
            dec, i = json.JSONDecoder(), 0
            while i < len(text.rstrip()):
                while text[i].isspace():
                    i += 1
                doc, i = dec.raw_decode(text, i)
                docs.append(doc)
    return res, docs


def handled(ml, target):
    for mode, (st, kind, then, fn) in CASES.items():
        what = 'run handled ' + mode
        res, docs = run(ml, [target, mode])
        check_eq(status(res), st, what + ': exit status')
        if not check(len(docs) == 1, what + ': one report', docs,
                     res.stderr[-400:]):
            continue
        d = docs[0]
        check_eq(d.get('kind'), kind, what + ': the fault\'s kind')
        check_eq(d.get('signal'), 'SIGSEGV', what + ': the fault\'s signal')
        check_eq((d.get('handled_then') or {}).get('signal'), then,
                 what + ': the handler caught it, then ' + then)
        check('handler caught it first' in (d.get('explanation') or ''),
              what + ': the sentence says so', d.get('explanation'))
        bt = [f.get('function') for f in d.get('backtrace') or []]
        check(bt[:1] == [fn], what + ': backtrace starts at the fault', bt[:5])
        st = (d.get('thread') or {}).get('stack') or {}
        if kind == 'thread-stack-overflow':
            # its stack, not the sigaltstack its handler runs on
            check(st.get('below_limit') and st['below_limit'] < 65536,
                  what + ': just below the thread\'s own stack', st)
        if kind.endswith('stack-overflow'):
            check((d.get('recursion_depth') or 0) > 100,
                  what + ': recursion depth', d.get('recursion_depth'))
    what = 'run handled recover-abort'
    res, docs = run(ml, [target, 'recover-abort'])
    check_eq(status(res), ABRT, what + ': exit status')
    check(b'recovered' in res.stdout, what + ': recovered', res.stdout)
    if check(len(docs) == 1, what + ': one report', docs):
        check_eq(docs[0].get('kind'), 'abort', what + ': a plain abort')
        check_eq(docs[0].get('handled_then'), None,
                 what + ': the recovered fault is not blamed')


def many_threads(ml, target):
    for i in range(5):
        what = 'run handled threads-null (%d)' % i
        res, docs = run(ml, [target, 'threads-null'])
        check_eq(status(res), SEGV, what + ': exit status')
        check_eq(len(docs), 1, what + ': one report for one death')


def python_faulthandler(ml):
    what = 'run python3 -X faulthandler'
    code = 'import ctypes; ctypes.string_at(0x18)'
    res, docs = run(ml, [sys.executable, '-X', 'faulthandler', '-c', code])
    check_eq(status(res), SEGV, what + ': exit status')
    check(b'Fatal Python error' in res.stderr, what + ': faulthandler ran',
          res.stderr[-300:])
    if check(len(docs) == 1, what + ': one report', docs):
        d = docs[0]
        check_eq(d.get('kind'), 'null-pointer', what + ': kind')
        check_eq(d.get('address'), '0x18', what + ': the address read')
        check_eq((d.get('handled_then') or {}).get('signal'), 'SIGSEGV',
                 what + ': the handler raised it again')


def main():
    ml, target = sys.argv[1:3]
    handled(ml, target)
    many_threads(ml, target)
    if sys.argv[3:] != ['--32']:
        try:
            import ctypes  # noqa: F401
            python_faulthandler(ml)
        except ImportError:
            print('skip: python faulthandler: no ctypes in this python3')
    done()


main()
