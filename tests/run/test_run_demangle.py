# SPDX-License-Identifier: MIT
"""test_run_demangle.py - the backtrace of memlayout run names C++ and
Rust (legacy) functions demangled: cxx-crash.cc crashes in
ns::read<ns::Widget>() and in a function whose symbol is a Rust legacy
name (mycrate::module::crash, its hash left out as rustc-demangle does).
Caller frames are shown as gdb shows them: at the return address (the
JSON pc, moved back into the call, plus one), with the call's line.

usage: test_run_demangle.py MEMLAYOUT CXX_CRASH
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

CASES = {
    'template': 'int ns::read<ns::Widget>(ns::Widget const*)',
    'rust': 'mycrate::module::crash',
}


def main():
    ml, target = sys.argv[1:3]
    for mode, want in CASES.items():
        with tempfile.TemporaryDirectory() as d:
            rep = os.path.join(d, 'r.json')
            res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--',
                                  target, mode], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=60)
            try:
                doc = json.load(open(rep))
            except (OSError, ValueError) as e:
                check(False, mode + ': a JSON report', str(e), res.stderr)
                continue
        bt = [f.get('function') for f in doc.get('backtrace') or []]
        check_eq(bt[:1], [want], mode + ': frame #0 demangled')
        check(not any(f and f.startswith('_Z') for f in bt),
              mode + ': no mangled name left', bt)
        check('main' in bt, mode + ': main is still main', bt)
    gdb_like(ml, target)
    done()


def gdb_like(ml, target):
    """Text and JSON of the same run (setarch -R: the same addresses)."""
    if not shutil.which('setarch'):
        print('skip: caller frames: no setarch(8) to pin the addresses')
        return
    base = ['setarch', '-R', ml, 'run']
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, 'r.json')
        subprocess.run(base + ['-J', '--report=' + rep, '--', target,
                               'template'], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
        try:
            doc = json.load(open(rep))
        except (OSError, ValueError) as e:
            check(False, 'caller frames: a JSON report', str(e))
            return
    text = subprocess.run(base + ['--', target, 'template'],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60).stderr.decode()
    m = re.search(r'#1 +0x([0-9a-f]+) in run\(char const\*\)\+0x[0-9a-f]+ at '
                  r'\S+:(\d+)', text)
    if not check(m, 'caller frames: #1 is run() with its line', text[-900:]):
        return
    f1 = doc['backtrace'][1]
    check_eq(int(m.group(1), 16), int(f1['pc'], 16) + 1,
             'caller frames: #1 shown at its return address')
    src = os.path.join(os.path.dirname(__file__), 'cxx-crash.cc')
    call = [n for n, line in enumerate(open(src), 1)
            if 'return ns::read<ns::Widget>(nullptr)' in line]
    check_eq([int(m.group(2))], call, 'caller frames: the call\'s line')


main()
