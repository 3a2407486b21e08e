#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_heapcheck_terminal.py MEMLAYOUT HEAPBUG - memlayout run --check=heap
on a terminal (a pseudo-terminal of 80 columns, TIOCSWINSZ, stderr on it):
the heap report and the leak report are folded at its width as the crash
report is: every line of memlayout's report fits, and each frame of every
backtrace still starts a line (as many as when piped); piped, the lines
are as long as they are (the whole paths).  The lines the program's own
mlalloc prints before memlayout's report are its, not memlayout's: left
out of the count."""
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

COLS = 80
FRAME = re.compile(r'(?m)^  #\d+ ')
failed = total = 0


def check(ok, what, detail=''):
    global failed, total
    total += 1
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failed += 1
        for line in str(detail).splitlines()[:40]:
            print('    ' + line)


def env():
    e = dict(os.environ, NO_COLOR='1', LC_ALL='C.UTF-8')
    e.pop('COLUMNS', None)
    return e


def on_terminal(args, cols):
    """stdout and stderr of ARGS on a pty of cols columns, as text."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, cols, 0, 0))
    attr = termios.tcgetattr(slave)
    attr[1] &= ~termios.OPOST          # no \r added: the bytes as written
    termios.tcsetattr(slave, termios.TCSANOW, attr)
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env())
    os.close(slave)
    out = b''
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:                # EIO: the other side closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait(timeout=120)
    return out.decode('utf-8', 'replace')


def memlayouts(text, start):
    """memlayout's report: from its first line (start) on."""
    i = text.find(start)
    return text[i:] if i >= 0 else ''


def case(ml, heapbug, check_opt, bug, start, what):
    args = [ml, 'run', '--check=' + check_opt, '--', heapbug, bug]
    piped = subprocess.run(args, capture_output=True, env=env(), timeout=120)
    whole = memlayouts(piped.stderr.decode('utf-8', 'replace'), start)
    frames = len(FRAME.findall(whole))
    check(frames >= 2 and any(len(l) > COLS for l in whole.split('\n')),
          '%s piped: frames, lines longer than %d (whole paths)' % (what, COLS), whole[-3000:])
    text = memlayouts(on_terminal(args, COLS), start)
    wide = [l for l in text.split('\n') if len(l) > COLS]
    check(text != '', '%s at %d columns: the report' % (what, COLS))
    check(not wide, '%s at %d columns: every line fits' % (what, COLS), '\n'.join(wide))
    check(len(FRAME.findall(text)) == frames,
          '%s at %d columns: one line starts each frame (%d)' % (what, COLS, frames), text[-3000:])


def main():
    ml, heapbug = sys.argv[1], sys.argv[2]
    case(ml, heapbug, 'heap', 'uaf-read-large', 'memlayout: process ', 'heap report')
    case(ml, heapbug, 'heap,leaks', 'leaks', 'memlayout: process ', 'leak report')
    print('%d passed, %d failed' % (total - failed, failed))
    sys.exit(1 if failed else 0)


main()
