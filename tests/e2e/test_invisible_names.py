# SPDX-License-Identifier: MIT
"""test_invisible_names.py - names with invisible format characters:
target-mapname maps a file named 'evil<U+202E>gnp...exe' (a right-to-left
override, which shows it as 'evil...exe.png'), with a zero-width space,
an isolate, a BOM and a tag character (4 bytes in UTF-8) as well, and
the target runs as 'ev<U+202E>gnp' (a copy of it: its comm, and an ELF
object of that name in watch's per-object table).  glibc's iswprint() calls them printable, so libsmartcols
passed them raw to the terminal; they are escaped as control characters
are: each byte as \\xHH.

Checked through a pipe and on a pseudo-terminal, for show (table, raw,
-o, -d, the process line), where (block and table), pages and watch
(log and its per-object table; and -J): none of the
characters reaches the output raw, and the name is shown escaped once.
JSON (show -J, where -J, pages -J) writes them as \\u escapes (a surrogate
pair for the tag character) and the name round-trips.

usage: test_invisible_names.py MEMLAYOUT TARGET_MAPNAME
"""
import json
import os
import shutil
import sys
import tempfile

from e2e import TIMEOUT, Target, check, check_eq, done, on_pty, run

INVISIBLE = '\u202e\u200b\u2066\ufeff\U000e0041'
NAME = 'evil\u202egnp\u200b\u2066\ufeff\U000e0041.exe'
ESCAPED = ''.join(
    ''.join('\\x%02x' % b for b in ch.encode()) if ch in INVISIBLE else ch
    for ch in NAME).encode()
COMM = 'ev\u202egnp'
COMM_ESCAPED = b'ev\\xe2\\x80\\xaegnp'


def on_terminal(ml, args):
    """(exit status, stdout) of memlayout ARGS on a 200-column pty."""
    env = dict(os.environ, NO_COLOR='1')
    env.pop('COLUMNS', None)
    rc, out, _ = on_pty([ml] + [str(a) for a in args], 200, rows=50, env=env,
                        stderr='null', timeout=TIMEOUT)
    return rc, out


def no_raw(out, what):
    text = out.decode('utf-8', 'replace')
    raw = sorted({'U+%04X' % ord(c) for c in text if c in INVISIBLE})
    check(not raw, what + ': no invisible character reaches the output raw',
          raw, out[-300:])


def main():
    ml, target = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix='ml-e2e-') as tmp:
        path = os.path.join(tmp, NAME)
        # comm is the name of the file exec'd: a copy named COMM, which
        # makes the executable an ELF object with that name too
        link = os.path.join(tmp, COMM)
        shutil.copy(target, link)
        with Target([link, path]) as t:
            a = '%#x' % t.facts['map']
            views = [
                (['show'], ESCAPED),
                (['show', '-r'], ESCAPED),
                (['show', '-o', 'START,END,KIND,OBJECT,NAME'], ESCAPED),
                (['show', '-d'], ESCAPED),
                (['where', t.pid, a], ESCAPED),
                (['where', '-o', 'ADDR,OBJECT', t.pid, a], ESCAPED),
                (['pages'], ESCAPED),
                # the executable in watch's log and its per-object table
                (['watch', '--log', '-c', '2', '-i', '0.05'], COMM_ESCAPED),
            ]
            for args, want in views:
                what = ' '.join(str(x) for x in args if x not in (t.pid, a))
                if args[0] != 'where':
                    args = args + [t.pid]
                res = run(ml, *args)
                check(res.returncode == 0, what + ' | cat: exit status 0',
                      res.returncode, res.stderr)
                no_raw(res.stdout + res.stderr, what + ' | cat')
                check(want in res.stdout, what + ' | cat: the name escaped '
                      'once, as %r' % want, res.stdout[-600:])
                rc, out = on_terminal(ml, args)
                check_eq(rc, 0, what + ' on a terminal: exit status')
                no_raw(out, what + ' on a terminal')
                # a table may cut the name to fit the terminal
                check(want[:16] in out, what + ' on a terminal: the name '
                      'escaped once', out[-600:])
            res = run(ml, 'show', t.pid)
            check(COMM_ESCAPED in res.stdout.split(b'\n')[0],
                  'show: the comm escaped on the process line',
                  res.stdout[:200])
            no_raw(res.stdout, 'show: the process line')
            res = run(ml, 'watch', '-J', '-c', '1', t.pid)
            no_raw(res.stdout, 'watch -J')
            check(b'ev\\u202egnp' in res.stdout, 'watch -J: the executable '
                  'as an object with \\u202e', res.stdout[-400:])
            for args in (['show', '-J', t.pid], ['where', '-J', t.pid, a],
                         ['pages', '-J', t.pid]):
                what = ' '.join(map(str, args[:2]))
                res = run(ml, *args)
                check_eq(res.returncode, 0, what + ': exit status')
                no_raw(res.stdout, what)
                check(b'\\u202e' in res.stdout and b'\\udb40\\udc41'
                      in res.stdout, what + ': \\u escapes (a surrogate pair '
                      'past U+FFFF)', res.stdout[-400:])
                try:
                    doc = json.loads(res.stdout)
                except ValueError as e:
                    check(False, what + ': valid JSON', str(e))
                    continue
                check(path in json.dumps(doc, ensure_ascii=False),
                      what + ': the name round-trips', res.stdout[-400:])
            check_eq(t.close(), 0, 'target-mapname exit status')
    done()


main()
