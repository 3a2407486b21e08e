# SPDX-License-Identifier: MIT
"""test_where_exit.py - `memlayout where PID A B C...` on a process that
exits while the addresses are answered: the run fails (exit 1, "the
process exited while being read") and, as for any error, leaves nothing
on stdout (before, the answers given so far were written).

target-big reserves 64 GiB; where gets an address every 2 MiB of it
(each needs a fresh pagemap read, which finds the process gone), and the
target is told to exit after a delay that sweeps the time where takes.
Runs where the target exited before the snapshot or after the last answer
are not the case tested; if no run caught it midway the test is skipped.

usage: test_where_exit.py MEMLAYOUT TARGET_BIG
"""
import subprocess
import sys
import time

from e2e import Target, check, done

NADDR = 3000
TRIES = 40
MIDWAY = b'the process exited while being read'


def main():
    ml, big = sys.argv[1:3]
    midway = 0
    full = None
    for i in range(TRIES):
        with Target([big]) as t:
            addrs = ['%#x' % (t.facts['map'] + k * (2 << 20)) for k in range(NADDR)]
            start = time.monotonic()
            p = subprocess.Popen([ml, 'where', '-t', str(t.pid)] + addrs,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if full is None:               # first run: how long it takes
                out, err = p.communicate(timeout=120)
                full = time.monotonic() - start
                check(p.returncode == 0 and out.count(b'\n') > NADDR,
                      'where answers every address of a live target',
                      p.returncode, err)
                continue
            time.sleep(full * (i - 1) / (TRIES - 1))
            t.close()
            out, err = p.communicate(timeout=120)
        if p.returncode == 0:
            continue
        check(p.returncode == 1, 'a target exiting makes where exit 1',
              p.returncode, err)
        check(out == b'', 'where exiting 1 leaves nothing on stdout',
              len(out), out[:200], err)
        midway += MIDWAY in err
    if not midway:
        print('SKIP: the target never exited while where answered '
              '(%d tries, %.3f s a run)' % (TRIES, full or 0))
        sys.exit(77)
    print('%d runs caught the target exiting midway' % midway)
    done()


main()
