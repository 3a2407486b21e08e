# SPDX-License-Identifier: MIT
"""test_run_threads.py - memlayout run on a thread that runs off its own
stack (thread-overflow.c), in every way the issue lists: frames of a
plain recursion, frames grown with alloca (sp lands in the guard before
anything is pushed), one frame bigger than the stack (sp lands below the
guard), stack sizes 64K..8M (0: glibc's default), guard sizes 0, 4K, 64K;
each target built -O0 and -O2, 64- and 32-bit.

Each run must give one report of kind thread-stack-overflow naming the
thread (not the main one), the stack glibc gave it (the bounds the
thread printed from pthread_getattr_np: START END), its guard when it
has one, how far below the stack the access was (or that it hit the
guard), the recursion depth for a recursion, and the function that
overflowed in the backtrace.

usage: test_run_threads.py MEMLAYOUT SOURCE TARGET...
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

PAGE = os.sysconf('SC_PAGESIZE')
# (frame kind, stack KiB (0: default), guard bytes (-1: default))
VARIANTS = (
    ('frame', 0, -1),
    ('alloca', 0, -1),
    ('frame', 64, PAGE),
    ('alloca', 64, 0),
    ('frame', 256, 0),
    ('alloca', 512, 65536),
    ('frame', 8192, 65536),
    ('big', 128, PAGE),
    ('big', 128, 0),
)


def run(ml, target, args):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, 'report.json')
        res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--',
                              target, *args], stdin=subprocess.DEVNULL,
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


def one(ml, target, frame, kib, guard):
    args = [frame, str(kib), str(guard)]
    what = 'run %s %s' % (os.path.basename(target), ' '.join(args))
    res, docs = run(ml, target, args)
    check_eq(res.returncode, -signal.SIGSEGV,
             what + ': memlayout dies of SIGSEGV, as the program did')
    m = re.search(rb'stack (0x[0-9a-f]+) (0x[0-9a-f]+)', res.stdout)
    if not check(m, what + ': the thread printed its stack', res.stdout):
        return
    lo, hi = int(m.group(1), 16), int(m.group(2), 16)
    if not check(len(docs) == 1, what + ': one report', docs,
                 res.stderr[-500:]):
        return
    d = docs[0]
    check_eq(d.get('kind'), 'thread-stack-overflow', what + ': kind')
    th = d.get('thread') or {}
    check(th.get('main') is False and th.get('tid') != d['process']['pid'],
          what + ': names the thread, not the main one', th)
    st = th.get('stack') or {}
    start = int(st.get('start') or '0', 16)
    end = int(st.get('end') or '0', 16)
    # glibc's bounds are the stack mapping's, less the guard when the
    # guard is not a mapping of its own; the descriptor sits in it.
    check(start <= lo < hi <= end and end - start <= hi - lo + 2 * 65536,
          what + ': stack bounds are the thread\'s',
          (hex(start), hex(end)), (hex(lo), hex(hi)))
    addr = int(d.get('address') or '0', 16)
    region = d.get('region') or {}
    if guard != 0:
        gs, ge = st.get('guard_start'), st.get('guard_end')
        check(gs and ge and int(ge, 16) == start and
              int(ge, 16) - int(gs, 16) == max(guard, PAGE),
              what + ': names its guard below the stack', gs, ge)
    else:
        check_eq(st.get('guard_start'), None, what + ': no guard')
    check(addr < start, what + ': the access was below the stack',
          hex(addr), hex(start))
    check_eq(st.get('below_limit'), start - addr if addr < start else None,
             what + ': says how far below')
    if region:
        check(region.get('kind') in ('guard', 'reserved'),
              what + ': the access hit no usable memory', region)
    if guard != 0 and region and frame != 'big':
        # (one big frame can jump past the guard into another mapping)
        check_eq(region.get('kind'), 'guard', what + ': the guard is a guard')
    expl = d.get('explanation') or ''
    check('thread %d' % th.get('tid', -1) in expl and '%#x' % start in expl,
          what + ': the sentence names the thread and its stack', expl)
    fn = 'big' if frame == 'big' else 'deep'
    bt = [f.get('function') for f in d.get('backtrace') or []]
    check(fn in bt[:4], what + ': backtrace names ' + fn, bt[:6])
    if frame != 'big':
        check((d.get('recursion_depth') or 0) > 10,
              what + ': says the recursion depth', d.get('recursion_depth'))


def main():
    ml, _src = sys.argv[1:3]
    for target in sys.argv[3:]:
        for frame, kib, guard in VARIANTS:
            one(ml, target, frame, kib, guard)
    done()


main()
