# SPDX-License-Identifier: MIT
"""test_core.py - memlayout explain on core dumps.  Each crash kind of
memlayout run's corpus (tests/run/crash-target.c, the table of
tests/run/test_run.py) runs under `memlayout run -J` with RLIMIT_CORE
unlimited, so one crash gives both the live report and the kernel's core
(kernel.core_pattern read to find it; where it pipes to a handler, or
with MEMLAYOUT_TEST_CORE=gcore, the same program is run again under gdb,
both runs without ASLR, and gdb's gcore writes the core).  `memlayout
explain -J CORE` must then give the same kind, access, address, region or hole, thread and top
frames.  A thread's crash gives a multi-threaded core.  A copy of the
executable whose build-id is changed after the crash (as a rebuild does)
is named as a build-id mismatch.  A core cut short after its notes is
explained, the cut named.  Bad input (cores cut in their notes, another
architecture, an ELF file that is no core, garbage, nothing) gets one line
'memlayout: FILE: reason' and exit 1.  `show CORE` and `where CORE ADDR`
read the core as a process.  `explain --coredump` runs a coredumpctl
found in PATH: a fake one here (systemd-coredump is not installed), a
script that copies a real core to the -o file.

usage: test_core.py MEMLAYOUT CRASH_TARGET [--32]
"""
import ctypes
import glob
import importlib.util
import json
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
from e2e import check, check_eq, done, traced_env  # noqa: E402


