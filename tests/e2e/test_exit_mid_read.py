# SPDX-License-Identifier: MIT
"""test_exit_mid_read.py - a process killed while memlayout reads its
20,000 mappings (big enough for the reader thread and the two-thread table
writer): memlayout either read it all before the kill (exit 0, the whole
table) or says it is gone (exit 1, one stderr line, nothing on stdout) --
never exit 0 with a table cut short.  The kernel sets PF_EXITING before it
unmaps anything and stops handing out maps once the address space is
released, while the task is not a zombie yet; this used to print the part
read so far as if it were the whole process.

usage: test_exit_mid_read.py MEMLAYOUT MANY_MAPS
"""
import os
import signal
import subprocess
import sys
import time

from e2e import TIMEOUT, check, check_eq, done

MAPPINGS = 20000
ROUNDS = 16


def start_target(exe):
    p = subprocess.Popen([exe, str(MAPPINGS)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    line = p.stdout.readline().decode().split()
    if len(line) != 3 or line[0] != 'ready':
        p.kill()
        p.wait()
        sys.exit('test_exit_mid_read: %s: did not get ready' % exe)
    return p, int(line[1]), int(line[2])


def one_round(ml, exe, k):
    target, pid, nmaps = start_target(exe)
    args = [ml, 'show', str(pid)] if k % 2 == 0 else \
        [ml, 'show', '-o', 'START,END,PERMS,KIND,OBJECT', str(pid)]
    what = 'round %d (%s)' % (k, ' '.join(args[1:-1]))
    show = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # kill from early in the read (smaps takes ~70 ms) to after it
    time.sleep(0.001 + 0.004 * k)
    os.kill(pid, signal.SIGKILL)
    out, err = show.communicate(timeout=TIMEOUT)
    target.wait()
    target.stdin.close()
    target.stdout.close()
    err = err.decode('utf-8', 'replace')
    if show.returncode == 0:
        lines = out.count(b'\n')
        check(lines > nmaps, '%s: exit 0 prints every region (%d maps lines)'
              % (what, nmaps), lines)
        return 'whole'
    check_eq(show.returncode, 1, what + ': exit status')
    check_eq(out, b'', what + ': nothing on stdout')
    # Gone, or (not reaped yet by us, its parent) a zombie, named as such.
    zombie = ('memlayout: %d: a zombie: it exited and its parent (PID %d) has not '
              'reaped it; it has no address space left\n' % (pid, os.getpid()))
    check(err in ('memlayout: %d: no such process (or it exited while being '
                  'read)\n' % pid, zombie), what + ': one line saying it is gone', err)
    return 'gone'


def main():
    ml, exe = sys.argv[1], sys.argv[2]
    seen = [one_round(ml, exe, k) for k in range(ROUNDS)]
    # the early kills must land inside the read
    check('gone' in seen[:4], 'a kill in the first milliseconds is seen', seen)
    print('rounds: %s' % ' '.join(seen))
    done()


if __name__ == '__main__':
    main()
