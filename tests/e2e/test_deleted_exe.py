"""test_deleted_exe.py - a process whose executable was deleted: a copy of
target-bss is started from a temporary directory and unlinked; as root
memlayout still reads the ELF through /proc/PID/map_files, so its text,
rodata, data and bss are still named (with their sections).

usage: test_deleted_exe.py MEMLAYOUT TARGET_BSS
"""
import os
import shutil
import sys
import tempfile

from e2e import (COLUMNS, Target, check, check_eq, check_region, done,
                 read_maps, show_json, spans)


def main():
    ml, target = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix='ml-e2e-') as tmp:
        exe = os.path.join(tmp, 'target-bss-copy')
        shutil.copy2(target, exe)
        with Target([exe]) as t:
            os.unlink(exe)
            check(os.readlink('/proc/%d/exe' % t.pid).endswith(' (deleted)'),
                  'the kernel sees the executable as deleted')
            regions = show_json(ml, '-o', COLUMNS, t.pid)
            maps = read_maps(t.pid)
            if regions:
                check_eq(spans(regions), maps,
                         'regions == /proc/PID/maps spans')
                f = t.facts
                check_region(regions, f['text'], 'function', kind='text',
                             section='.text')
                check_region(regions, f['rodata'], 'const string',
                             kind='rodata', section='.rodata')
                check_region(regions, f['data'], 'initialised global',
                             kind='data', section='.data')
                check_region(regions, f['bss_end'] - 1, 'end of big[]',
                             kind='bss', section='.bss')
                check_region(regions, f['malloc_small'], 'malloc(16)',
                             kind='heap')
            check_eq(t.close(), 0, 'deleted target-bss exit status')
    done()


main()