def load_run_table():
    """The corpus table of tests/run/test_run.py (not its main())."""
    path = os.path.join(HERE, '..', 'run', 'test_run.py')
    src = open(path, encoding='utf-8').read()
    src = src[:src.rindex('\nmain()')]
    spec = importlib.util.spec_from_loader('test_run', loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__file__ = path
    exec(compile(src, path, 'exec'), mod.__dict__)
    return mod


def core_pattern():
    with open('/proc/sys/kernel/core_pattern') as f:
        return f.read().strip()


def uses_pid():
    try:
        with open('/proc/sys/kernel/core_uses_pid') as f:
            return f.read().strip() == '1'
    except OSError:
        return False


def core_path(d, pid, comm):
    """Where the kernel wrote the core of pid (run in d), or None."""
    pat = core_pattern()
    out, i = '', 0
    while i < len(pat):
        c = pat[i]
        if c == '%' and i + 1 < len(pat):
            s = pat[i + 1]
            out += {'p': str(pid), 'P': str(pid), 'i': str(pid), 'I': str(pid),
                    'e': comm[:15], '%': '%'}.get(s, '*')
            i += 2
        else:
            out += c
            i += 1
    if '%p' not in pat and uses_pid():
        out += '.' + str(pid)
    if not out.startswith('/'):
        out = os.path.join(d, out)
    found = glob.glob(out)
    return found[0] if len(found) == 1 else None


def unlimited_core():
    """RLIMIT_CORE as high as an ordinary user may raise it."""
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def cores_written(target, tmp):
    """None if the kernel writes a core of a plain crash here (run in a
    directory of its own), else why not."""
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        return 'the hard RLIMIT_CORE is 0'
    d = tempfile.mkdtemp(dir=tmp)
    p = subprocess.Popen([target, 'null-pointer'], cwd=d, preexec_fn=unlimited_core,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p.wait()
    if core_path(d, p.pid, os.path.basename(target)):
        return None
    return 'no core written for a crash (kernel.core_pattern %s)' % core_pattern()


def use_gcore():
    """Cores from gdb's gcore rather than the kernel: where core_pattern
    pipes them to a handler (systemd-coredump, apport), or when
    MEMLAYOUT_TEST_CORE=gcore asks for it."""
    return (os.environ.get('MEMLAYOUT_TEST_CORE') == 'gcore' or
            core_pattern().startswith('|'))


ADDR_NO_RANDOMIZE = 0x0040000
GCORE_PID = {}   # a gcore core's path: the pid of gdb's run

# What a core from gcore cannot give as the kernel's does, per mode.
GCORE_UNLIKE = {
    # gdb dumps no mapping without read permission: the fault's region is not in it
    'thread-stack-overflow': 'gcore writes no segment for a ---p guard',
    'no-access': 'gcore writes no segment for a ---p mapping',
}


def no_aslr():
    """As gdb runs its inferior: no address-space randomisation, so the
    live run and gdb's run of the same program fault at the same address."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.personality(ADDR_NO_RANDOMIZE)
    unlimited_core()


def gcore_env():
    """The environment gdb's inferior gets: traced_env() without the
    LINES and COLUMNS gdb adds (unset in gcore too), so both runs have the
    same stack."""
    env = traced_env()
    env.pop('LINES', None)
    env.pop('COLUMNS', None)
    return env


def gcore(target, mode, d):
    """Run target mode under gdb, which stops it at its fatal signal, and
    dump it with gcore: the core's path, or None."""
    core = os.path.join(d, 'gcore')
    res = subprocess.run(['gdb', '-batch', '-nx', '-ex', 'set startup-with-shell off',
                          '-ex', 'unset environment LINES', '-ex', 'unset environment COLUMNS',
                          '-ex', 'run', '-ex', 'info inferiors', '-ex', 'gcore ' + core,
                          '--args', target, mode],
                         cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=120, env=gcore_env(), text=True)
    pid = re.search(r'process (\d+)', res.stdout)
    if not os.path.exists(core) or not pid:
        return None
    GCORE_PID[core] = int(pid.group(1))
    return core


def crash(ml, target, mode, d, aslr=True):
    """memlayout run -J in d: (live report or None, core path or None).
    With gcore, the same program run again under gdb (ASLR off in both);
    aslr=False: the kernel's core of a run without ASLR (setarch -R)."""
    rep = os.path.join(d, 'report.json')
    res = subprocess.run([ml, 'run', '-J', '--report=' + rep, '--', target, mode],
                         cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60,
                         env=gcore_env() if use_gcore() else traced_env(),
                         preexec_fn=no_aslr if use_gcore() or not aslr else unlimited_core)
    if not os.path.exists(rep):
        return None, None
    text = open(rep, encoding='utf-8').read()
    doc = json.JSONDecoder().raw_decode(text.lstrip())[0]
    pid = doc['process']['pid']
    if use_gcore():
        return doc, gcore(target, mode, d)
    return doc, core_path(d, pid, os.path.basename(target))


def explain(ml, core, *extra):
    res = subprocess.run([ml, 'explain', '-J', *extra, core], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    try:
        return res, json.loads(res.stdout)
    except ValueError:
        return res, None


def frames(doc, n=2):
    return [f.get('function') for f in (doc.get('backtrace') or [])[:n]]


def same_report(live, dead, what):
    for key in ('kind', 'access', 'address', 'signo', 'si_code', 'instruction', 'pc', 'sp'):
        check_eq(dead.get(key), live.get(key), what + ': ' + key)
    region, lregion = dead.get('region'), live.get('region')
    check_eq(region and region.get('kind'), lregion and lregion.get('kind'),
             what + ': region kind')
    check_eq(region and region.get('section'), lregion and lregion.get('section'),
             what + ': section')
    hole, lhole = dead.get('hole'), live.get('hole')
    check_eq(hole and hole.get('kind'), lhole and lhole.get('kind'), what + ': hole kind')
    if use_gcore():   # another run of the program: its own pids; the same thread
        check_eq(dead['thread'].get('tid') == dead['process']['pid'],
                 live['thread'].get('tid') == live['process']['pid'], what + ': thread')
    else:
        check_eq(dead['thread'].get('tid'), live['thread'].get('tid'), what + ': thread')
    check_eq(dead['thread'].get('main'), live['thread'].get('main'), what + ': main thread')
    check_eq(frames(dead), frames(live), what + ': top frames')


def corpus(ml, target, run, modes, tmp):
    """Every mode: the live report and the core's agree.  Returns the
    (core, live report) of each mode, for the other cases."""
    cores = {}
    for mode in modes:
        if mode == 'thread-guard-overflow':
            continue   # a guard marker lives in the page tables, not in a core
        if use_gcore() and mode in GCORE_UNLIKE:
            print('gcore: %s not compared: %s' % (mode, GCORE_UNLIKE[mode]))
            continue
        what = 'explain ' + mode
        d = tempfile.mkdtemp(dir=tmp)
        live, core = crash(ml, target, mode, d)
        if not check(live is not None and core is not None,
                     what + ': a live report and a core', live and live.get('kind'),
                     os.listdir(d)):
            continue
        res, dead = explain(ml, core)
        if not check(dead is not None and res.returncode == 0, what + ': a JSON report',
                     res.returncode, res.stderr[-400:]):
            continue
        same_report(live, dead, what)
        cores[mode] = core, live
    return cores


def no_aslr_heap(ml, target, tmp):
    """Without ASLR (setarch -R) the brk heap starts at the end of the
    executable's .bss, adjacent to it: the core's [heap] is still the heap
    (its executable ends at its PT_LOADs' end), as the live report says.
    (With gcore every run is without ASLR: corpus() compares these.)"""
    if use_gcore():
        return
    for mode in ('exec-non-executable', 'past-heap-end'):
        what = 'no ASLR: explain ' + mode
        d = tempfile.mkdtemp(dir=tmp)
        live, core = crash(ml, target, mode, d, aslr=False)
        if not check(live is not None and core is not None,
                     what + ': a live report and a core', os.listdir(d)):
            continue
        res, dead = explain(ml, core)
        if check(dead is not None and res.returncode == 0, what + ': a JSON report',
                 res.returncode, res.stderr[-400:]):
            same_report(live, dead, what)


def multithreaded(ml, target, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    live, core = crash(ml, target, 'thread', d)
    if not check(core is not None, 'thread: a core'):
        return
    res, dead = explain(ml, core)
    if not check(dead is not None, 'thread: a JSON report', res.stderr):
        return
    same_report(live, dead, 'explain thread')
    check_eq(dead['thread']['main'], False, 'thread: not the main thread')
    show = subprocess.run([ml, 'show', '-r', '-n', '-o', 'KIND,TID', core],
                          stdout=subprocess.PIPE, text=True, timeout=60)
    kinds = [line.split() for line in show.stdout.splitlines()]
    check(['stack', str(dead['process']['pid'])] in kinds, 'thread: show CORE has [stack]',
          kinds)
    check(['thread-stack', str(dead['thread']['tid'])] in kinds,
          "thread: show CORE names the crashed thread's stack", kinds)


def elf_notes(data):
    """(offset, size) of each PT_NOTE of an ELF image."""
    cls = data[4]
    if cls == 2:
        phoff, = struct.unpack_from('<Q', data, 32)
        phentsize, phnum = struct.unpack_from('<HH', data, 54)
    else:
        phoff, = struct.unpack_from('<I', data, 28)
        phentsize, phnum = struct.unpack_from('<HH', data, 42)
    for i in range(phnum):
        p = phoff + i * phentsize
        ptype, = struct.unpack_from('<I', data, p)
        if ptype != 4:
            continue
        if cls == 2:
            off, = struct.unpack_from('<Q', data, p + 8)
            size, = struct.unpack_from('<Q', data, p + 32)
        else:
            off, size = struct.unpack_from('<I', data, p + 4)[0], struct.unpack_from('<I', data, p + 16)[0]
        yield off, size


def change_build_id(path):
    """Flip the bytes of the GNU build-id note of the file at path."""
    data = bytearray(open(path, 'rb').read())
    for off, size in elf_notes(data):
        p = off
        while p + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from('<III', data, p)
            name = bytes(data[p + 12:p + 12 + namesz])
            desc = p + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and name == b'GNU\0':
                for k in range(desc, desc + descsz):
                    data[k] ^= 0xff
                open(path, 'wb').write(data)
                return True
            p = desc + ((descsz + 3) & ~3)
    return False


def own_instruction(core, live):
    """The instruction explain can show without the executable's file: the
    live one if the core holds the page at pc (gcore keeps the text pages
    gdb wrote its breakpoints in), else none."""
    pc = int(live['pc'], 16)
    data = open(core, 'rb').read()
    held = any(v <= pc < v + size for v, off, size in elf_loads(data))
    return live.get('instruction') if held else None


def rebuilt(ml, target, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    prog = os.path.join(d, 'prog')
    shutil.copy(target, prog)
    live, core = crash(ml, prog, 'null-pointer', d)
    if not check(core is not None, 'rebuilt: a core'):
        return
    res, dead = explain(ml, core)
    check_eq(res.stderr, b'', 'rebuilt: before the rebuild, nothing is missing')
    if not check(change_build_id(prog), 'rebuilt: the copy has a build-id'):
        return
    res, dead = explain(ml, core)
    check(dead is not None and dead.get('kind') == 'null-pointer',
          'rebuilt: still explained (the core keeps the registers and stack)', res.stderr)
    msg = ('memlayout: %s: %s: build-id mismatch' % (core, prog)).encode()
    check(msg in res.stderr, 'rebuilt: the build-id mismatch is named', res.stderr)
    check(dead is not None and dead.get('instruction') == own_instruction(core, live),
          'rebuilt: no instruction made up from the other file', dead and dead.get('instruction'))


def sysroot(ml, target, tmp):
    """The executable moved under a sysroot after the crash: --sysroot
    finds it (the instruction decoded from it, nothing missing); without
    it the file is named as missing and no instruction is made up."""
    d = tempfile.mkdtemp(dir=tmp)
    prog = os.path.join(d, 'prog')
    shutil.copy(target, prog)
    live, core = crash(ml, prog, 'null-pointer', d)
    if not check(core is not None, 'sysroot: a core'):
        return
    root = os.path.join(tmp, 'sysroot')
    os.makedirs(root + d)
    shutil.move(prog, root + prog)
    res, dead = explain(ml, core)
    check(('memlayout: %s: %s: not in the core, and the file is not on this machine'
           % (core, prog)).encode() in res.stderr, 'sysroot: without it the file is missing',
          res.stderr)
    check(dead is not None and dead.get('instruction') == own_instruction(core, live),
          'sysroot: without it no instruction', dead and dead.get('instruction'))
    res, dead = explain(ml, core, '--sysroot', root)
    # (the C library is not in that sysroot: it is named missing)
    check(prog.encode() not in res.stderr, 'sysroot: with it the executable is found',
          res.stderr)
    check(dead is not None and dead.get('instruction') == live.get('instruction') and
          frames(dead) == frames(live), 'sysroot: with it the instruction and frames',
          dead and dead.get('instruction'), dead and frames(dead))
    show_where_sysroot(ml, core, prog, root, live, tmp)


def show_where_sysroot(ml, core, prog, root, live, tmp):
    """show CORE and where CORE take --sysroot and --exe as explain does:
    the moved executable's sections and symbols found under the sysroot,
    or in the file --exe names; without them, none."""
    def text_sections(*extra):
        res = subprocess.run([ml, 'show', '-r', '-n', '-o', 'KIND,SECTIONS,NAME', *extra, core],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=60)
        rows = [line.split() for line in res.stdout.splitlines()]
        return res, [r[1] for r in rows if len(r) == 3 and r[0] == 'text' and r[2] == prog]

    def where_pc(*extra):
        return subprocess.run([ml, 'where', *extra, core, live['pc']], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60)

    res, secs = text_sections()
    check(not any('.text' in s for s in secs), 'show CORE without --sysroot: no sections', secs)
    res, secs = text_sections('--sysroot', root)
    check(res.returncode == 0, 'show --sysroot CORE: exit status', res.returncode, res.stderr)
    check(any('.text' in s for s in secs), 'show --sysroot CORE: the executable\'s sections',
          secs, res.stderr)
    check(prog not in res.stderr, 'show --sysroot CORE: the executable is found', res.stderr)
    res = where_pc()
    check('null_read' not in res.stdout, 'where CORE without --sysroot: no symbol', res.stdout)
    res = where_pc('--sysroot', root)
    check(res.returncode == 0 and 'null_read' in res.stdout,
          'where --sysroot CORE: the function at pc', res.returncode, res.stdout, res.stderr)
    other = os.path.join(tempfile.mkdtemp(dir=tmp), 'elsewhere')
    shutil.copy(root + prog, other)
    res = where_pc('--exe', other)
    check(res.returncode == 0 and 'null_read' in res.stdout and prog not in res.stderr,
          'where --exe FILE CORE: the function at pc from FILE', res.returncode, res.stdout,
          res.stderr)
    res, secs = text_sections('--exe', other)
    check(any('.text' in s for s in secs), 'show --exe FILE CORE: the executable\'s sections',
          secs, res.stderr)
    res = subprocess.run([ml, 'show', '--sysroot', root, str(os.getpid())],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    check(res.returncode == 2 and 'memlayout: --sysroot: goes with a core file only' in res.stderr,
          'show --sysroot PID: a usage error', res.returncode, res.stderr)


def bad_input(ml, target, some_core, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    data = open(some_core, 'rb').read()
    cases = []

    def make(name, content):
        path = os.path.join(d, name)
        with open(path, 'wb') as f:
            f.write(content)
        return path

    notes_end = max(off + size for off, size in elf_notes(data))
    cases.append((make('notes-cut', data[:notes_end - 8]), 'truncated'))
    cases.append((make('head', data[:100]), 'truncated'))
    cases.append((make('ident', data[:10]), 'not an ELF file'))
    other = bytearray(data)
    other[18:20] = struct.pack('<H', 183 if other[18:20] != struct.pack('<H', 183) else 62)
    cases.append((make('aarch64', bytes(other)), 'another architecture'))
    cases.append((target, 'not a core dump'))
    cases.append((make('garbage', os.urandom(4096)), 'not an ELF file'))
    cases.append((make('empty', b''), 'not an ELF file'))
    for path, words in cases:
        for cmd in (['explain'], ['show'], ['where'], ['explain', '-J']):
            argv = [ml] + cmd + [path] + (['0x1000'] if cmd == ['where'] else [])
            res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=30)
            what = '%s %s' % (' '.join(cmd), os.path.basename(path))
            check_eq(res.returncode, 1, what + ': exit status')
            err = res.stderr.decode(errors='replace')
            check(err.startswith('memlayout: %s: ' % path) and words in err and
                  err.count('\n') == 1, what + ': one line naming it: ' + words, err)
            check_eq(res.stdout, b'', what + ': nothing on stdout')


def elf_loads(data):
    """(vaddr, offset, filesz) of each PT_LOAD of a 64- or 32-bit core."""
    cls = data[4]
    phoff, = struct.unpack_from('<Q' if cls == 2 else '<I', data, 32 if cls == 2 else 28)
    phentsize, phnum = struct.unpack_from('<HH', data, 54 if cls == 2 else 42)
    for i in range(phnum):
        p = phoff + i * phentsize
        if struct.unpack_from('<I', data, p)[0] != 1:
            continue
        if cls == 2:
            off, vaddr = struct.unpack_from('<QQ', data, p + 8)
            filesz, = struct.unpack_from('<Q', data, p + 32)
        else:
            off, vaddr = struct.unpack_from('<II', data, p + 4)
            filesz, = struct.unpack_from('<I', data, p + 16)
        yield vaddr, off, filesz


def truncated(ml, core, live, tmp):
    """A real core cut short after its notes is still explained (exit 0),
    and the cut is named: the byte it stops at, the size it should have,
    the first address lost.  Cut inside its notes, it is refused (exit 1)."""
    data = open(core, 'rb').read()
    loads = [l for l in elf_loads(data) if l[2]]
    notes_end = max(off + size for off, size in elf_notes(data))
    full = max(off + size for _, off, size in loads)
    mid = loads[len(loads) // 2]
    cuts = [('after the notes', max(notes_end, loads[0][1])),
            ('inside a segment', mid[1] + mid[2] // 2 + 3),
            ('half', len(data) // 2), ('the last byte', full - 1)]
    # (gcore writes its notes after the segments: no cut keeps them)
    cuts = [(what, at) for what, at in cuts if notes_end <= at < full]
    d = tempfile.mkdtemp(dir=tmp)
    for what, at in cuts:
        what = 'truncated ' + what
        path = os.path.join(d, 'cut-%d' % at)
        with open(path, 'wb') as f:
            f.write(data[:at])
        lost = next(v + max(0, at - off) for v, off, size in loads if off + size > at)
        res, dead = explain(ml, path)
        check(res.returncode == 0 and dead is not None, what + ': explained, exit 0',
              res.returncode, res.stderr)
        for key in ('kind', 'signo', 'si_code', 'address'):
            check_eq(dead and dead.get(key), live.get(key), what + ': ' + key)
        check_eq(dead and dead['thread'].get('tid'), int(live['thread']['tid']),
                 what + ': thread')
        msg = ('memlayout: %s: truncated: the core stops at byte %d of %d: memory from '
               '%#x on is missing\n' % (path, at, full, lost)).encode()
        check(msg in res.stderr, what + ': the cut named', msg, res.stderr)
        res = subprocess.run([ml, 'show', '-r', '-n', '-o', 'START', path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(res.returncode == 0 and res.stdout.count(b'\n') >= len(loads),
              what + ': show CORE lists its mappings', res.returncode, res.stderr)
    for at in (notes_end - 1, (notes_end + 64) // 2):
        path = os.path.join(d, 'notes-%d' % at)
        with open(path, 'wb') as f:
            f.write(data[:at])
        res, dead = explain(ml, path)
        check(res.returncode == 1 and b'truncated' in res.stderr,
              'truncated in the notes at %d: refused, exit 1' % at, res.returncode, res.stderr)


def show_where(ml, core, live):
    res = subprocess.run([ml, 'where', core, live['address'], live['pc']],
                         stdout=subprocess.PIPE, text=True, timeout=60)
    check_eq(res.returncode, 0, 'where CORE: exit status')
    check('null_read' in res.stdout, 'where CORE names the function at pc', res.stdout)
    res = subprocess.run([ml, 'show', '-J', core], stdout=subprocess.PIPE, timeout=60)
    doc = json.loads(res.stdout)
    kinds = {r['kind'] for r in doc['regions']}
    check({'text', 'rodata', 'data', 'stack', 'vdso'} <= kinds, 'show -J CORE: kinds', kinds)
    check_eq(doc.get('pid'), GCORE_PID.get(core, live['process']['pid']), 'show -J CORE: pid')


def coredump(ml, core, tmp):
    """explain --coredump through a fake coredumpctl in PATH."""
    d = tempfile.mkdtemp(dir=tmp)
    log = os.path.join(d, 'log')
    fake = os.path.join(d, 'coredumpctl')
    with open(fake, 'w') as f:
        f.write('#!/bin/sh\n'
                'echo "$@" > %s\n'
                'out=; while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; '
                '--) shift; break;; esac; shift; done\n'
                '[ "$1" = crash-target ] || { echo "No match found." >&2; exit 1; }\n'
                'echo "dumped: $out"\n'
                'cp %s "$out"\n' % (log, core))
    os.chmod(fake, 0o755)
    env = dict(os.environ, PATH=d + ':' + os.environ.get('PATH', ''))
    res = subprocess.run([ml, 'explain', '-J', '--coredump', 'crash-target'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    check_eq(res.returncode, 0, 'explain --coredump: exit status')
    doc = json.loads(res.stdout) if res.stdout else {}
    check_eq(doc.get('kind'), 'null-pointer', 'explain --coredump: the core it dumped')
    check(b'dumped: ' in res.stderr, "explain --coredump: coredumpctl's output on stderr",
          res.stderr)
    args = open(log).read().split()
    check(args[-3:] == ['-o', args[-3 + 1], args[-1]] or ('dump' in args and '-o' in args),
          'explain --coredump: coredumpctl dump -o FILE', args)
    check(not os.path.exists(args[args.index('-o') + 1]),
          'explain --coredump: the dumped file is removed', args)
    res = subprocess.run([ml, 'explain', '--coredump', 'nothing-such'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    check_eq(res.returncode, 1, 'explain --coredump no match: exit status')
    check(b'memlayout: nothing-such: coredumpctl found no core dump' in res.stderr,
          'explain --coredump no match: says so', res.stderr)


def main():
    ml, target = (os.path.abspath(a) for a in sys.argv[1:3])
    is32 = sys.argv[3:] == ['--32']
    if use_gcore() and not shutil.which('gdb'):
        print('skip: core: no gdb to dump cores with gcore (kernel.core_pattern %s)'
              % core_pattern())
        sys.exit(77)
    run = load_run_table()
    modes = run.CASES32 if is32 else tuple(run.CASES)
    tmp = tempfile.mkdtemp(prefix='ml-core-')
    why = None if use_gcore() else cores_written(target, tmp)
    if why:
        shutil.rmtree(tmp, ignore_errors=True)
        print('skip: core: %s' % why)
        sys.exit(77)
    try:
        cores = corpus(ml, target, run, modes, tmp)
        no_aslr_heap(ml, target, tmp)
        multithreaded(ml, target, tmp)
        rebuilt(ml, target, tmp)
        sysroot(ml, target, tmp)
        if 'null-pointer' in cores:
            null_core, null_live = cores['null-pointer']
            bad_input(ml, target, null_core, tmp)
            truncated(ml, null_core, null_live, tmp)
            if not is32:
                d = tempfile.mkdtemp(dir=tmp)
                live, core = crash(ml, target, 'null-pointer', d)
                show_where(ml, core, live)
                coredump(ml, null_core, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


main()
