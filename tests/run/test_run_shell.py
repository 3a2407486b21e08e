# SPDX-License-Identifier: MIT
"""test_run_shell.py - memlayout run is as transparent as the shell:

- a program that dies of a signal: memlayout, after its report, dies of
  the same signal (so a shell loop stops on Ctrl-C), and leaves no core
  of its own;
- its own exit codes apart from the program's: 127 not found, 126 found
  but not executable (as sh, env, timeout);
- SIGTSTP sent to memlayout stops the program (and memlayout with it),
  SIGCONT resumes both;
- signals ignored when memlayout started stay ignored for the program
  (a `cmd &` of a non-interactive shell);
- a set-user-ID program: one note on stderr (checked as an unprivileged
  user: as root, memlayout drops to nobody for it; skipped when neither).

usage: test_run_shell.py MEMLAYOUT CRASH_TARGET
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

NOBODY = 65534


def run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, **kw)


def same_signal(ml, target):
    for mode, sig in (('null-pointer', signal.SIGSEGV),
                      ('abort', signal.SIGABRT), ('sigkill', signal.SIGKILL)):
        res = run([ml, 'run', '--', target, mode])
        check_eq(res.returncode, -sig, 'run %s: memlayout dies of %s' %
                 (mode, signal.Signals(sig).name))
    res = run([ml, 'run', '--', target, 'exit7'])
    check_eq(res.returncode, 7, 'run exit7: the program\'s status')
    # The shell: a loop whose program dies of SIGINT stops.
    script = 'for i in 1 2 3; do "$0" run -- "$1" sleep; echo next; done'
    p = subprocess.Popen(['sh', '-c', script, ml, target],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    check_eq(p.stdout.readline(), b'sleeping\n', 'sh loop: the program runs')
    time.sleep(0.2)
    os.killpg(p.pid, signal.SIGINT)   # as a terminal's Ctrl-C would
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    check(b'next' not in out, 'sh loop: Ctrl-C stops the loop', out)


def exit_codes(ml, target):
    res = run([ml, 'run', '--', 'memlayout-no-such-command'])
    check_eq(res.returncode, 127, 'run of a command not found: 127')
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, 'not-executable')
        open(f, 'w').write('data\n')
        res = run([ml, 'run', '--', f])
        check_eq(res.returncode, 126, 'run of a file not executable: 126')
        check(res.stderr.startswith(('memlayout: %s: cannot run it: ' % f)
                                    .encode()), 'says why', res.stderr)


def state(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


def wait_state(pid, want, secs=5):
    end = time.time() + secs
    while time.time() < end:
        s = state(pid)
        if s in want:
            return s
        time.sleep(0.02)
    return state(pid)


def job_control(ml, target):
    def dfl():
        # A process group of its own whose parent (us) is in another one
        # of the session: not orphaned, or the kernel discards SIGTSTP
        # (meson runs tests in a session of their own); SIGTSTP at its
        # default, whatever the test runner gave us.
        os.setpgid(0, 0)
        for sig in (signal.SIGTSTP, signal.SIGCONT):
            signal.signal(sig, signal.SIG_DFL)
    p = subprocess.Popen([ml, 'run', '--', target, 'sleep'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=dfl)
    try:
        check_eq(p.stdout.readline(), b'sleeping\n', 'job control: runs')
        with open('/proc/%d/task/%d/children' % (p.pid, p.pid)) as f:
            prog = int(f.read().split()[0])
        p.send_signal(signal.SIGTSTP)
        check(wait_state(prog, 'Tt') in 'Tt',
              'SIGTSTP to memlayout stops the program', state(prog))
        check_eq(wait_state(p.pid, 'T'), 'T', 'and memlayout with it')
        p.send_signal(signal.SIGCONT)
        check(wait_state(prog, 'SR') in 'SR', 'SIGCONT resumes the program',
              state(prog))
        check(wait_state(p.pid, 'SR') in 'SR', 'and memlayout', state(p.pid))
    finally:
        p.kill()
        p.communicate()


def ignored(ml):
    def ign():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    argv = ['grep', '^SigIgn:', '/proc/self/status']
    plain = run(argv, preexec_fn=ign).stdout
    under = run([ml, 'run', '--'] + argv, preexec_fn=ign).stdout
    check(plain and plain == under, 'signals ignored at the start stay '
          'ignored for the program', plain, under)


def setuid_note(ml, target):
    if os.geteuid() != 0:
        print('skip: setuid note: needs root to make a set-user-ID file '
              'of another user')
        return
    d = tempfile.mkdtemp()
    try:
        os.chmod(d, 0o755)
        prog = os.path.join(d, 'suid-target')
        shutil.copy(target, prog)
        os.chmod(prog, 0o4755)
        if os.statvfs(d).f_flag & os.ST_NOSUID:
            print('skip: setuid note: %s is mounted nosuid' % d)
            return
        res = run([ml, 'run', '--', prog, 'exit7'],
                  preexec_fn=lambda: (os.setgroups([]), os.setgid(NOBODY),
                                      os.setuid(NOBODY)))
        if b'Permission denied' in res.stderr:
            print('skip: setuid note: nobody cannot reach memlayout here')
            return
        check_eq(res.returncode, 7, 'setuid program: runs (status 7)')
        check_eq(res.stderr.decode(), 'memlayout: %s: note: a set-user-ID '
                 'program runs without its privileges under ptrace\n' % prog,
                 'setuid program: one note')
        res = run([ml, 'run', '--', prog, 'exit7'])
        check_eq(res.stderr, b'', 'setuid program, root: no note')
    finally:
        shutil.rmtree(d)


def main():
    ml, target = sys.argv[1:3]
    same_signal(ml, target)
    exit_codes(ml, target)
    job_control(ml, target)
    ignored(ml)
    setuid_note(ml, target)
    done()


main()
