# SPDX-License-Identifier: MIT
"""test_aslr.py - memlayout aslr on a small PIE and the same program built
-no-pie: the PIE's text is randomised (distinct page-aligned bases, bits >
0), the non-PIE's text fixed (exactly 0 bits, one base, where its main is);
text, data and bss move as one group, the libraries, ld.so, the vdso and
the anonymous mmaps as another; argv and env with the stack top, env one
argument string above argv; --no-randomize gives 0 bits everywhere;
-J/-b types; -c counts the runs and -n is --noheadings; under setarch -R
the header says the run was not randomised; usage and command errors.  Modest run counts: the properties
checked hold for any n >= 2 with overwhelming probability (28 bits).

usage: test_aslr.py MEMLAYOUT TARGET_PIE TARGET_NOPIE
"""
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done, parse_facts, parse_json_output, run  # noqa: E402

PAGE = os.sysconf('SC_PAGE_SIZE')
RUNS = 30


def va_space():
    with open('/proc/sys/kernel/randomize_va_space') as f:
        return int(f.read())


def aslr_json(ml, *args, what):
    res = run(ml, 'aslr', '-J', '-b', *args)
    if not check(res.returncode == 0, what + ' exits 0', res.returncode,
                 res.stderr.decode('utf-8', 'replace')):
        return None
    check_eq(res.stderr, b'', what + ': nothing on stderr (not a tty)')
    rows = parse_json_output(res.stdout, what, key='aslr')
    return {r['region']: r for r in rows} if rows else None


def addr(v):
    return int(v, 16)


def check_shape(rows, what, runs):
    for name, r in rows.items():
        check(isinstance(r['bits'], (int, float)) and r['bits'] >= 0,
              what + ': bits is a number >= 0', r)
        check(isinstance(r['samples'], int) and 1 <= r['samples'] <= runs,
              what + ': samples in 1..runs', r)
        check(abs(r['ceiling'] - round(math.log2(r['samples']), 1)) < 0.051,
              what + ': ceiling is log2 samples', r)
        check(isinstance(r['align'], int) and r['align'] > 0 and
              r['align'] & (r['align'] - 1) == 0,
              what + ': align is a power of two in bytes', r)
        check(addr(r['min']) <= addr(r['max']), what + ': min <= max', r)
        check(r['distinct'] <= r['samples'], what + ': distinct <= samples', r)
        check(r['va_space'] == va_space(), what + ': va_space as in /proc', r)
    for name in ('exe text', 'exe data', 'exe bss', 'vdso', 'stack (top)',
                 'stack pointer', 'libc.so.6', 'argv', 'env'):
        check(name in rows, '%s: a row for %s' % (what, name), sorted(rows))


def check_groups(rows, what):
    """text, data and bss move as one; libraries, ld.so, vdso and the
    loader's anonymous mmaps as another; the exe group is not theirs."""
    exe = {rows[n]['group'] for n in ('exe text', 'exe data', 'exe bss')
           if n in rows}
    check_eq(len(exe), 1, what + ': exe text, data and bss in one group')
    check(rows['exe text']['offset'] == 0 and rows['exe text']['leader'] ==
          'exe text', what + ': exe text leads its group', rows['exe text'])
    check(0 < rows['exe data']['offset'] < rows['exe bss']['offset'],
          what + ': data above text, bss above data', rows['exe data'],
          rows['exe bss'])
    libs = [n for n in rows if n.startswith(('libc.so', 'ld-linux', 'anon mmap'))
            or n == 'vdso']
    groups = {rows[n]['group'] for n in libs}
    check_eq(len(groups), 1, what + ': libraries, vdso, mmaps in one group')
    check(not (groups & exe), what + ': the libraries do not move with the exe',
          groups, exe)
    check(rows['heap - end of exe']['group'] is None,
          what + ': an offset is not grouped', rows['heap - end of exe'])


