#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_install.py - `meson install` into a staging root (DESTDIR), then the
installed tree used as a user would.

Checks: the list of installed files (the tool, the demo program, the man
pages of doc/, both libraries with their SONAME links and dev links, the two
headers, the two .pc files, the completion files where completion/ has
them) and nothing else; the SONAMEs
(readelf -d); that libmemlayout.so exports exactly the functions of the
installed header (nm -D --defined-only: no ml__ internal, no function of
lib/ml-private.h); a program built against the installed header with
pkg-config's flags for memlayout.pc takes a snapshot of itself with the
installed library; one built against mlalloc.pc allocates with the
installed libmlalloc; the installed `memlayout demo` runs the installed
demo program and exits 0.

usage: test_install.py MESON BUILD_DIR SOURCE_DIR CC...
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

FAILS = []


def check(ok, what, detail=''):
    print(('ok   ' if ok else 'FAIL ') + what + (('\n     ' + str(detail)) if not ok and detail != '' else ''))
    if not ok:
        FAILS.append(what)
    return ok


def run(argv, env=None, timeout=120):
    return subprocess.run(argv, env=env, timeout=timeout, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)


def options(meson, build):
    out = run(meson + ['introspect', '--buildoptions', build]).stdout
    return {o['name']: o['value'] for o in json.loads(out)}


def under(opts, key):
    """The install directory of option key, as a path under the prefix."""
    value = opts[key]
    return value.lstrip('/') if os.path.isabs(value) else os.path.join(opts['prefix'].lstrip('/'), value)


def expected_files(opts, source):
    bindir, libdir = under(opts, 'bindir'), under(opts, 'libdir')
    incdir, mandir = under(opts, 'includedir'), under(opts, 'mandir')
    datadir = under(opts, 'datadir')
    want = {
        os.path.join(bindir, 'memlayout'),
        os.path.join(under(opts, 'libexecdir'), 'memlayout', 'memlayout-demo'),
        os.path.join(incdir, 'memlayout', 'memlayout.h'),
        os.path.join(incdir, 'mlalloc', 'mlalloc.h'),
        os.path.join(libdir, 'pkgconfig', 'memlayout.pc'),
        os.path.join(libdir, 'pkgconfig', 'mlalloc.pc'),
    }
    for lib in ('libmemlayout.so', 'libmlalloc.so'):
        want |= {os.path.join(libdir, lib + s) for s in ('', '.0', '.0.1.0')}
    for page in sorted(os.listdir(os.path.join(source, 'doc'))):
        if page.endswith('.1'):
            want.add(os.path.join(mandir, 'man1', page))
    completion = os.path.join(source, 'completion')
    if os.path.exists(os.path.join(completion, 'memlayout.bash')):
        want.add(os.path.join(datadir, 'bash-completion', 'completions', 'memlayout'))
    if os.path.exists(os.path.join(completion, '_memlayout')):
        want.add(os.path.join(datadir, 'zsh', 'vendor-completions', '_memlayout'))
    return want


def installed_files(root):
    got = set()
    for d, _, files in os.walk(root):
        for f in files:
            got.add(os.path.relpath(os.path.join(d, f), root))
    return got


def header_functions(header):
    text = open(header).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'#define[^\n]*', '', text)
    return set(re.findall(r'\b(ml_[a-z0-9_]+)\s*\(', text))


def check_exports(lib, header):
    out = run(['nm', '-D', '--defined-only', lib]).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] != 'A':      # A: the version node MEMLAYOUT_0
            syms[f[2].split('@')[0]] = f[1]
    internal = sorted(s for s in syms if s.startswith('ml__'))
    check(not internal, 'libmemlayout.so exports no ml__ internal', internal[:10])
    declared = header_functions(header)
    check(set(syms) == declared,
          'libmemlayout.so exports exactly the %d functions of the installed header' % len(declared),
          'exported, not declared: %s; declared, not exported: %s'
          % (sorted(set(syms) - declared)[:10], sorted(declared - set(syms))[:10]))
    out = run(['readelf', '-V', lib]).stdout
    check('MEMLAYOUT_0' in out, 'libmemlayout.so has the version node MEMLAYOUT_0')


def soname(lib):
    out = run(['readelf', '-d', lib]).stdout
    m = re.search(r'\(SONAME\)\s+Library soname: \[([^\]]+)\]', out)
    return m.group(1) if m else None


