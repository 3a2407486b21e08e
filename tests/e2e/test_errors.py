# SPDX-License-Identifier: MIT
"""test_errors.py - failures and usage: a PID that does not exist, a
kernel thread (kthreadd, PID 2) and a zombie exit 1 with one line
"memlayout: PID: reason" on stderr and nothing on stdout (the zombie's
names its parent); bad options and columns exit 2 with "Try 'memlayout
SUBCOMMAND --help'." ("Try 'memlayout --help'." at the top level);
--help, -V and --list-columns exit 0, and a --help that cannot be written
(/dev/full) exits 1 saying why; `memlayout help CMD` is CMD --help.
Every command's --help has one shape (getopt.c makes it from the
command's table): Usage, Options with each text at one column (a long
left part puts it on the next line), -h and -V, Examples, its man page.

usage: test_errors.py MEMLAYOUT TARGET_BSS
"""
import os
import re
import subprocess
import sys
import time

from e2e import Target, check, check_eq, done, run

TRY = "Try 'memlayout --help'."


def try_line(args):
    """The Try line a usage error of memlayout ARGS ends with."""
    verbs = ('show', 'where', 'pages', 'run', 'heap', 'watch', 'aslr', 'demo')
    if args and args[0] in verbs:
        return "Try 'memlayout %s --help'." % args[0]
    return TRY
COLUMNS = ('START END SIZE PERMS OFFSET DEV INODE KIND OBJECT SECTIONS RSS '
           'PSS PSS_DIRTY DIRTY SWAP SWAP_PSS SHARED_CLEAN SHARED_DIRTY '
           'PRIVATE_CLEAN PRIVATE_DIRTY ANON ANONHUGE LOCKED VMFLAGS TID '
           'NAME').split()


def text(b):
    return b.decode('utf-8', 'replace')


def free_pid():
    with open('/proc/sys/kernel/pid_max') as f:
        pid = int(f.read()) - 1
    while os.path.exists('/proc/%d' % pid):
        pid -= 1
    return pid


def target_failure(ml, args, prefix, what, words=None):
    res = run(ml, 'show', *args)
    err = text(res.stderr)
    check_eq(res.returncode, 1, what + ': exit status')
    check_eq(res.stdout, b'', what + ': stdout')
    check(err.startswith(prefix) and err.count('\n') == 1,
          '%s: one stderr line starting with %r' % (what, prefix), err)
    if words:
        check(any(w in err.lower() for w in words),
              '%s: stderr says why (%s)' % (what, ' or '.join(words)), err)


def usage_error(ml, args, what, mention=None):
    res = run(ml, *args)
    err = text(res.stderr)
    want = try_line(args)
    check_eq(res.returncode, 2, what + ': exit status')
    check_eq(res.stdout, b'', what + ': stdout')
    lines = err.splitlines()
    check(len(lines) == 2 and lines[0].startswith('memlayout: ')
          and lines[1] == want, '%s: stderr is "memlayout: ...: reason" '
          'then %r' % (what, want), err)
    if mention:
        check(mention in err, '%s: stderr names %r' % (what, mention), err)
    return lines[0] if lines else ''


def small_slips(ml):
    """The usage slips of issue 16, each as the user met it."""
    first = usage_error(ml, [], 'no command')
    check_eq(first, 'memlayout: no command given', 'no command: one "memlayout: "')
    usage_error(ml, ['shwo'], 'misspelt command', "did you mean 'show'")
    usage_error(ml, ['help', 'nosuch'], 'help for an unknown command', 'nosuch')
    for args in (['help', 'show'], ['help', 'aslr'], ['help']):
        res = run(ml, *args)
        want = run(ml, *(args[1:] + ['--help']))
        check(res.returncode == 0 and res.stdout == want.stdout and b'Usage' in res.stdout
              and not res.stderr, 'memlayout %s is %s --help' % (' '.join(args), args[1:]),
              res.returncode, res.stderr)
    first = usage_error(ml, ['show', '--help=x'], 'show --help=x')
    check_eq(first, "memlayout: show: option '--help' doesn't allow an argument",
             'show --help=x: the option given an argument')
    first = usage_error(ml, ['show', '--sel=1'], 'show --sel=1 (abbreviated)')
    check_eq(first, "memlayout: show: option '--self' doesn't allow an argument",
             'show --sel=1: the option named in full')
    usage_error(ml, ['show', '-q', '1'], 'show -q', "invalid option -- 'q'")
    version = run(ml, '-V').stdout
    check(version.startswith(b'memlayout '), 'memlayout -V', version)
    for verb in ('show', 'where', 'pages', 'run', 'heap', 'watch', 'aslr', 'demo'):
        for opt in ('-V', '--version'):
            res = run(ml, verb, opt)
            check(res.returncode == 0 and res.stdout == version and not res.stderr,
                  'memlayout %s %s prints the version, exit 0' % (verb, opt),
                  res.returncode, res.stdout, res.stderr)
    for args, a, b in ((['show', '-s', '-o', 'START', '--self'], 'summary', 'output'),
                       (['show', '-r', '-d', '--self'], 'diagram', 'raw')):
        usage_error(ml, args, ' '.join(args) + ' refused',
                    '--%s and --%s cannot be used together' % (a, b))
    usage_error(ml, ['aslr', '-c', '0', '--', 'true'], 'aslr -c 0', '--runs takes')
    for args in (['--help'], ['show', '--help'], ['aslr', '--help']):
        with open('/dev/full', 'wb') as full:
            res = subprocess.run([ml] + args, stdout=full, stderr=subprocess.PIPE,
                                 timeout=30)
        check(res.returncode == 1 and text(res.stderr) ==
              'memlayout: stdout: write error: No space left on device\n',
              'memlayout %s > /dev/full: the write error, exit 1' % ' '.join(args),
              res.returncode, res.stderr)