def pie(ml, target):
    what = 'aslr -c %d -- target-pie' % RUNS
    rows = aslr_json(ml, '-c', RUNS, '--', target, what=what)
    if not rows:
        return
    check_shape(rows, what, RUNS)
    text = rows['exe text']
    check_eq(text['samples'], RUNS, what + ': exe text seen in every run')
    if va_space() == 0:
        check_eq(text['bits'], 0, what + ': randomize_va_space=0: text fixed')
        return
    check(text['bits'] > 8, what + ': PIE text randomised (bits > 8)', text)
    check(text['distinct'] >= RUNS - 2, what + ': PIE text bases distinct', text)
    check_eq(text['align'], PAGE, what + ': text bases are page-aligned')
    check(rows['stack pointer']['align'] <= 64 and
          rows['stack pointer']['bits'] > rows['stack (top)']['bits'],
          what + ': sp randomised below the page too', rows['stack pointer'],
          rows['stack (top)'])
    check_groups(rows, what)
    check(rows['libc.so.6']['bits'] > 8, what + ': libc randomised',
          rows['libc.so.6'])
    check_argv(rows, what, target)


def check_argv(rows, what, target):
    """argv and env: strings copied just below the stack top, so they
    move with it (a page step, in its group, below it) and env follows
    argv by the length of the one argument string, in every run."""
    argv, env, top = rows['argv'], rows['env'], rows['stack (top)']
    check(argv['group'] == env['group'] == top['group'],
          what + ': argv and env move with the stack top', argv, env, top)
    check(argv['offset'] < 0 and env['offset'] < 0,
          what + ': argv and env are below the stack top', argv, env)
    check_eq(env['offset'] - argv['offset'], len(target) + 1,
             what + ': env starts after the argument string and its NUL')
    check_eq(argv['align'], PAGE, what + ': argv moves in page steps')
    check(argv['bits'] > 8 and argv['samples'] == RUNS,
          what + ': argv randomised, seen in every run', argv)


def nopie(ml, target):
    what = 'aslr -c %d -- target-nopie' % RUNS
    facts = parse_facts(subprocess.run([target], stdout=subprocess.PIPE,
                                       check=True).stdout.decode().split())
    rows = aslr_json(ml, '-c', RUNS, '--', target, what=what)
    if not rows:
        return
    check_shape(rows, what, RUNS)
    text = rows['exe text']
    check_eq(text['bits'], 0, what + ': non-PIE text bits')
    check_eq(text['distinct'], 1, what + ': non-PIE text has one base')
    base = addr(text['min'])
    check(base <= facts['main'] < base + (1 << 20),
          what + ': the fixed text base is where main is', hex(base),
          hex(facts['main']))
    bss = rows['exe bss']
    check(addr(bss['min']) <= facts['bss'] + (1 << 20),
          what + ': the bss base is below the end of big[]', bss, facts)
    check_eq(bss['bits'], 0, what + ': non-PIE bss bits')
    if va_space() >= 1:
        check(rows['libc.so.6']['bits'] > 8, what + ': libc still randomised',
              rows['libc.so.6'])
        check_groups(rows, what)
    rel = rows['heap - end of exe']
    if va_space() == 2:
        check(rel['bits'] > 8, what + ': brk randomised (va_space 2)', rel)
    else:
        check_eq(rel['bits'], 0, what + ': brk not randomised (va_space < 2)')


def no_randomize(ml, target):
    what = 'aslr --no-randomize -c 8 -- target-pie'
    rows = aslr_json(ml, '--no-randomize', '-c', 8, '--', target, what=what)
    if not rows:
        return
    check_shape(rows, what, 8)
    for name, r in rows.items():
        check(r['bits'] == 0 and r['distinct'] == 1,
              '%s: %s fixed (0 bits, one value)' % (what, name), r)
        check(r['norandomize'] is True, what + ': norandomize true', r)
    groups = {r['group'] for r in rows.values() if r['group'] is not None}
    check_eq(len(groups), 1, what + ': nothing moves, so all move together')


