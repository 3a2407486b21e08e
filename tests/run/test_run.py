# SPDX-License-Identifier: MIT
"""test_run.py - memlayout run on the crash corpus (crash-target MODE):
for each way to die, the JSON report's kind, access, region or hole,
the exit status (128 + signal), and a backtrace that names the crashing
function at the line marked "LINE:<mode>" in crash-target.c; and for
the programs that do not crash (their own SIGSEGV handler, exit 7,
SIGKILL), no report and the same status.  Also: a crash in a thread, in
a forked child and in an exec'd grandchild (the parent's status wins),
a command that does not exist, a usage error, SIGTERM sent to memlayout
reaching the program, and ptrace refused: the program is already traced
(memlayout run under memlayout run: the outer one follows the inner one's
fork first) or ptrace(2) fails under a seccomp filter (NO_PTRACE).

With --32 (CRASH_TARGET built -m32), the kinds in CASES32 only.

usage: test_run.py MEMLAYOUT CRASH_TARGET CRASH_TARGET_SOURCE (NO_PTRACE | --32)
"""
import ctypes
import json
import mmap
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done, traced_env  # noqa: E402

SEGV, BUS, ILL, FPE, ABRT, TRAP = (128 + s for s in (
    signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
    signal.SIGABRT, signal.SIGTRAP))

# mode: (exit status, access, region kind or None, hole kind or None,
#        function in the backtrace, marked line checked)
CASES = {
    'null-pointer': (SEGV, 'read', None, 'null-zone', 'null_read'),
    'stack-overflow': (SEGV, 'write', None, 'stack-guard-gap', 'recurse'),
    'thread-stack-overflow': (SEGV, 'write', 'guard', None, 'recurse'),
    # A thread stack of our own whose low pages are MADV_GUARD_INSTALL
    # guards inside the rw-p mapping (Linux 6.13+; skipped, saying why,
    # where the kernel refuses the advice: guard_markers()).
    'thread-guard-overflow': (SEGV, 'write', 'thread-stack', None, 'recurse'),
    'write-read-only': (SEGV, 'write', 'rodata', None, 'write_rodata'),
    'exec-non-executable': (SEGV, 'exec', 'heap', None, 'exec_heap'),
    'jump-unmapped': (SEGV, 'exec', None, 'below-first', 'jump_wild'),
    'kernel-space': (SEGV, 'read', None, 'kernel', 'read_kernel'),
    'non-canonical': (SEGV, 'read', None, 'non-canonical',
                      'read_noncanonical'),
    'unmapped': (SEGV, 'read', None, 'gap', 'use_after_munmap'),
    'past-heap-end': (SEGV, 'read', None, 'heap-mmap-gap', 'past_brk'),
    'no-access': (SEGV, 'read', 'reserved', None, 'prot_none'),
    'file-truncated': (BUS, 'read', 'file', None, 'truncated'),
    'misaligned': (SEGV, 'read', 'data', None, 'misaligned'),
    'divide-by-zero': (FPE, 'unknown', 'text', None, 'divide'),
    'illegal-instruction': (ILL, 'exec', 'text', None, 'illegal'),
    'breakpoint': (TRAP, 'unknown', 'text', None, 'breakpoint'),
    'heap-corruption': (ABRT, 'unknown', None, None, 'double_free'),
    'stack-smashing': (ABRT, 'unknown', None, None, 'smash'),
    'abort': (ABRT, 'unknown', None, None, 'call_abort'),
}
# Modes whose kind is not their name.
KIND_OF = {'thread-guard-overflow': 'thread-stack-overflow'}
MESSAGES = {'heap-corruption': 'double free',
            'stack-smashing': 'stack smashing detected'}
# i386: no kernel half or non-canonical hole in a 32-bit address space.
CASES32 = ('null-pointer', 'stack-overflow', 'thread-stack-overflow',
           'thread-guard-overflow',
           'write-read-only', 'exec-non-executable', 'misaligned',
           'divide-by-zero', 'heap-corruption', 'stack-smashing')
SECTIONS = {'write-read-only': '.rodata', 'misaligned': '.bss'}


def marked_lines(source):
    lines = {}
    with open(source) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r'LINE:([a-z-]+)', line)
            if m:
                lines[m.group(1)] = n
    return lines


def shell_status(res):
    """The status a shell sees: 128 + N for a death by signal N (memlayout
    run ends by the program's signal, as the program did)."""
    return 128 - res.returncode if res.returncode < 0 else res.returncode


def run_reported(ml, target, mode, *extra):
    """memlayout run -J --report=FILE -- target mode: (status, reports)."""
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, 'report.json')
        res = subprocess.run([ml, 'run', '-J', '--report=' + rep, *extra,
                              '--', target, mode], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=60)
        docs = []
        if os.path.exists(rep):
            text = open(rep, encoding='utf-8').read()
            dec, i = json.JSONDecoder(), 0
            while i < len(text.rstrip()):
                while text[i].isspace():
                    i += 1
                doc, i = dec.raw_decode(text, i)
                docs.append(doc)
    res.returncode = shell_status(res)
    return res, docs


