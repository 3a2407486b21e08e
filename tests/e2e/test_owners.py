#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_owners.py MEMLAYOUT TARGET-SPECIAL - every anonymous mapping named
by its owner, and the kernel's special mappings named, on real processes.

- target-special: io_uring's ring is kind ring [io_uring], a perf event's
  buffer ring [perf_event] (each where this kernel and privileges allow),
  memfd and SysV shm are shm, a private memfd file, a malloc(4 MiB) block
  is heap owned by glibc ([malloc mmap chunk], told by its chunk header),
  and `where` says so in words.
- the same target with jemalloc, tcmalloc and mimalloc preloaded (where
  Debian's libraries are installed): its 64 KiB blocks are in heap owned
  by "probably NAME".
- the seeds' Python exercise: a real python3 grows a list by ~150 MiB; at
  least 90% of the growth is heap in `show -s` and in `watch`'s samples,
  and the obmalloc arenas are named by their pool headers.
- node (if installed): V8's heap is named, as a guess.
- the JVM (if `java` is installed): the Java heap is named as a guess,
  its JIT code cache is not heap.
- Go (if `go` is installed; skipped otherwise): a static Go binary's heap
  object at 0xc000... is heap owned by go, and no region there is called
  a thread's stack.
Exits 77 only if nothing at all could run."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import Target, check, check_eq, done, region_at, run, show_json  # noqa: E402

COLS = 'START,END,SIZE,PERMS,KIND,ALLOCATOR,OBJECT'
LIBDIR = '/usr/lib/x86_64-linux-gnu'
PRELOADS = [('jemalloc', 'libjemalloc.so.2'), ('tcmalloc', 'libtcmalloc_minimal.so.4'),
            ('mimalloc', 'libmimalloc.so.2')]


def mem_readable():
    """Can memlayout (the target's sibling, not its parent) read the
    target's memory?  Root can; an ordinary user can where Yama's
    ptrace_scope is 0 or absent.  Where it cannot, owners are guesses."""
    if os.geteuid() == 0:
        return True
    try:
        return int(open('/proc/sys/kernel/yama/ptrace_scope').read()) == 0
    except (OSError, ValueError):
        return True


MEM = mem_readable()
if not MEM:
    print('note: memory of targets not readable (Yama ptrace_scope): owners are guesses')


def where_json(ml, pid, a):
    res = run(ml, 'where', '-J', '-o', 'ADDR,KIND,ALLOCATOR,OBJECT', pid, hex(a))
    import json
    try:
        return json.loads(res.stdout)['addresses'][0]
    except (ValueError, KeyError, IndexError):
        return {'error': res.stderr.decode(errors='replace')}


def check_special(ml, target):
    with Target([target]) as t:
        f = t.facts
        regs = (show_json(ml, '-o', COLS, t.pid) or [])
        want = [('uring', 'ring', '[io_uring]'), ('perf', 'ring', '[perf_event]'),
                ('memfd', 'shm', None), ('memfd_priv', 'file', None), ('sysv', 'shm', None),
                ('huge', 'anon', '[hugetlb]')]
        for name, kind, obj in want:
            if not f.get(name):
                print('skip: %s: not available here (kernel or privileges)' % name)
                continue
            r = region_at(regs, f[name])
            check(r is not None and r['kind'] == kind and (obj is None or r['object'] == obj),
                  '%s mapping is %s %s' % (name, kind, obj or ''), r)
        r = region_at(regs, f['chunk'])
        if MEM:
            check(r is not None and r['kind'] == 'heap' and r['allocator'] == 'glibc' and
                  r['object'] == '[malloc mmap chunk]',
                  'malloc(4 MiB) is heap, glibc, [malloc mmap chunk]', r)
        else:
            check(r is not None and r['kind'] == 'heap' and r['allocator'] == 'probably glibc',
                  'malloc(4 MiB), memory unread: heap, probably glibc', r)
        brk = [x for x in regs if x['object'] == '[heap]']
        check(len(brk) == 1 and brk[0]['kind'] == 'heap' and
              brk[0]['allocator'] == ('glibc' if MEM else 'probably glibc'),
              'the brk heap keeps its [heap] mark, owned by glibc', brk)
        out = run(ml, 'where', t.pid, hex(f['chunk'])).stdout.decode()
        check(('owner      heap of glibc malloc: malloc chunk headers' if MEM else
               'owner      anon, probably glibc malloc') in out,
              'where names the chunk\'s owner and how it was told', out)
        if f.get('uring'):
            out = run(ml, 'where', t.pid, hex(f['uring'])).stdout.decode()
            check("io_uring's rings" in out, 'where says io_uring in words', out)


def check_preloads(ml, target):
    ran = 0
    for name, lib in PRELOADS:
        path = os.path.join(LIBDIR, lib)
        if not os.path.exists(path):
            print('skip: %s: %s not installed' % (name, path))
            continue
        ran += 1
        env = dict(os.environ, LD_PRELOAD=path)
        p = subprocess.Popen([target, 'alloc'], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env)
        try:
            facts = {}
            for raw in p.stdout:
                k, _, v = raw.decode().strip().partition('=')
                facts[k] = int(v, 0)
                if k == 'ready':
                    break
            regs = (show_json(ml, '-o', COLS, p.pid) or [])
            r = region_at(regs, facts['block'])
            check(r is not None and r['kind'] == 'heap' and
                  r['allocator'] == 'probably ' + name,
                  '%s preloaded: its blocks are heap, "probably %s"' % (name, name), r)
        finally:
            p.stdin.close()
            p.wait(timeout=10)
    return ran


PY_GROW = r'''
import sys
print("ready=0x1", flush=True)
sys.stdin.readline()
l = []
for i in range(5_000_000):
    l.append(i * 1000003)
print("grown=0x1", flush=True)
sys.stdin.readline()
'''


def totals(ml, pid):
    doc = show_json(ml, '-s', pid, key='summary') or []
    return {row['kind']: row['virtual'] for row in doc}


def check_python(ml):
    p = subprocess.Popen([sys.executable, '-c', PY_GROW], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        before = totals(ml, p.pid)
        # watch's lines go to a file: a pipe nobody reads would fill up
        # and stop its sampling
        log = tempfile.TemporaryFile()
        w = subprocess.Popen([ml, 'watch', '-J', '-i', '0.1', str(p.pid)],
                             stdout=log, stderr=subprocess.DEVNULL)
        for _ in range(300):               # its first sample: before the growth
            if log.tell() > 0:
                break
            time.sleep(0.05)
        p.stdin.write(b'\n')
        p.stdin.flush()
        p.stdout.readline()
        after = totals(ml, p.pid)
        time.sleep(1.0)                    # samples after the growth
        w.send_signal(signal.SIGINT)
        w.wait(timeout=30)
        log.seek(0)
        wout = log.read()
        grow = after.get('total', 0) - before.get('total', 0)
        hgrow = after.get('heap', 0) - before.get('heap', 0)
        check(grow > 100 << 20 and hgrow >= 0.9 * grow,
              'show -s: >= 90%% of the python list\'s growth is heap (%d of %d)' % (hgrow, grow),
              before, after)
        import json
        samples = [json.loads(l) for l in wout.decode().splitlines()
                   if l.startswith('{"t"')]
        if check(len(samples) >= 2, 'watch -J gave samples', wout[-500:]):
            a, b = samples[0], samples[-1]
            wg = b['vsize'] - a['vsize']
            wh = b['kinds'].get('heap', {}).get('vsize', 0) - a['kinds'].get('heap', {}).get('vsize', 0)
            check(wg > 100 << 20 and wh >= 0.9 * wg,
                  'watch: >= 90%% of the growth is heap (%d of %d)' % (wh, wg))
        regs = (show_json(ml, '-o', COLS, p.pid) or [])
        obm = [r for r in regs if r['allocator'] == ('obmalloc' if MEM else 'probably obmalloc')]
        check(len(obm) > 0 and all(r['kind'] == 'heap' for r in obm),
              'CPython obmalloc arenas named (from their pool headers where readable)', len(obm))
    finally:
        p.kill()
        p.wait()


NODE = r'''
const keep = [];
for (let i = 0; i < 200000; i++) keep.push({a: i, b: 'x' + i});
console.log("ready=0x1");
process.stdin.on('data', () => {}); process.stdin.on('end', () => process.exit(0));
'''


def check_node(ml):
    node = shutil.which('node')
    if not node:
        print('skip: node: not installed')
        return 0
    p = subprocess.Popen([node, '-e', NODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        regs = (show_json(ml, '-o', COLS, p.pid) or [])
        v8 = [r for r in regs if r['allocator'] == 'probably v8']
        check(len(v8) > 0 and all(r['kind'] == 'heap' for r in v8),
              'node: V8 heap mappings are heap, "probably v8"', len(v8))
    finally:
        p.stdin.close()
        p.wait(timeout=10)
    return 1


JAVA = r'''
import java.util.*;
public class Main {
    public static void main(String[] a) throws Exception {
        List<byte[]> keep = new ArrayList<>();
        for (int i = 0; i < 200; i++) keep.add(new byte[100000]);
        System.out.println("ready=0x1");
        System.in.read();
    }
}
'''


def check_jvm(ml):
    java = shutil.which('java')
    if not java:
        print('skip: jvm: java not installed (Debian: default-jdk-headless)')
        return 0
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'Main.java')
        open(src, 'w').write(JAVA)
        with Target([java, '-Xms64m', '-Xmx64m', '-XX:+UseSerialGC', src]) as t:
            regs = show_json(ml, '-o', COLS, t.pid) or []
            jvm = [r for r in regs if r['allocator'] == 'probably jvm']
            big = [r for r in jvm if r['size'] >= 32 << 20 and r['kind'] == 'heap']
            check(len(big) > 0, 'JVM: the Java heap (-Xmx64m) is heap, "probably jvm"', jvm)
            jit = [r for r in regs if 'x' in r['perms'] and r['allocator']]
            check_eq(jit, [], 'JVM: its JIT code cache is not called heap')
    return 1


GO = r'''
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
)

var keep [][]byte

func main() {
	for i := 0; i < 200; i++ {
		keep = append(keep, make([]byte, 100000))
	}
	b := make([]byte, 100)
	keep = append(keep, b)
	for i := 0; i < 4; i++ {
		go func() { for { runtime.Gosched() } }()
	}
	fmt.Printf("obj=%p\n", &b[0])
	fmt.Printf("ready=0x1\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
}
'''


def check_go(ml):
    go = shutil.which('go')
    if not go:
        print('skip: go: not installed (Debian: golang-go)')
        return 0
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'main.go')
        open(src, 'w').write(GO)
        env = dict(os.environ, CGO_ENABLED='0', HOME=d, GOCACHE=os.path.join(d, 'cache'),
                   GOPATH=os.path.join(d, 'gopath'), GO111MODULE='off')
        b = subprocess.run([go, 'build', '-o', os.path.join(d, 'gotarget'), src], env=env,
                           capture_output=True, timeout=300)
        if b.returncode != 0:
            print('skip: go: build failed: %s' % b.stderr.decode(errors='replace')[-300:])
            return 0
        with Target([os.path.join(d, 'gotarget')]) as t:
            obj = t.facts['obj']
            regs = (show_json(ml, '--ptrace', '-o', COLS + ',TID', t.pid) or [])
            r = region_at(regs, obj)
            check(r is not None and r['kind'] == 'heap' and r['allocator'] == 'go',
                  'Go: a heap object is in heap owned by go', r)
            stacks = [x for x in regs if x['kind'] == 'thread-stack' and
                      int(x['start'], 16) >> 32 & 0xff >= 0xc0 and int(x['start'], 16) < 1 << 47
                      and int(x['start'], 16) & ((1 << 40) - 1) >= 0xc000000000]
            check_eq(stacks, [], 'Go: no region of the heap arenas is a thread stack')
            w = where_json(ml, t.pid, obj)
            check(w.get('kind') == 'heap' and w.get('allocator') == 'go',
                  'Go: where on the object says heap, go', w)
            # watch reads no sections: the arena at the first hint is
            # still heap there, not the stack of the thread whose sp is in it
            res = run(ml, 'watch', '-J', '-c', '1', t.pid)
            import json
            try:
                kinds = json.loads(res.stdout.decode().splitlines()[0])['kinds']
            except (ValueError, IndexError, KeyError):
                kinds = {}
            check(kinds.get('heap', {}).get('vsize', 0) >= 4 << 20 and
                  kinds.get('thread-stack', {}).get('count', 0) == 0,
                  'Go: watch counts the arena as heap, no thread stack', kinds)
    return 1


def main():
    ml, target = sys.argv[1], os.path.realpath(sys.argv[2])
    check_special(ml, target)
    check_preloads(ml, target)
    check_python(ml)
    check_node(ml)
    check_jvm(ml)
    check_go(ml)
    done()


main()
