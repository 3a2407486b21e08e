#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""show names a thread's stack and guard from glibc's thread descriptor,
whatever the thread's sp: a thread parked in a signal handler on a
sigaltstack (its sp far from its stack) must still have a thread-stack
region with its TID holding a local of its function, the guard directly
below it with the same TID, and the sigaltstack must not be called its
stack.  Without --ptrace (the process is never stopped) and with it;
64-bit, and 32-bit when built.

usage: test_thread_tcb.py MEMLAYOUT TARGET...
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import check, check_eq, done  # noqa: E402


def region_at(regions, addr):
    for r in regions:
        if int(r['start'], 16) <= addr < int(r['end'], 16):
            return r
    return None


def one(ml, target, extra):
    name = os.path.basename(target) + (' ' + ' '.join(extra) if extra else '')
    p = subprocess.Popen([target], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().split()
        check_eq(len(line), 4, name + ': the target says where its thread is')
        if len(line) != 4:
            return
        tid, local, alt_start, alt_end = int(line[0]), *(int(x, 16) for x in line[1:])
        res = subprocess.run([ml, 'show', '-J'] + extra + [str(p.pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check_eq(res.returncode, 0, name + ': show exits 0')
        regions = json.loads(res.stdout)['regions']
        stack = region_at(regions, local)
        check(stack is not None and stack['kind'] == 'thread-stack' and stack['tid'] == tid,
              name + ': the thread\'s own stack is thread-stack with its TID', stack)
        if stack:
            below = [r for r in regions if r['end'] == stack['start']]
            check(len(below) == 1 and below[0]['kind'] == 'guard' and below[0]['tid'] == tid,
                  name + ': its guard directly below, with its TID', below)
        alt = region_at(regions, alt_start)
        check(alt is not None and alt['kind'] != 'thread-stack' and alt['tid'] != tid,
              name + ': the sigaltstack is not called its stack', alt)
        check(alt is not None and int(alt['end'], 16) >= alt_end - 1, name + ': the sigaltstack found',
              alt)
    finally:
        p.kill()
        p.wait()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ml = sys.argv[1]
    for target in sys.argv[2:]:
        for extra in ([], ['--ptrace']):
            one(ml, target, extra)
    done()


if __name__ == '__main__':
    main()
