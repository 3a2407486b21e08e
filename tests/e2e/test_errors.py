"""test_errors.py - failures and usage: a PID that does not exist and a
kernel thread (kthreadd, PID 2) exit 1 with one line "memlayout: PID:
reason" on stderr and nothing on stdout; bad options and columns exit 2
with "Try 'memlayout --help'."; --help and --list-columns exit 0.

usage: test_errors.py MEMLAYOUT TARGET_BSS
"""
import os
import sys

from e2e import Target, check, check_eq, done, run

TRY = "Try 'memlayout --help'."
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
    check_eq(res.returncode, 2, what + ': exit status')
    check_eq(res.stdout, b'', what + ': stdout')
    lines = err.splitlines()
    check(len(lines) == 2 and lines[0].startswith('memlayout: ')
          and lines[1] == TRY, '%s: stderr is "memlayout: ...: reason" '
          'then %r' % (what, TRY), err)
    if mention:
        check(mention in err, '%s: stderr names %r' % (what, mention), err)


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
    # A process that is gone by the time we look: stopped, then reaped.
    with Target([target]) as t:
        gone = t.pid
    target_failure(ml, [gone], 'memlayout: %d:' % gone, 'exited target')
    done()


main()
