#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# test_glibc_heap.py: `memlayout heap` on glibc malloc, against glibc itself.
# glibc-target builds allocation patterns (one thread; several threads, so
# several arenas; every third chunk freed; mmap'd blocks), writes
# malloc_info() and mallinfo2() of that moment and waits, allocating
# nothing; memlayout heap -J must give the same figures: per arena (malloc_info's
# <heap>: fast count and size, rest count and size, system current, the
# unsorted bin) and in all (mallinfo2's nine figures under their JSON names),
# the mmap'd chunks found in the maps as many as glibc counts, the tcache
# chunks the target's own frees left.  64-bit found both ways (libc's debug
# symbols when installed, and the scan with MEMLAYOUT_DEBUG_DIR pointing
# nowhere), 32-bit.  Corrupted heaps (a fastbin cycle, a size past the heap,
# bk->fd != chunk, a fastbin into a million made-up chunks): exit 1, the finding named, in bounded time, the target
# left running.  where on a block in use and on one in a tcache: its chunk,
# size, state and offset.
#
# usage: test_glibc_heap.py MEMLAYOUT GLIBC_TARGET [GLIBC_TARGET32]
import json
import os
import re
import subprocess
import sys
import time

MEMLAYOUT, TARGET = sys.argv[1], sys.argv[2]
TARGET32 = sys.argv[3] if len(sys.argv) > 3 else None
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL: {what}")
    else:
        print(f"ok: {what}")