def help_shape(ml):
    """Each command's --help: the sections in order, option texts at
    column 24 (or on the next line), -h and -V, the man page last."""
    top = text(run(ml, '--help').stdout)
    verbs = [l.split()[0] for l in top.split('Commands:\n', 1)[1].split('\n\n', 1)[0]
             .splitlines() if l.split()[0] != 'help']
    for verb in verbs:
        out = text(run(ml, verb, '--help').stdout)
        lines = out.splitlines()
        opts = out.split('\nOptions:\n', 1)[-1].split('\n\n', 1)[0].splitlines()
        bad = []
        for line in opts:
            m = re.match(r'^ ((?:-\w, |    )--[a-z-]+(?: \S+)?)(.*)$', line)
            if re.match(r'^ {24}\S', line) or (m and (
                    (m.group(2) == '' and len(m.group(1)) > 22) or
                    (len(m.group(1)) <= 22 and line[:24] == ' ' + m.group(1).ljust(23)
                     and line[24:25].strip()))):
                continue
            bad.append(line)
        check(lines[0] == 'Usage:' and '\nOptions:\n' in out and '\nExamples:\n' in out
              and out.index('\nOptions:\n') < out.index('\nExamples:\n'),
              '%s --help: Usage, Options, Examples in order' % verb, out[:300])
        check(not bad and opts[-2:] == [' -h, --help             display this help',
                                        ' -V, --version          display version'],
              '%s --help: option lines in one shape, -h and -V last' % verb, bad, opts[-2:])
        check(lines[-1] == 'See memlayout-%s(1).' % verb,
              '%s --help: ends with its man page' % verb, lines[-1])


def zombie(ml):
    """A child that exited and is not waited for: a zombie, named so with
    its parent (us), for each command that reads a process."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        for _ in range(200):
            with open('/proc/%d/stat' % pid) as f:
                if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    break
            time.sleep(0.01)
        want = ('memlayout: %d: a zombie: it exited and its parent (PID %d) has not '
                'reaped it; it has no address space left\n' % (pid, os.getpid()))
        for args in (['show', pid], ['show', '-d', pid], ['where', pid, '0x1000'],
                     ['pages', pid]):
            res = run(ml, *args)
            what = 'zombie: memlayout %s' % ' '.join(map(str, args))
            check_eq(res.returncode, 1, what + ': exit status')
            check_eq(res.stdout, b'', what + ': stdout')
            check_eq(text(res.stderr), want, what + ': stderr')
    finally:
        os.waitpid(pid, 0)


def permission_denied(ml, target):
    """Another user's process: as root, look at our target as 'nobody'
    (through a copy of memlayout it may execute); as a user, look at PID 1."""
    import shutil, tempfile
    if os.getuid() != 0:
        target_failure(ml, [1], 'memlayout: 1:', 'permission denied (PID 1)',
                       ['permission denied'])
        return
    d = tempfile.mkdtemp()
    try:
        os.chmod(d, 0o755)
        copy = os.path.join(d, 'memlayout')
        shutil.copy(ml, copy)
        os.chmod(copy, 0o755)
        with Target([target]) as t:
            for args in ([t.pid], ['-o', 'START,KIND', t.pid], ['-d', t.pid]):
                res = run('runuser', '-u', 'nobody', '--', copy, 'show', *args)
                err = text(res.stderr)
                what = 'as nobody: show %s' % ' '.join(map(str, args))
                check_eq(res.returncode, 1, what + ': exit status')
                check_eq(res.stdout, b'', what + ': stdout')
                check(err.startswith('memlayout: %d: permission denied' % t.pid)
                      and err.count('\n') == 1, what + ': one line, permission denied', err)
    finally:
        shutil.rmtree(d)


def main():
    ml, target = sys.argv[1], sys.argv[2]
    pid = free_pid()
    target_failure(ml, [pid], 'memlayout: %d:' % pid, 'no such PID',
                   ['no such process'])
    target_failure(ml, ['-J', pid], 'memlayout: %d:' % pid,
                   'no such PID with -J')
    target_failure(ml, [2], 'memlayout: 2:', 'kernel thread (PID 2)',
                   ['kernel thread'])
    usage_error(ml, ['show', '--no-such-option', '1'], 'unknown option',
                '--no-such-option')
    usage_error(ml, ['show', '-o', 'START,NOSUCHCOL', '1'], 'unknown column',
                'NOSUCHCOL')
    usage_error(ml, ['show'], 'no PID')
    usage_error(ml, ['show', '--at=middle', '--', 'true'], 'bad --at value',
                'middle')
    usage_error(ml, ['show', str(os.getpid()), '--'], 'PID and an empty -- COMMAND',
                'no command after --')
    res = run(ml, 'show', '--help')
    check(res.returncode == 0 and b'Usage' in res.stdout and not res.stderr,
          'show --help: usage on stdout, exit 0', res.returncode,
          res.stdout[:200], res.stderr)
    res = run(ml, 'show', '--list-columns')
    missing = [c for c in COLUMNS if c not in text(res.stdout).split()]
    check(res.returncode == 0 and not missing,
          'show --list-columns lists every column, exit 0', res.returncode,
          missing)
    permission_denied(ml, target)
    small_slips(ml)
    help_shape(ml)
    zombie(ml)
    # A process that is gone by the time we look: stopped, then reaped.
    with Target([target]) as t:
        gone = t.pid
    target_failure(ml, [gone], 'memlayout: %d:' % gone, 'exited target')
    done()


main()
