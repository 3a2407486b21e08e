#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_names.py - one prefix per component (ARCHITECTURE.md, "Names").

1. alloc/'s code (its tests too) uses no `ml_`/`ml__`/`ML_` identifier:
   the allocator's names are `mla_`/`mla__`/`MLA_`, its public ones
   `mlalloc_`/`MLALLOC_`.
2. tool/ defines no `ml_`/`ML_` name (function, variable, type, enumerator,
   macro): the CLI's are `cli_`/`CLI_`; it uses libmemlayout's.
3. No struct, union or enum tag is defined in the headers of two components
   (include/ and lib/ count as one), and no tag of a header names both an
   enum and a struct (a file's own tags in a .c are its business): `struct ml_page`, `struct ml_heap` and `ml_fault` were each two
   things before the allocator had its own prefix.
4. libmlalloc.so (when given) exports no `ml_` symbol.

Usage: test_names.py SOURCE_ROOT [LIBMLALLOC_SO].  Exit 0 or 1, each finding
on stderr as "names: <file>: <reason>".
"""
import os
import re
import shutil
import subprocess
import sys

ML = r'(?:ml|ML)__?[A-Za-z0-9]\w*'
ML_TOKEN = re.compile(r'\b' + ML)
TAG_DEF = re.compile(r'\b(struct|union|enum)\s+(\w+)\s*\{')
ENUM_BODY = re.compile(r'\benum\b[^{;]*\{([^}]*)\}')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
DEFS = [
    re.compile(r'^\s*#\s*define\s+(%s)\b' % ML, re.M),
    re.compile(r'^[A-Za-z_][\w \t*]*?\b(%s)\s*\(' % ML, re.M),      # function
    re.compile(r'^(?:extern\s+|static\s+)?(?:const\s+)?(?:struct\s+|enum\s+)?\w+'
               r'[\s*]+(?:const\s+)?(%s)\s*(?:\[[^]]*\])?\s*[=;]' % ML, re.M),
    re.compile(r'\b(?:struct|union|enum)\s+(%s)\s*\{' % ML),
    re.compile(r'\btypedef\b[^;]*\b(%s)\s*;' % ML),
]
COMPONENTS = (('include', 'libmemlayout'), ('lib', 'libmemlayout'),
              ('alloc', 'alloc'), ('tool', 'tool'), ('glibc', 'glibc'))


def code_files(root, top, tests=True):
    for d, dirs, files in os.walk(os.path.join(root, top)):
        if not tests and os.path.relpath(d, root).startswith('alloc/tests'):
            dirs[:] = []
            continue
        for f in sorted(files):
            if f.endswith(('.c', '.h')):
                p = os.path.join(d, f)
                with open(p, encoding='utf-8', errors='replace') as fh:
                    yield os.path.relpath(p, root), fh.read()


def code_only(text):
    """The text without comments and string literals."""
    return STRING.sub('""', COMMENT.sub(' ', text))


def defined_ml(text):
    names = set()
    for r in DEFS:
        names.update(m.group(1) for m in r.finditer(text))
    for m in ENUM_BODY.finditer(text):
        for item in m.group(1).split(','):
            e = re.match(r'\s*(%s)\b' % ML, item)
            if e:
                names.add(e.group(1))
    return names


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit('usage: test_names.py SOURCE_ROOT [LIBMLALLOC_SO]')
    root = sys.argv[1]
    findings = []

    for f, t in code_files(root, 'alloc'):
        bad = sorted(set(ML_TOKEN.findall(code_only(t))))
        if bad:
            findings.append((f, 'the allocator uses ml_ names (%d): %s'
                             % (len(bad), ' '.join(bad[:6]))))

    for f, t in code_files(root, 'tool'):
        bad = sorted(defined_ml(code_only(t)))
        if bad:
            findings.append((f, 'the CLI defines ml_ names (%d): %s'
                             % (len(bad), ' '.join(bad[:6]))))

    tags = {}     # name -> {(kind, component): file}
    for top, comp in COMPONENTS:
        for f, t in code_files(root, top, tests=False):
            if not f.endswith('.h'):
                continue
            for m in TAG_DEF.finditer(code_only(t)):
                tags.setdefault(m.group(2), {}).setdefault((m.group(1), comp), f)
    for name, where in sorted(tags.items()):
        comps = {c for _, c in where}
        kinds = {k for k, _ in where}
        if len(comps) > 1 or len(kinds) > 1:
            findings.append((' '.join(sorted(set(where.values()))),
                             '%s defined as %s' % (name, ', '.join(
                                 '%s in %s' % kc for kc in sorted(where)))))

    if len(sys.argv) == 3:
        nm = shutil.which('nm')
        if nm:
            out = subprocess.run([nm, '-D', '--defined-only', sys.argv[2]],
                                 capture_output=True, text=True, check=True).stdout
            syms = sorted(l.split()[-1] for l in out.splitlines()
                          if l.split() and re.match(r'ml_', l.split()[-1]))
            if syms:
                findings.append((sys.argv[2], 'exports ml_ symbols: %s' % ' '.join(syms)))
        else:
            print('names: nm not found: exports not checked', file=sys.stderr)

    for f, why in findings:
        print('names: %s: %s' % (f, why), file=sys.stderr)
    print('%d findings' % len(findings))
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
