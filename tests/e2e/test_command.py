# SPDX-License-Identifier: MIT
"""test_command.py - memlayout show -- COMMAND: target-bss run under
ptrace and snapshotted at its exit (default; its heap and bss are all
there and match the addresses it printed) and with --at=start at its entry
point (its text and bss mapped, no heap or a small one yet).  The command's
stdout is memlayout's, so fact lines and JSON share it.  Also a command
that does not exist.

usage: test_command.py MEMLAYOUT TARGET_BSS
"""
import os
import sys

from e2e import (COLUMNS, addr, check, check_bss_target, check_eq,
                 check_shape, check_sizes, describe, done, parse_facts,
                 parse_json_output, run)


def at_exit(ml, target):
    for extra in ([], ['--at=exit']):
        what = 'show -J -b %s-- target-bss' % ''.join(e + ' ' for e in extra)
        res = run(ml, 'show', '-J', '-b', '-o', COLUMNS, *extra, '--', target)
        if not check(res.returncode == 0, what + ' exits 0', res.returncode,
                     res.stderr):
            continue
        facts = parse_facts(res.stdout.decode().splitlines())
        if not check('ready' in facts, what + ': the command ran to its end',
                     res.stdout[:300]):
            continue
        regions = parse_json_output(res.stdout, what)
        if regions:
            check_sizes(regions, what)
            check_shape(regions, what)
            check_bss_target(regions, facts, target, what)


def at_start(ml, target):
    what = 'show -J -b --at=start -- target-bss'
    res = run(ml, 'show', '-J', '-b', '-o', COLUMNS, '--at=start', '--',
              target)
    if not check(res.returncode == 0, what + ' exits 0', res.returncode,
                 res.stderr):
        return
    regions = parse_json_output(res.stdout, what)
    if not regions:
        return
    check_sizes(regions, what)
    heap = [r for r in regions if r.get('kind') == 'heap']
    check(sum(r['size'] for r in heap) <= 256 << 10,
          what + ': no heap yet, or a small one', [describe(r) for r in heap])
    text = [r for r in regions
            if r.get('kind') == 'text' and r.get('object') == target]
    check(len(text) >= 1 and '.text' in (text[0].get('sections') or []),
          what + ': the target text is mapped, with .text', text)
    bss = [r for r in regions
           if r.get('kind') == 'bss' and r.get('object') == target]
    check(len(bss) == 1 and bss[0]['size'] >= 1 << 20,
          what + ': the target bss (1 MiB) is mapped', bss)
    stack = [r for r in regions if r.get('kind') == 'stack']
    check_eq(len(stack), 1, what + ': number of stack regions')


def missing(ml):
    cmd = '/nonexistent/ml-e2e-no-such-command'
    res = run(ml, 'show', '--', cmd)
    check_eq(res.returncode, 1, 'show -- <missing command> exit status')
    err = res.stderr.decode('utf-8', 'replace')
    check(err.startswith('memlayout: %s:' % cmd) and err.count('\n') == 1,
          'show -- <missing command>: one line "memlayout: CMD: reason"', err)
    check_eq(res.stdout, b'', 'show -- <missing command> stdout')


def main():
    ml, target = sys.argv[1], os.path.realpath(sys.argv[2])
    at_exit(ml, target)
    at_start(ml, target)
    missing(ml)
    done()


main()