class Target:
    def __init__(self, exe, *args):
        self.p = subprocess.Popen([exe, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.text = ''
        while True:
            line = self.p.stdout.readline().decode()
            if not line or line == 'ready\n':
                break
            self.text += line

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=10)

    def state(self):
        with open(f'/proc/{self.p.pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0]


def memlayout(*args, env=None):
    t0 = time.monotonic()
    r = subprocess.run([MEMLAYOUT, *args], capture_output=True, text=True, timeout=60,
                       env=env)
    return r, time.monotonic() - t0


def malloc_info(text):
    heaps = []
    for m in re.finditer(r'<heap nr="(\d+)">(.*?)</heap>', text, re.S):
        body = m.group(2)
        fast = re.search(r'<total type="fast" count="(\d+)" size="(\d+)"/>', body)
        rest = re.search(r'<total type="rest" count="(\d+)" size="(\d+)"/>', body)
        system = re.search(r'<system type="current" size="(\d+)"/>', body)
        uns = re.search(r'<unsorted from="\d+" to="\d+" total="(\d+)" count="(\d+)"/>', body)
        heaps.append({'fast': (int(fast[1]), int(fast[2])), 'rest': (int(rest[1]), int(rest[2])),
                      'system': int(system[1]),
                      'unsorted': (int(uns[2]), int(uns[1])) if uns else (0, 0)})
    mi = dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', re.search(r'mallinfo2 (.*)', text)[1]))
    tc = re.search(r'tcache chunks=(\d+) bytes=(\d+)', text)
    return heaps, mi, (int(tc[1]), int(tc[2]))


NAMES = {'arena_bytes': 'arena', 'free_chunks': 'ordblks', 'fastbin_chunks': 'smblks',
         'mmap_chunks': 'hblks', 'mmap_bytes': 'hblkhd', 'fastbin_bytes': 'fsmblks',
         'in_use_bytes': 'uordblks', 'free_bytes': 'fordblks', 'top_bytes': 'keepcost'}


def compare(label, exe, threads, env=None, exact_tcache=True, want_found=None):
    t = Target(exe, 'pattern', str(threads))
    try:
        heaps, mi, tc = malloc_info(t.text)
        r, secs = memlayout('heap', '-J', '-b', str(t.p.pid), env=env)
        check(r.returncode == 0, f'{label}: exit 0 ({r.returncode}: {r.stderr.strip()})')
        if r.returncode:
            return
        d = json.loads(r.stdout)
        check(d['allocator'] == 'glibc', f'{label}: allocator glibc')
        if want_found:
            check(d['found_by'] == want_found, f'{label}: found by {want_found} ({d["found_by"]})')
        check(d['stopped'] is True, f'{label}: read stopped')
        check(len(d['arenas']) == len(heaps) == threads + 1,
              f'{label}: {len(heaps)} arenas in malloc_info, {len(d["arenas"])} read')
        for i, (h, a) in enumerate(zip(heaps, d['arenas'])):
            # malloc_info adds the bin chunks' raw size fields, PREV_INUSE
            # set in each (a free chunk follows one in use): one byte a chunk
            got = {'fast': (a['fast-chunks'], a['fast-bytes']),
                   'rest': (a['rest-chunks'], a['rest-bytes'] + a['rest-chunks'] - 1),
                   'system': a['system'],
                   'unsorted': (a['unsorted-chunks'], a['unsorted-bytes'] + a['unsorted-chunks'])}
            for k in h:
                check(got[k] == h[k], f'{label}: arena {i} {k}: malloc_info {h[k]}, read {got[k]}')
            check(a['in-use'] == h['system'] - h['fast'][1] - (h['rest'][1] - h['rest'][0] + 1),
                  f'{label}: arena {i} in use')
        for name, mname in NAMES.items():
            check(d['totals'][name] == mi[mname],
                  f'{label}: totals.{name} {d["totals"][name]} == mallinfo2 {mname} {mi[mname]}')
        mm = [h for h in d['heaps'] if h['type'] == 'mmap']
        check(len(mm) == mi['hblks'] and sum(h['size'] for h in mm) == mi['hblkhd'],
              f'{label}: {len(mm)} mmap\'d chunks found in the maps, glibc counts {mi["hblks"]}')
        check(mi['hblks'] >= 3 * (threads + 1), f'{label}: the pattern made mmap\'d chunks')
        if exact_tcache:
            check((d['totals']['tcache_chunks'], d['totals']['tcache_bytes']) == tc,
                  f'{label}: tcache {d["totals"]["tcache_chunks"]} chunks, the frees left {tc}')
        else:
            check(d['totals']['tcache_chunks'] >= tc[0],
                  f'{label}: tcache {d["totals"]["tcache_chunks"]} chunks, the frees left at least {tc[0]}')
        check(t.state() in 'SR', f'{label}: target running after the read ({t.state()})')
        # where on a block in use and on one the target freed into its tcache
        # (a 32-byte chunk: tcache bin 0 where MINSIZE is 32, 1 where it is 16)
        W = d['word_size'] // 8
        live, free = (int(x, 16) for x in re.search(r'probe live=(\S+) free=(\S+)', t.text).groups())
        for addr, want in ((live + 5, rf'glibc chunk {hex(live - 2 * W)} of \S+ \(user pointer {hex(live)}\), '
                                       rf'in use, {2 * W + 5} bytes into the chunk'),
                           (free + 8, rf'glibc chunk {hex(free - 2 * W)} of 32B \(user pointer {hex(free)}\), '
                                      rf'free in tcache {(32 - 4 * W) // 16}, {2 * W + 8} bytes into the chunk')):
            w, _ = memlayout('where', str(t.p.pid), hex(addr), env=env)
            check(w.returncode == 0 and re.search(want, w.stdout),
                  f'{label}: where {hex(addr)}: {want!r} ({w.stdout.strip()[-160:]!r} {w.stderr.strip()})')
    finally:
        t.close()


def hostile(label, exe, how, words):
    t = Target(exe, how, '0')
    try:
        r, secs = memlayout('heap', str(t.p.pid))
        check(r.returncode == 1, f'{label}: exit 1 ({r.returncode})')
        check(re.search(words, r.stderr) is not None, f'{label}: says {words!r}: {r.stderr.strip()!r}')
        check(secs < 10, f'{label}: done in {secs:.2f} s')
        check(t.state() in 'SR', f'{label}: target not left stopped ({t.state()})')
    finally:
        t.close()


compare('64-bit', TARGET, 0)
compare('64-bit threads', TARGET, 3)
compare('64-bit scan', TARGET, 2, env=dict(os.environ, MEMLAYOUT_DEBUG_DIR='/nonexistent'),
        want_found='scan')
hostile('fastbin cycle', TARGET, 'cycle', r'fastbin 0: cyclic or runaway list')
hostile('size past the heap', TARGET, 'size', r'heap walk: chunk 0x[0-9a-f]+: size field 0x40000001 reaches past')
hostile('bk->fd', TARGET, 'link', r'unsorted bin 1: chunk 0x[0-9a-f]+: bk->fd != chunk')
hostile('a million fake chunks', TARGET, 'long', r'fastbin 0: cyclic or runaway list at chunk 0x[0-9a-f]+ \(\d+ entries, more than')
if TARGET32:
    # i386 threads leave a few chunks of their own start in their tcache
    compare('32-bit', TARGET32, 2, exact_tcache=False)
    hostile('32-bit size past the heap', TARGET32, 'size', r'reaches past the end of its heap')
else:
    print('skip: 32-bit (no -m32 target)')

# --no-stop says so
t = Target(TARGET, 'pattern', '1')
r, _ = memlayout('heap', '--no-stop', '-s', str(t.p.pid))
check(r.returncode == 0 and 'read while it ran (--no-stop)' in r.stdout, '--no-stop says it read racily')
t.close()

print(f'{checks - failures} of {checks} checks passed')
sys.exit(1 if failures else 0)