def at_exit(ml, target):
    what = 'aslr --at=exit -c 5 -- target-pie'
    rows = aslr_json(ml, '--at=exit', '-c', 5, '--', target, what=what)
    if rows:
        check_shape(rows, what, 5)
        check_eq(rows['exe text']['samples'], 5, what + ': every run recorded')


def table_and_errors(ml, target):
    res = run(ml, 'aslr', '-c', 4, '-o', 'REGION,BITS,GROUP', '--', target)
    out = res.stdout.decode()
    check(res.returncode == 0 and 'kernel.randomize_va_space = %d' % va_space()
          in out and '4 runs of ' in out, 'aslr table: the summary line', out)
    check('REGION' in out and 'exe text' in out and 'MIN' not in out,
          'aslr -o: only the columns asked for', out)
    for args, code, text in (
            (['aslr'], 2, 'no command given'),
            (['aslr', '-c', '0', '--', target], 2, '--runs takes'),
            (['aslr', '--at=middle', '--', target], 2, "--at takes"),
            (['aslr', '-o', 'NOPE', '--', target], 2, 'unknown column'),
            (['aslr', '-c', '2', '--', '/nonexistent/ml-no-such'], 1,
             'memlayout: /nonexistent/ml-no-such: cannot run it')):
        res = run(ml, *args)
        err = res.stderr.decode()
        check(res.returncode == code and text in err and res.stdout == b'',
              'memlayout %s: exit %d, "%s"' % (' '.join(args), code, text),
              res.returncode, err)
        check(err.splitlines()[0].startswith('memlayout: '),
              'error line starts "memlayout: "', err)
    # -n is --noheadings, as in every command (it was --runs).
    res = run(ml, 'aslr', '-c', 2, '-n', '-o', 'REGION,BITS', '--', target)
    out = res.stdout.decode()
    check(res.returncode == 0 and 'runs of' not in out and 'REGION' not in out
          and 'exe text' in out, 'aslr -n: no headings, no summary line',
          res.returncode, out, res.stderr)
    res = run(ml, 'aslr', '--list-columns')
    check(res.returncode == 0 and b'CEILING' in res.stdout,
          'aslr --list-columns', res.stdout)


def setarch_r(ml, target):
    """Under setarch -R memlayout inherits ADDR_NO_RANDOMIZE and so do its
    runs: the header says this run was not randomised and why, whatever
    randomize_va_space says, and JSON's norandomize is true."""
    import shutil
    setarch = shutil.which('setarch')
    probe = setarch and subprocess.run([setarch, '-R', 'true'], stderr=subprocess.PIPE)
    if not probe or probe.returncode != 0:
        print('skip: setarch -R: %s' % ('no setarch' if not setarch else
                                        probe.stderr.decode().strip()))
        return
    res = run(setarch, '-R', ml, 'aslr', '-c', 3, '--', target)
    out = res.stdout.decode()
    check(res.returncode == 0 and 'This run was not randomised: ADDR_NO_RANDOMIZE is set '
          '(setarch -R).' in out, 'setarch -R aslr: says the run was not randomised',
          res.returncode, out, res.stderr)
    res = run(ml, 'aslr', '-c', 3, '--', target)
    check(res.returncode == 0 and b'not randomised' not in res.stdout,
          'aslr without setarch -R: no such line', res.stdout)
    res = run(setarch, '-R', ml, 'aslr', '-J', '-c', 3, '--', target)
    rows = parse_json_output(res.stdout, 'setarch -R aslr -J', key='aslr')
    check(rows and all(r['norandomize'] is True for r in rows),
          'setarch -R aslr -J: norandomize true', rows and rows[0])


def main():
    ml = sys.argv[1]
    pie_t, nopie_t = (os.path.realpath(p) for p in sys.argv[2:4])
    pie(ml, pie_t)
    nopie(ml, nopie_t)
    no_randomize(ml, pie_t)
    at_exit(ml, pie_t)
    table_and_errors(ml, pie_t)
    setarch_r(ml, pie_t)
    done()


main()
