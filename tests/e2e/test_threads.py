# SPDX-License-Identifier: MIT
"""test_threads.py - thread stacks: in target-threads the stacks of its 3
blocked threads are kind thread-stack with their tids, each with a guard
region (same tid) directly below, the main thread's local is on the
stack; with --spin, --ptrace (and only --ptrace) finds the stack of the thread spinning in
user space and leaves every thread running as before.

usage: test_threads.py MEMLAYOUT TARGET_THREADS
"""
import sys
import time

from e2e import (COLUMNS, Target, addr, check, check_eq, describe, done,
                 index_at, region_at, show_json)

NTHREADS = 3


def check_thread_stack(regions, tid, local, what):
    i = index_at(regions, local)
    if not check(i is not None, '%s local (%#x) lies in a region'
                 % (what, local)):
        return
    r = regions[i]
    check(r.get('kind') == 'thread-stack' and r.get('tid') == tid,
          '%s local is in its thread-stack (tid %d)' % (what, tid),
          describe(r))
    g = regions[i - 1] if i > 0 else None
    check(g is not None and addr(g['end']) == addr(r['start'])
          and g.get('kind') == 'guard' and g.get('tid') == tid,
          '%s stack has a guard (tid %d) directly below' % (what, tid),
          describe(g), describe(r))


def blocked(ml, target):
    with Target([target]) as t:
        tids = [t.facts['thread%d_tid' % i] for i in range(NTHREADS)]
        regions = show_json(ml, '-o', COLUMNS, t.pid)
        if regions:
            stacks = [r for r in regions if r.get('kind') == 'thread-stack']
            check_eq(sorted(r.get('tid') for r in stacks), sorted(tids),
                     'tids of the thread-stack regions')
            for i, tid in enumerate(tids):
                check_thread_stack(regions, tid,
                                   t.facts['thread%d_local' % i],
                                   'thread%d' % i)
            m = region_at(regions, t.facts['main_local'])
            check(m is not None and m.get('kind') == 'stack',
                  'main thread local is in the stack', describe(m))
        check_eq(t.close(), 0, 'target-threads exit status')


def thread_state(pid, tid):
    with open('/proc/%d/task/%d/stat' % (pid, tid)) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


def spinning(ml, target):
    with Target([target, '--spin']) as t:
        tid, local = t.facts['spin_tid'], t.facts['spin_local']
        # Without --ptrace a running thread's sp is unknown, but glibc's
        # descriptor at the top of its stack names it all the same.
        regions = show_json(ml, '-o', COLUMNS, t.pid)
        if regions:
            check_thread_stack(regions, tid, local,
                               'spinning thread, without --ptrace (its descriptor)')
        regions = show_json(ml, '--ptrace', '-o', COLUMNS, t.pid)
        if regions:
            check_thread_stack(regions, tid, local, 'spinning thread')
            for i in range(NTHREADS):
                check_thread_stack(regions, t.facts['thread%d_tid' % i],
                                   t.facts['thread%d_local' % i],
                                   'thread%d (with --ptrace)' % i)
        time.sleep(0.2)
        states = {x: thread_state(t.pid, x) for x in
                  [t.pid, tid] + [t.facts['thread%d_tid' % i]
                                  for i in range(NTHREADS)]}
        check(states[tid] == 'R', 'the spinning thread runs on after '
              '--ptrace', states)
        check(all(s not in 'tT' for s in states.values()),
              'no thread is left stopped after --ptrace', states)
        check_eq(t.close(), 0, 'target-threads --spin exit status')


def main():
    ml, target = sys.argv[1], sys.argv[2]
    blocked(ml, target)
    spinning(ml, target)
    done()


main()
