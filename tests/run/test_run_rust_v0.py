# SPDX-License-Identifier: MIT
"""test_run_rust_v0.py - the backtrace of memlayout run names Rust
functions whose symbols use Rust's v0 mangling (_R...; rustc -C
symbol-mangling-version=v0) in Rust's words, as rustc-demangle does
(crate hashes left out): a real Rust program, built here by rustc, reads
address 0x10 in rustcrash::module::crash, called from a generic
method <rustcrash::module::Widget>::poke::<u32>, called from main.

Skips (77) where rustc is not in PATH (Debian: the rustc package).

usage: test_run_rust_v0.py MEMLAYOUT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import check, check_eq, done  # noqa: E402

SOURCE = r'''
mod module {
    pub struct Widget;

    #[inline(never)]
    pub fn crash(addr: usize) -> i32 {
        unsafe { *(addr as *const i32) }
    }

    impl Widget {
        #[inline(never)]
        pub fn poke<T: Copy>(&self, addr: usize, _t: T) -> i32 {
            crash(addr) + 1
        }
    }
}

fn main() {
    // 16 per argument: aligned, not null (no debug-build panic), never mapped
    let addr = std::env::args().count() * 16;
    std::process::exit(module::Widget.poke(addr, 7u32));
}
'''

WANT = ['rustcrash::module::crash', '<rustcrash::module::Widget>::poke::<u32>',
        'rustcrash::main']


def build(d):
    src = os.path.join(d, 'rustcrash.rs')
    exe = os.path.join(d, 'rustcrash')
    with open(src, 'w') as f:
        f.write(SOURCE)
    res = subprocess.run(['rustc', '-C', 'symbol-mangling-version=v0', '-C', 'opt-level=0',
                          '-g', '--crate-name', 'rustcrash', '-o', exe, src],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=300)
    if not check(res.returncode == 0, 'rustc builds the program', res.stderr[-800:]):
        done()
    nm = subprocess.run(['nm', exe], stdout=subprocess.PIPE, text=True)
    check(any(' _RNvNtCs' in line and 'rustcrash' in line for line in nm.stdout.splitlines()),
          'its symbols are v0-mangled', nm.stdout[:400])
    return exe


def main():
    ml = sys.argv[1]
    if not shutil.which('rustc'):
        print('skip: run-rust-v0: no rustc in PATH')
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix='ml-rust-') as d:
        exe = build(d)
        rep = os.path.join(d, 'r.json')
        res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--', exe],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=60)
        try:
            doc = json.load(open(rep))
        except (OSError, ValueError) as e:
            check(False, 'a JSON report', str(e), res.stderr)
            done()
        text = subprocess.run([ml, 'run', '--', exe], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60).stderr.decode('utf-8', 'replace')
    check_eq(doc.get('kind'), 'null-pointer', 'the crash: a read at 0x10 (the NULL zone)')
    bt = [f.get('function') for f in doc.get('backtrace') or []]
    check_eq(bt[:2], WANT[:2], 'frames #0 and #1 demangled (v0)')
    check(WANT[2] in bt, 'main is rustcrash::main', bt)
    check(not any(f and f.startswith('_R') for f in bt), 'no v0 name left mangled', bt)
    check(' in rustcrash::module::crash' in text, 'the text report names it too', text[-1500:])
    done()


main()
