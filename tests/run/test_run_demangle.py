# SPDX-License-Identifier: MIT
"""test_run_demangle.py - the backtrace of memlayout run names C++ and
Rust (legacy) functions demangled: cxx-crash.cc crashes in
ns::read<ns::Widget>() and in a function whose symbol is a Rust legacy
name (mycrate::module::crash, its hash left out as rustc-demangle does).

usage: test_run_demangle.py MEMLAYOUT CXX_CRASH
"""
import json
import os
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
    done()


main()
