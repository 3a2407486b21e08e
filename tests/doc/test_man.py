# SPDX-License-Identifier: MIT
"""test_man.py - the man pages against the tool: every command that
`memlayout --help` lists (but help) has a page, memlayout-CMD(1), with the
sections a reader looks for (NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT
STATUS, EXAMPLES, SEE ALSO), its own entry (.TP) in memlayout(1)'s command
list and a place in its SEE ALSO; every page is installed (doc/meson.build)
and formats without a groff warning.

usage: test_man.py MEMLAYOUT DOCDIR
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, done, run  # noqa: E402

SECTIONS = ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS',
            'EXAMPLES', 'SEE ALSO')


def verbs(ml):
    out = run(ml, '--help').stdout.decode()
    block = out.split('Commands:\n', 1)[1].split('\n\n', 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()
            and line.split()[0] != 'help']


def sections(text):
    return [s.strip().strip('"') for s in re.findall(r'^\.SH (.*)$', text, re.M)]


def main():
    ml, doc = sys.argv[1], sys.argv[2]
    with open(os.path.join(doc, 'memlayout.1')) as f:
        top = f.read()
    with open(os.path.join(doc, 'meson.build')) as f:
        installed = set(re.findall(r"'([^']+\.1)'", f.read()))
    names = verbs(ml)
    check(len(names) >= 8, 'memlayout --help lists the commands', names)
    see_also = top.split('.SH SEE ALSO', 1)[-1]
    for verb in names:
        page = 'memlayout-%s.1' % verb
        path = os.path.join(doc, page)
        if not check(os.path.exists(path), '%s: has a man page, %s' % (verb, page)):
            continue
        with open(path) as f:
            text = f.read()
        missing = [s for s in SECTIONS if s not in sections(text)]
        check(not missing, '%s: sections %s' % (page, ', '.join(SECTIONS)), missing)
        # Its entry in memlayout(1): a paragraph of its own (".TP" before
        # ".B verb"), not the tail of the previous command's.
        check(re.search(r'^\.TP\n\.B %s\n' % verb, top, re.M),
              'memlayout.1: %s has its own .TP entry' % verb)
        check('.BR memlayout\\-%s (1)' % verb in see_also,
              'memlayout.1: SEE ALSO names memlayout-%s(1)' % verb)
    for page in sorted(os.listdir(doc)):
        if page.endswith('.1'):
            check(page in installed, '%s is installed by doc/meson.build' % page,
                  sorted(installed))
    groff = shutil.which('groff')
    if not groff:
        print('skip: groff warnings: no groff')
    else:
        for page in sorted(p for p in os.listdir(doc) if p.endswith('.1')):
            res = subprocess.run([groff, '-man', '-ww', '-z', os.path.join(doc, page)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=60)
            check(res.returncode == 0 and not res.stderr,
                  '%s: groff -man -ww -z says nothing' % page, res.stderr)
    done()


main()