def check_backtrace(doc, func, line, src, what):
    bt = doc.get('backtrace') or []
    frames = [f for f in bt if f.get('function') == func]
    if not check(frames, what + ': backtrace names ' + func,
                 [(f.get('function'), f.get('line')) for f in bt[:8]]):
        return
    # int3 traps with pc after it: the next line (the closing brace).
    ok_lines = (line, line + 1) if func == 'breakpoint' else (line,)
    check(any(f.get('line') in ok_lines and
              os.path.basename(f.get('file') or '') == os.path.basename(src)
              for f in frames), '%s: %s at %s:%d' %
          (what, func, os.path.basename(src), line),
          [(f.get('file'), f.get('line')) for f in frames[:3]])


def guard_markers():
    """None if this kernel installs MADV_GUARD_INSTALL guard markers, else
    madvise's error (EINVAL: an advice it does not know, before 6.13)."""
    libc = ctypes.CDLL(None, use_errno=True)
    page = mmap.PAGESIZE
    m = mmap.mmap(-1, page)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    if libc.madvise(ctypes.c_void_p(addr), ctypes.c_size_t(page), 102) == 0:
        return None
    return os.strerror(ctypes.get_errno())


def crash_cases(ml, target, src, modes):
    lines = marked_lines(src)
    no_guard = guard_markers()
    for mode, (status, access, rkind, hkind, func) in CASES.items():
        if mode not in modes:
            continue
        if mode == 'thread-guard-overflow' and no_guard:
            print('skip: %s: madvise(MADV_GUARD_INSTALL): %s (this kernel has no '
                  'guard markers; Linux 6.13 added them)' % (mode, no_guard))
            continue
        what = 'run ' + mode
        kind = KIND_OF.get(mode, mode)
        res, docs = run_reported(ml, target, mode)
        check_eq(res.returncode, status, what + ': exit status')
        if not check(len(docs) == 1, what + ': one report', docs,
                     res.stderr[-500:]):
            continue
        d = docs[0]
        check_eq(d.get('kind'), kind, what + ': kind')
        check_eq(d.get('access'), access, what + ': access')
        check_eq(d.get('signo'), status - 128, what + ': signal number')
        region, hole = d.get('region'), d.get('hole')
        check_eq(region and region.get('kind'), rkind, what + ': region kind')
        check_eq(hole and hole.get('kind'), hkind, what + ': hole kind')
        if mode in SECTIONS:
            check_eq(region and region.get('section'), SECTIONS[mode],
                     what + ': section')
        if mode in MESSAGES:
            check(MESSAGES[mode] in (d.get('message') or ''),
                  what + ': quotes the C library message', d.get('message'))
        check(isinstance(d.get('explanation'), str) and
              len(d['explanation']) > 20, what + ': an explanation',
              d.get('explanation'))
        check_eq(d['thread']['main'], kind != 'thread-stack-overflow',
                 what + ': crashed in the main thread (or not)')
        if region:
            check_eq(region.get('guard_page'), mode == 'thread-guard-overflow',
                     what + ': the page is a MADV_GUARD guard (or not)')
        line = 'stack-overflow' if kind.endswith('stack-overflow') else mode
        check_backtrace(d, func, lines[line], src, what)
        if kind.endswith('stack-overflow'):
            check((d.get('recursion_depth') or 0) > 100,
                  what + ': says the recursion depth',
                  d.get('recursion_depth'))


def descendants(ml, target, src):
    line = marked_lines(src)['null-pointer']
    for mode, status, same_pid in (('thread', SEGV, False),
                                   ('child', 3, False),
                                   ('child-exec', 3, True)):
        what = 'run ' + mode
        res, docs = run_reported(ml, target, mode)
        check_eq(res.returncode, status, what + ': exit status')
        if not check(len(docs) == 1, what + ': one report', docs,
                     res.stderr[-500:]):
            continue
        d = docs[0]
        check_eq(d.get('kind'), 'null-pointer', what + ': kind')
        if mode == 'thread':
            check(d['thread']['tid'] != d['process']['pid'] and
                  not d['thread']['main'], what + ': names the thread',
                  d['thread'], d['process'])
        else:
            m = re.search(rb'child=(\d+) signal=(\d+)', res.stdout)
            check(m and int(m.group(1)) == d['process']['pid'] and
                  int(m.group(2)) == signal.SIGSEGV,
                  what + ': names the child process, which died of SIGSEGV',
                  res.stdout, d['process'])
        check_backtrace(d, 'null_read', line, src, what)


def quiet_cases(ml, target):
    for mode, status in (('handler', 0), ('exit7', 7), ('sigkill', 137)):
        what = 'run ' + mode
        res, docs = run_reported(ml, target, mode)
        check_eq(res.returncode, status, what + ': exit status')
        check_eq(docs, [], what + ': no report')
        check_eq(res.stderr, b'', what + ': nothing on stderr')
    res, _ = run_reported(ml, target, 'handler')
    check(b'recovered' in res.stdout, 'run handler: its output passes',
          res.stdout)


