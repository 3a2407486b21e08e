#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_run_hostile.py MEMLAYOUT HOSTILE_MAP - a crash sentence that names a
file whose name the program chose (an escape sequence, ESC [31m, and the
bidi control U+202E): in the JSON report the name is the name, JSON-escaped
(\\u001b, \\u202e), not the terminal's escaping as text (\\x1b); in the text
report it is escaped for the terminal (no raw ESC byte reaches it)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ESC_NAME = 'evil\x1b[31mred\u202egnp.txt'
failed = total = 0


def check(ok, what, detail=''):
    global failed, total
    total += 1
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failed += 1
        for line in str(detail).splitlines()[:20]:
            print('    ' + line)


def report(ml, target, tmp, *opts):
    """The report memlayout run wrote to a file (bytes) and its status."""
    out = os.path.join(tmp, 'report')
    r = subprocess.run([ml, 'run', '--report=' + out] + list(opts) + ['--', target, tmp],
                       capture_output=True, timeout=60)
    data = open(out, 'rb').read() if os.path.exists(out) else b''
    os.unlink(out) if os.path.exists(out) else None
    return r.returncode, data


def main():
    ml, target = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix='ml-hostile-')
    try:
        rc, raw = report(ml, target, tmp, '-J')
        check(rc == -11, 'run -J: ends by SIGSEGV, as the program did', rc)
        text = raw.decode('utf-8', 'replace')
        check('\\u001b[31mred' in text.replace('\\u001B', '\\u001b'),
              'JSON: ESC in the name written as \\u001b', text[:3000])
        check('\\\\x1b' not in text and '\\\\xe2' not in text,
              'JSON: no terminal escaping (\\x1b as text) anywhere', text[:3000])
        try:
            doc = json.loads(text)
        except ValueError as e:
            doc = {}
            check(False, 'JSON: parses', e)
        expl = doc.get('explanation') or ''
        check(doc.get('kind') == 'write-read-only', 'JSON: write-read-only', doc.get('kind'))
        check(ESC_NAME in expl, 'JSON: the explanation names the file as it is', repr(expl))
        obj = (doc.get('region') or {}).get('object') or ''
        check(obj.endswith('/' + ESC_NAME), 'JSON: region.object the same name', repr(obj))

        rc, raw = report(ml, target, tmp)
        check(rc == -11, 'run: ends by SIGSEGV', rc)
        check(b'\x1b' not in raw and '\u202e'.encode() not in raw,
              'text: no raw ESC or bidi control reaches the terminal', raw[:2000])
        first = raw.split(b'\n\n')[0].decode('utf-8', 'replace')
        check('in evil\\x1b[31mred\\xe2\\x80\\xaegnp.txt (' in first,
              'text: the sentence names the file escaped', first)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d passed, %d failed' % (total - failed, failed))
    sys.exit(1 if failed else 0)


main()
