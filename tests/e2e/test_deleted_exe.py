# SPDX-License-Identifier: MIT
"""test_deleted_exe.py - a process whose executable was deleted: a copy of
target-bss is started from a temporary directory and unlinked; memlayout
still reads the ELF, so its text, rodata, data and bss are still named (with
their sections).  Root reads it through /proc/PID/map_files; a user, who
may not open map_files, through /proc/PID/exe.  Run as root, the test does
both: as root, then with the target and memlayout as uid/gid 65534 (setpriv),
where the build tree lets that user in; as a user, the user's case.

usage: test_deleted_exe.py MEMLAYOUT TARGET_BSS
"""
import os
import shutil
import subprocess
import sys
import tempfile

from e2e import (COLUMNS, TIMEOUT, Target, check, check_eq, check_region,
                 done, parse_json_output, read_maps, spans)

AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']


def show_json_as(runner, ml, pid):
    """memlayout show -J -b -o COLUMNS PID under runner (a command prefix),
    parsed; None (and a failure) if it fails."""
    what = '%s show -J -b %d' % (' '.join(runner) or 'as %d:' % os.getuid(), pid)
    res = subprocess.run(runner + [ml, 'show', '-J', '-b', '-o', COLUMNS, str(pid)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=TIMEOUT)
    if not check(res.returncode == 0, '%s exits 0' % what, res.returncode,
                 res.stderr.decode('utf-8', 'replace')):
        return None
    return parse_json_output(res.stdout, what)


def deleted_exe(ml, target, runner, who):
    """The target copied, started under runner, unlinked, then shown."""
    with tempfile.TemporaryDirectory(prefix='ml-e2e-') as tmp:
        os.chmod(tmp, 0o755)
        exe = os.path.join(tmp, 'target-bss-copy')
        shutil.copy2(target, exe)
        with Target(runner + [exe]) as t:
            os.unlink(exe)
            check(os.readlink('/proc/%d/exe' % t.pid).endswith(' (deleted)'),
                  '%s: the kernel sees the executable as deleted' % who)
            regions = show_json_as(runner, ml, t.pid)
            maps = read_maps(t.pid)
            if regions:
                check_eq(spans(regions), maps,
                         '%s: regions == /proc/PID/maps spans' % who)
                f = t.facts
                for a, label, kind, section in (
                        (f['text'], 'function', 'text', '.text'),
                        (f['rodata'], 'const string', 'rodata', '.rodata'),
                        (f['data'], 'initialised global', 'data', '.data'),
                        (f['bss_end'] - 1, 'end of big[]', 'bss', '.bss')):
                    check_region(regions, a, '%s: %s' % (who, label),
                                 kind=kind, section=section)
                check_region(regions, f['malloc_small'], '%s: malloc(16)' % who,
                             kind='heap')
            check_eq(t.close(), 0, '%s: deleted target-bss exit status' % who)


def nobody_can_run(ml, target):
    """Whether uid 65534 can reach and run both programs (a build tree
    under a private home cannot be)."""
    return all(subprocess.run(AS_NOBODY + ['test', '-x', p]).returncode == 0
               for p in (ml, target))


def main():
    ml, target = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.getuid() != 0:
        deleted_exe(ml, target, [], 'as a user (through /proc/PID/exe)')
    else:
        deleted_exe(ml, target, [], 'as root (through map_files)')
        if nobody_can_run(ml, target):
            deleted_exe(ml, target, AS_NOBODY, 'as uid 65534 (through /proc/PID/exe)')
        else:
            print('note: uid 65534 cannot run %s or %s here: the user case '
                  'was not run' % (ml, target))
    done()


main()
