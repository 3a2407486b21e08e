# SPDX-License-Identifier: MIT
"""test_race.py - memlayout reading a process that races it.

target-churn replaces its ~3,000 small mappings in a tight loop, so smaps
(several read chunks, through the reader thread) comes out with lines
overlapping whenever the address space changes between two read() calls.
`show -s` (smaps), `show` (maps), `where` and `pages` are each run N times
(ML_RACE_RUNS, default 200) against it: every run must succeed, and none
may call the kernel's output "malformed" (before the retry, about 3 in 100
runs of `show -s` and `pages` failed so).

target-exec exec's itself every 2 ms (from a second thread half the
time): `show` and `where` run N times each must succeed every time, and
never say the process "exited while being read" (it never exits; before,
about 1 in 10 runs of show and 1 in 100 of where said so).

usage: test_race.py MEMLAYOUT TARGET_CHURN TARGET_EXEC
"""
import collections
import os
import sys

from e2e import Target, check, check_eq, done, run

RUNS = int(os.environ.get('ML_RACE_RUNS', '200'))


def failures(ml, pid, commands):
    """Run each command RUNS times; {(command, stderr): count} of failures."""
    bad = collections.Counter()
    for _ in range(RUNS):
        for cmd in commands:
            res = run(ml, *cmd(pid))
            if res.returncode != 0:
                err = res.stderr.decode('utf-8', 'replace').strip()
                bad[(' '.join(cmd('PID')), err.split(': ', 2)[-1])] += 1
    return bad


def main():
    ml, churn, execer = sys.argv[1:4]
    with Target([churn]) as t:
        base = t.facts['base']
        commands = [lambda p: ['show', '-s', p], lambda p: ['show', p],
                    lambda p: ['where', p, '%#x' % base],
                    lambda p: ['pages', p]]
        bad = failures(ml, t.pid, commands)
        check(not bad, 'churning target: every one of %d runs of each of '
              'show -s, show, where, pages succeeds' % RUNS, dict(bad))
        check(not any('malformed' in k[1] for k in bad),
              'churning target: no run calls the kernel\'s output malformed',
              dict(bad))
        check_eq(t.close(), 0, 'target-churn exit status')
    with Target([execer]) as t:
        bad = failures(ml, t.pid, [lambda p: ['show', p],
                                   lambda p: ['where', p, '0x1000']])
        check(not bad, 'exec\'ing target: every one of %d runs of show '
              'and of where succeeds' % RUNS, dict(bad))
        check(not any('exited' in k[1] for k in bad),
              'exec\'ing target: no run says it exited', dict(bad))
        check_eq(t.close(), 0, 'target-exec exit status')
    done()


main()
