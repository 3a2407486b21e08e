#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_architecture.py - ARCHITECTURE.md against the source tree.

1. Every .c/.h file under lib/ (its folders), tool/, alloc/ (not its
   tests), glibc/ and include/ is named in exactly one row of the table of
   "## Layers and files" (a cell may name several, `dir/{a,b}.c` expands).
2. Every .c/.h name the document gives (backticked, or in the diagram)
   exists: a path as that file, a bare name as some .c/.h file's name.
3. No source file includes a header of a folder its row of the table in
   "## Folders" does not allow (the build's include paths are the first
   guard; this one also catches a relative "../x/y.h").

Usage: test_architecture.py SOURCE_ROOT.  Exit 0 or 1, each finding on
stderr as "ARCHITECTURE.md: <file>: <reason>".
"""
import os
import re
import sys

SCANNED = ('lib', 'tool', 'alloc', 'glibc', 'include')
SRC_RE = re.compile(r'\.[ch]$')
TOKEN_RE = re.compile(r'[A-Za-z0-9_./{},+-]+\.[ch]\b')
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    """Source files (paths relative to root) of the scanned folders."""
    out = []
    for top in SCANNED:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            rel = os.path.relpath(d, root)
            if rel.startswith('alloc/tests'):
                dirs[:] = []
                continue
            out += [os.path.join(rel, f) for f in files if SRC_RE.search(f)]
    return sorted(out)


def expand(token):
    """`a/{b,c}.c` -> ['a/b.c', 'a/c.c'] (one level of braces per group)."""
    m = re.search(r'\{([^{}]*)\}', token)
    if not m:
        return [token]
    out = []
    for alt in m.group(1).split(','):
        out += expand(token[:m.start()] + alt + token[m.end():])
    return out


def section(text, title):
    """The lines of the section whose heading starts with title."""
    m = re.search(r'^## ' + re.escape(title) + r'.*$', text, re.M)
    if not m:
        return None
    end = re.search(r'^## ', text[m.end():], re.M)
    return text[m.end():m.end() + end.start() if end else len(text)]


def rows(body):
    """The cells of each row of the markdown tables in body."""
    for line in body.splitlines():
        if line.startswith('|') and not re.match(r'^\|\s*-', line):
            yield [c.strip() for c in line.strip().strip('|').split('|')]


def names(cell):
    out = []
    for tok in re.findall(r'`([^`]*)`', cell):
        out += [t for t in expand(tok) if SRC_RE.search(t)]
    return out


def check_named(root, text, srcs, bad):
    body = section(text, 'Layers and files')
    if body is None:
        bad.append(('ARCHITECTURE.md', 'no "## Layers and files" section'))
        return
    count = {}
    for cells in rows(body):
        if len(cells) >= 2:
            for n in set(names(cells[1])):
                count[n] = count.get(n, 0) + 1
    for s in srcs:
        if count.get(s, 0) == 0:
            bad.append((s, 'not named in the table of "## Layers and files"'))
        elif count[s] > 1:
            bad.append((s, 'named in %d rows of "## Layers and files"' % count[s]))


def all_names(root):
    """Names of every .c/.h file of the tree (tests, bench...), build
    directories left out."""
    out = set()
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith('.')
                   and not os.path.isdir(os.path.join(d, x, 'meson-private'))]
        out |= {f for f in files if SRC_RE.search(f)}
    return out


def check_exist(root, text, srcs, bad):
    base = all_names(root)
    toks = []
    for tok in re.findall(r'`([^`\n]*)`', text):
        if not tok.startswith('<'):
            toks += TOKEN_RE.findall(tok)
    for block in re.findall(r'^```\n(.*?)^```', text, re.M | re.S):
        toks += TOKEN_RE.findall(block)
    seen = set()
    for tok in toks:
        for n in expand(tok):
            if n in seen or not SRC_RE.search(n):
                continue
            seen.add(n)
            if '/' in n:
                if not os.path.isfile(os.path.join(root, n)):
                    bad.append((n, 'named in ARCHITECTURE.md, no such file'))
            elif n not in base:
                bad.append((n, 'named in ARCHITECTURE.md, no .c/.h file of that name'))


def folder_rules(text, bad):
    body = section(text, 'Folders')
    rules = {}
    if body is None:
        bad.append(('ARCHITECTURE.md', 'no "## Folders" section'))
        return rules
    for cells in rows(body):
        if len(cells) < 2:
            continue
        folder = re.findall(r'`([^`]+)/`', cells[0])
        if folder:
            rules[folder[0]] = set(re.findall(r'`([^`]+)/`', cells[1]))
    return rules


def check_includes(root, text, srcs, bad):
    rules = folder_rules(text, bad)
    by_name = {}
    for s in srcs:
        by_name.setdefault(os.path.basename(s), []).append(os.path.dirname(s))
    for s in srcs:
        folder = os.path.dirname(s)
        if folder.startswith('include'):
            continue
        if folder not in rules:
            bad.append((s, 'its folder %s/ has no row in "## Folders"' % folder))
            continue
        allowed = rules[folder] | {folder, 'include'}
        with open(os.path.join(root, s), encoding='utf-8', errors='replace') as f:
            incs = INCLUDE_RE.findall(f.read())
        for inc in incs:
            if '/' in inc:
                target = os.path.normpath(os.path.join(folder, inc))
                where = [os.path.dirname(target)] if os.path.isfile(os.path.join(root, target)) else []
            elif os.path.isfile(os.path.join(root, folder, inc)):
                continue
            else:
                where = by_name.get(inc, [])
            if where and not any(w in allowed for w in where):
                bad.append((s, 'includes "%s" of %s/, which %s/ may not include'
                            % (inc, where[0], folder)))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    with open(os.path.join(root, 'ARCHITECTURE.md'), encoding='utf-8') as f:
        text = f.read()
    srcs = sources(root)
    bad = []
    check_named(root, text, srcs, bad)
    check_exist(root, text, srcs, bad)
    check_includes(root, text, srcs, bad)
    for what, why in bad:
        print('ARCHITECTURE.md: %s: %s' % (what, why), file=sys.stderr)
    print('%d source files, %d findings' % (len(srcs), len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