def text_report(ml, target):
    res = subprocess.run([ml, 'run', '--', target, 'null-pointer'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    err = res.stderr.decode('utf-8', 'replace')
    check_eq(res.returncode, -signal.SIGSEGV,
             'text report: memlayout dies of the program\'s signal')
    check('NULL pointer dereference: a read at 0x18, 24 bytes above address 0'
          in err, 'text report: the plain words come first', err[:400])
    check('<- fault 0x18' in err, 'text report: the diagram marks the fault',
          err[-800:])


def full_report(ml, target):
    """A report that cannot be written (a full disk: /dev/full) is said on
    stderr, naming the file and the reason; the status stays the
    program's."""
    if not os.path.exists('/dev/full'):
        print('# no /dev/full here: the lost-report check is not run')
        return
    for extra in ([], ['-J']):
        what = 'run %s--report=/dev/full' % ''.join(e + ' ' for e in extra)
        res = subprocess.run([ml, 'run', *extra, '--report=/dev/full', '--',
                              target, 'null-pointer'],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=60)
        check_eq(shell_status(res), SEGV, what + ': the program\'s exit status')
        check_eq(res.stderr.decode('utf-8', 'replace'),
                 'memlayout: /dev/full: No space left on device\n',
                 what + ': the lost report is said on stderr')


def errors(ml, target):
    res = subprocess.run([ml, 'run', '--', '/nonexistent/prog'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=60)
    check_eq(res.returncode, 127, 'run of a missing command: exit 127')
    check(res.stderr.startswith(b'memlayout: /nonexistent/prog: cannot run'),
          'run of a missing command: says so', res.stderr)
    res = subprocess.run([ml, 'run'], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    check_eq(res.returncode, 125, 'run without a command: usage error, 125')
    # memlayout's usage errors never look like the program's exit 2
    for argv, what in (([ml, 'run', '--no-such-option', '--', 'true'], 'unknown option'),
                       ([ml, 'run', '--sample-rate=2', '--', 'true'], '--sample-rate alone')):
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=60)
        check_eq(res.returncode, 125, 'run, %s: exit 125' % what)
        check(res.stderr.startswith(b'memlayout: ') and b"Try 'memlayout run --help'" in res.stderr,
              'run, %s: one line and the hint' % what, res.stderr)
    res = subprocess.run([ml, 'run', '--', 'sh', '-c', 'exit 2'], timeout=60)
    check_eq(res.returncode, 2, "the program's own exit 2 passes through")


def forwarding(ml, target):
    p = subprocess.Popen([ml, 'run', '--', target, 'sleep'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    check_eq(p.stdout.readline(), b'sleeping\n', 'the program runs')
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    check_eq(p.returncode, -signal.SIGTERM,
             'SIGTERM to memlayout reaches the program (and ends both)')
    check_eq(err, b'', 'SIGTERM: no report')


def refused(ml, target, no_ptrace):
    """Both ways: exit 125 (memlayout failed), one line saying ptrace was refused (and by whom
    when a tracer holds the program), the program never ran, memlayout
    returned at once."""
    outer = subprocess.Popen([ml, 'run', '--', ml, 'run', '--', target,
                              'handler'], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=traced_env())
    try:
        out, err = outer.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        outer.kill()
        out, err = outer.communicate()
    what = 'run under run'
    check_eq(outer.returncode, 125, what + ': exit 125 (the inner one\'s)')
    # The outer one says why its program's ptrace fails; the inner names it.
    lines = err.decode().split('\n', 1)
    check(re.fullmatch(r'memlayout: memlayout: process \d+ calls ptrace\(PTRACE_SEIZE\), '
                       'which fails under memlayout run: a process has one tracer, '
                       'and memlayout is it', lines[0]),
          what + ': the outer one says why', err)
    check_eq(lines[-1], 'memlayout: %s: cannot trace it: ptrace refused: '
             'it is already traced by process %d\n' % (target, outer.pid),
             what + ': names the tracer that holds it')
    check_eq(out, b'', what + ': the program never ran')

    res = subprocess.run([no_ptrace, ml, 'run', '--', target, 'handler'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=20, env=traced_env())
    what = 'run under seccomp'
    check_eq(res.returncode, 125, what + ': exit 125')
    check(res.stderr.startswith(('memlayout: %s: cannot trace it: ptrace '
                                 'refused (' % target).encode()) and
          res.stderr.count(b'\n') == 1, what + ': one line, ptrace refused',
          res.stderr)
    check_eq(res.stdout, b'', what + ': the program never ran')


def main():
    ml, target, src = sys.argv[1:4]
    if sys.argv[4:] == ['--32']:
        crash_cases(ml, target, src, CASES32)
        done()
    no_ptrace = sys.argv[4]
    crash_cases(ml, target, src, CASES)
    descendants(ml, target, src)
    quiet_cases(ml, target)
    text_report(ml, target)
    full_report(ml, target)
    errors(ml, target)
    forwarding(ml, target)
    refused(ml, target, no_ptrace)
    done()


main()
