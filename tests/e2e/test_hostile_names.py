# SPDX-License-Identifier: MIT
"""test_hostile_names.py - mapping names the target controls: target-mapname
maps a file whose name holds a newline, an ESC [31m sequence, DEL and
spaces (-J and pages -J write DEL as \\u007f).
With -J the output is valid JSON and the name round-trips exactly (the
kernel's \\012 decoded back to a newline); in table and raw output no raw
ESC byte appears, every region stays on one line and the table shows the
name escaped once (\x0a, \x1b).

usage: test_hostile_names.py MEMLAYOUT TARGET_MAPNAME
"""
import os
import re
import sys
import tempfile

from e2e import (Target, check, check_eq, describe, done, read_maps,
                 region_at, run, show_json)

EVIL = 'evil\nname \x1b[31mred\x1b[0m  two  spaces\x7fdel.dat'
# ML_ESC_TERM: control bytes and DEL as \xHH (memlayout.h).
TERM_ESCAPED = EVIL.replace('\n', '\\x0a').replace('\x1b', '\\x1b').replace(
    '\x7f', '\\x7f').encode()
ROW_RE = re.compile(rb'^\s*0x[0-9a-f]+\s')


def main():
    ml, target = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix='ml-e2e-') as tmp:
        path = os.path.join(tmp, EVIL)
        with Target([target, path]) as t:
            regions = show_json(ml, '-o', 'START,END,KIND,OBJECT,NAME', t.pid)
            nmaps = len(read_maps(t.pid))
            if regions:
                r = region_at(regions, t.facts['map'])
                check(r is not None and r.get('name') == path,
                      'the hostile name round-trips through -J',
                      describe(r), path)
                check(r is not None and r.get('kind') == 'file',
                      'the mapped data file is kind file', describe(r))
            # DEL in JSON: \u007f, never the raw byte (JSON writers leave
            # it raw; a terminal showing the document would act on it).
            for args in (['show', '-J'], ['pages', '-J']):
                res = run(ml, *(args + [t.pid]))
                what = ' '.join(args)
                check(b'\x7f' not in res.stdout and b'spaces\\u007fdel'
                      in res.stdout, what + ': DEL as \\u007f', res.returncode,
                      res.stdout[-300:], res.stderr)
            for args in (['show'], ['show', '-r'], ['show', '-r', '-n'],
                         ['show', '-o', 'START,END,KIND,OBJECT,NAME']):
                what = ' '.join(args)
                res = run(ml, *(args + [t.pid]))
                check_eq(res.returncode, 0, what + ': exit status')
                check(b'\x1b' not in res.stdout + res.stderr,
                      what + ': no raw ESC byte in the output',
                      res.stdout[-400:])
                lines = res.stdout.splitlines()
                rows = [l for l in lines if ROW_RE.match(l)]
                check_eq(len(rows), nmaps, what + ': rows (lines starting '
                         'with an address)')
                if 'NAME' not in what:
                    continue
                named = [l for l in lines if b'red' in l]
                check(len(named) == 1 and b'del.dat' in named[0],
                      what + ': the whole name on one line', named)
                check(TERM_ESCAPED in res.stdout, what + ': the name '
                      'escaped once, as %r' % TERM_ESCAPED, named)
            check_eq(t.close(), 0, 'target-mapname exit status')
    done()


main()
