# SPDX-License-Identifier: MIT
"""test_terminal.py - memlayout show on a terminal (a pseudo-terminal of
120 and of 200 columns): libsmartcols fits the table to the width (END,
which START and SIZE say, is left out on a terminal), and
every region stays on one line -- the text columns (object, sections) are
cut, the addresses and numbers never squeezed below their text (which used
to spill the rest of each row onto a line of its own).  Off a terminal the
same table is not cut (the bulk writer's output is the libsmartcols one,
compared byte by byte in tests/unit/test-table-text.c).

usage: test_terminal.py MEMLAYOUT
"""
import os
import subprocess
import sys

from e2e import TIMEOUT, check, check_eq, done, on_pty


def on_terminal(ml, cols, *args):
    """stdout of memlayout ARGS on a pty of cols columns, as text."""
    env = dict(os.environ, NO_COLOR='1')
    env.pop('COLUMNS', None)
    rc, out, err = on_pty([ml] + list(args), cols, rows=50, env=env, timeout=TIMEOUT)
    check_eq(rc, 0, 'show on a %d-column terminal: exit status' % cols)
    check_eq(err, b'', 'show on a %d-column terminal: stderr' % cols)
    return out.decode('utf-8', 'replace').replace('\r\n', '\n')


def region_lines(text):
    """The lines of the region table: after its heading, up to the blank
    line before the per-kind totals."""
    lines = text.split('\n')
    head = next((i for i, l in enumerate(lines) if l.split()[:2] == ['START', 'SIZE']),
                None)
    if head is None:
        return None, []
    body = []
    for l in lines[head + 1:]:
        if not l.strip():
            break
        body.append(l)
    return lines[head], body


def main():
    ml = sys.argv[1]
    for cols in (120, 200):
        text = on_terminal(ml, cols, 'show', '--self')
        head, body = region_lines(text)
        what = '%d columns' % cols
        check(head is not None and len(body) > 10, what + ': a region table', text[:400])
        spilled = [l for l in body if not l.lstrip().startswith('0x')]
        check_eq(spilled, [], what + ': every row on one line, starting with its address')
        wide = [l for l in [head] + body if len(l) > cols]
        check_eq(wide, [], what + ': no line wider than the terminal')
    # off a terminal, nothing is cut: the object column holds whole paths
    exe = os.path.realpath(ml)
    out = subprocess.run([ml, 'show', '--self'], stdout=subprocess.PIPE,
                         timeout=TIMEOUT).stdout.decode()
    check(exe in out, 'off a terminal: the whole path of memlayout', exe)
    done()


if __name__ == '__main__':
    main()