def build_user(cc, src, out, pc, env, extra=()):
    flags = run(['pkg-config', '--cflags', '--libs', pc], env=env)
    if not check(flags.returncode == 0, 'pkg-config --cflags --libs ' + pc, flags.stdout):
        return False
    argv = cc + list(extra) + [src, '-o', out] + shlex.split(flags.stdout)
    r = run(argv, env=env)
    return check(r.returncode == 0, 'a program built against the installed %s.pc' % pc,
                 ' '.join(argv) + '\n' + r.stdout)


def main():
    meson, build, source, cc = shlex.split(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    for tool in ('readelf', 'nm', 'pkg-config'):
        if not shutil.which(tool):
            print('SKIP: %s is not installed' % tool)
            return 77
    opts = options(meson, build)
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory(prefix='memlayout-install-') as tmp:
        dest = os.path.join(tmp, 'root')
        r = run(meson + ['install', '-C', build, '--no-rebuild', '--destdir', dest], timeout=300)
        if not check(r.returncode == 0, 'meson install --destdir', r.stdout[-3000:]):
            return 1
        want, got = expected_files(opts, source), installed_files(dest)
        check(not (want - got), 'every expected file installed', sorted(want - got))
        check(not (got - want), 'nothing else installed', sorted(got - want))
        libdir, incdir = under(opts, 'libdir'), under(opts, 'includedir')
        dlib = os.path.join(dest, libdir)
        for name in ('libmemlayout.so', 'libmlalloc.so'):
            path = os.path.join(dlib, name + '.0.1.0')
            if os.path.exists(path):
                check(soname(path) == name + '.0', name + ': SONAME ' + name + '.0', soname(path))
                check(os.path.islink(os.path.join(dlib, name)) and
                      os.path.realpath(os.path.join(dlib, name)) == os.path.realpath(path),
                      name + ': the dev link points at the library')
        lib = os.path.join(dlib, 'libmemlayout.so.0.1.0')
        header = os.path.join(dest, incdir, 'memlayout', 'memlayout.h')
        if os.path.exists(lib) and os.path.exists(header):
            check_exports(lib, header)

        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(dlib, 'pkgconfig'),
                   PKG_CONFIG_SYSROOT_DIR=dest, LD_LIBRARY_PATH=dlib)
        env.pop('PKG_CONFIG_LIBDIR', None)
        # A sanitizer build's library needs its runtime in the program.
        san = os.environ.get('MEMLAYOUT_SANITIZE', '')
        extra = ['-fsanitize=' + san] if san and san != 'none' else []
        prog = os.path.join(tmp, 'snapshot-self')
        if build_user(cc, os.path.join(here, 'snapshot-self.c'), prog, 'memlayout', env, extra):
            r = run([prog], env=env)
            m = re.search(r'^regions (\d+)$', r.stdout, re.M)
            check(r.returncode == 0 and m and int(m.group(1)) >= 5,
                  'the program takes a snapshot of itself (5 regions or more)', r.stdout)
            lm = re.search(r'^library (.*)$', r.stdout, re.M)
            check(lm and lm.group(1).startswith(dlib + '/'),
                  'it ran with the installed libmemlayout.so.0', r.stdout)
        prog = os.path.join(tmp, 'malloc-user')
        if build_user(cc, os.path.join(here, 'malloc-user.c'), prog, 'mlalloc', env):
            r = run([prog], env=env)
            lm = re.search(r'^library (.*)$', r.stdout, re.M)
            check(r.returncode == 0 and lm and lm.group(1).startswith(dlib + '/'),
                  'a program linked with the installed libmlalloc.so.0 allocates with it', r.stdout)

        exe = os.path.join(dest, under(opts, 'bindir'), 'memlayout')
        demo_dir = os.path.join(dest, under(opts, 'libexecdir'), 'memlayout')
        if os.path.exists(exe):
            r = run([exe, 'demo'], env=env, timeout=60)
            check(r.returncode == 0 and 'memlayout demo:' in r.stdout,
                  'the installed memlayout demo exits 0', 'exit %d\n%s' % (r.returncode, r.stdout[-2000:]))
            check(demo_dir + '/memlayout-demo' in r.stdout,
                  'it looked into the installed demo program (%s)' % demo_dir, r.stdout[-2000:])
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
