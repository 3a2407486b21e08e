# SPDX-License-Identifier: MIT
"""test_watch.py - memlayout watch on target-watch, which changes its
address space one step per command: grows its heap with sbrk in known
steps, maps a region, mprotects a page of it, unmaps it, starts a thread,
dlopens and dlcloses a library with 64 KiB of .data and 1 MiB of .bss
(its per-object text/data/bss must be those of /proc/PID/maps), exits.  After each step the test waits for watch's log line of that event
(so no step can be missed between samples) and checks it against what the
target printed and against /proc/PID/maps read at the same moment (the
target is blocked on stdin, so its maps do not move).  Then the record
file (JSON lines), the summary at the target's exit, watch -- COMMAND
with -J and through an exec, the terminal view on a pseudo-terminal
(height, colour, NO_COLOR), Ctrl-C, and usage/target errors.

usage: test_watch.py MEMLAYOUT TARGET_WATCH WATCH_LIB
"""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import Target, check, check_eq, done, on_pty, parse_facts, run  # noqa: E402

PAGE = os.sysconf('SC_PAGE_SIZE')
WAIT = 15          # seconds to wait for an expected line
EVENT_RE = re.compile(r'^\s*([0-9.]+) (\S+)\s+(\S+)(?:\s+0x([0-9a-f]+)-0x([0-9a-f]+))?(.*)$')


class Lines:
    """The stdout of a process, line by line, read by a thread."""

    def __init__(self, proc):
        self.q = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, args=(proc.stdout,),
                         daemon=True).start()

    def _read(self, f):
        for raw in f:
            self.q.put(raw.decode('utf-8', 'replace').rstrip('\n'))
        self.q.put(None)

    def until(self, pred, what):
        """Lines up to the first one pred accepts; that line or None."""
        deadline = time.time() + WAIT
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            self.all.append(line)
            if pred(line):
                return line
        check(False, 'watch printed ' + what, self.all[-15:])
        return None

    def rest(self):
        out = []
        while True:
            line = self.q.get(timeout=WAIT)
            if line is None:
                return out
            out.append(line)
            self.all.append(line)


def event(line):
    """(type, kind, start, end, rest) of an event log line, or None."""
    m = EVENT_RE.match(line)
    if not m or m.group(2) == 'sample':
        return None
    lo = int(m.group(4), 16) if m.group(4) else None
    hi = int(m.group(5), 16) if m.group(5) else None
    return m.group(2), m.group(3), lo, hi, m.group(6)


def is_event(typ, kind=None, start=None, end=None, text=None):
    def pred(line):
        e = event(line)
        return (e is not None and e[0] == typ and (kind is None or e[1] == kind)
                and (start is None or e[2] == start)
                and (end is None or e[3] == end)
                and (text is None or text in e[4]))
    return pred


def maps_of(pid):
    """[(start, end, perms, name)] of /proc/PID/maps."""
    out = []
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = (int(x, 16) for x in parts[0].split('-'))
            out.append((lo, hi, parts[1], parts[5].strip() if len(parts) > 5 else ''))
    return out


def heap_of(pid):
    return [m for m in maps_of(pid) if m[3] == '[heap]']


def step(target, cmd):
    """Send one command to target-watch; its facts once it is done."""
    target.proc.stdin.write((cmd + '\n').encode())
    target.proc.stdin.flush()
    lines = []
    for raw in target.proc.stdout:
        line = raw.decode().strip()
        lines.append(line)
        if line == 'done=0x1':
            break
    return parse_facts(lines)


def heap_steps(target, lines):
    """Each sbrk: the heap grew to the [heap] size in /proc, then (in the
    same sample, events of regions come first) the brk moved there."""
    for i in range(3):
        facts = step(target, 'brk 65536')
        heap = heap_of(target.pid)
        if not check(len(heap) == 1, 'one [heap] in /proc after sbrk %d' % i, heap):
            return
        size = heap[0][1] - heap[0][0]
        grew = lines.until(is_event('grew', 'heap', heap[0][0], heap[0][1]),
                           'heap grew event %d' % i)
        if grew:
            check(grew.split(' -> ')[1].split()[0] == str(size),
                  'heap grew %d: the new size is the [heap] size in /proc (%d)'
                  % (i, size), grew)
            check(grew.endswith('(+65536) [heap]'), 'heap grew %d: by 64 KiB' % i, grew)
        # The kernel's [heap] ends at the page-rounded brk.
        top = (facts['brk'] + PAGE - 1) // PAGE * PAGE
        lines.until(is_event('brk', 'heap', text='-> 0x%x (+65536)' % top),
                    'brk event %d: new brk 0x%x' % (i, top))


def map_steps(target, lines):
    size = 16 * PAGE
    facts = step(target, 'map %d' % size)
    a = facts['map']
    m = [x for x in maps_of(target.pid) if x[0] <= a < x[1]][0]
    line = lines.until(is_event('appeared', None, m[0], m[1]), 'map appeared')
    if line:
        check(' %d' % (m[1] - m[0]) in line and event(line)[1] == 'anon',
              'appeared: an anon mapping of the size in /proc', line, m)
    step(target, 'protect')
    lines.until(is_event('perms', None, a, a + PAGE, 'rw-p -> r--p'),
                'perms event on the first page (rw-p -> r--p)')
    step(target, 'unmap')
    lines.until(is_event('vanished', None, a, a + PAGE), 'first page vanished')
    check(not any(x[0] <= a < x[1] for x in maps_of(target.pid)),
          'the mapping is gone from /proc too')


def thread_step(target, lines):
    facts = step(target, 'thread')
    tid = facts['thread_tid']
    line = lines.until(is_event('thread-new', text='tid %d' % tid),
                       'thread-new event for tid %d' % tid)
    if line:
        e = event(line)
        check(e[1] == 'thread-stack' and e[2] is not None,
              'thread-new names its stack (blocked in read: sp known)', line)
        m = [x for x in maps_of(target.pid) if x[0] == e[2]]
        check(m and m[0][1] == e[3] and m[0][2] == 'rw-p',
              'the thread stack of the event is an rw-p mapping in /proc', line, m)
    lines.until(lambda l: ' sample ' in l and 'threads 2 ' in l,
                'a sample line with 2 threads')


OBJECT_RE = re.compile(r' (\d+) -> (\d+) \(([-+]?\d+)\) text (\d+) rodata (\d+) '
                       r'relro (\d+) data (\d+) bss (\d+) (.*)$')


def object_in_maps(pid, path):
    """(total, text, bss) of the library at path in /proc/PID/maps: its
    own mappings and the anonymous rw-p one right after them (its bss)."""
    maps = maps_of(pid)
    own = [m for m in maps if m[3] == path]
    if not own:
        return 0, 0, 0
    after = [m for m in maps if m[0] == own[-1][1] and m[3] == '' and m[2] == 'rw-p']
    bss = after[0][1] - after[0][0] if after else 0
    return (sum(m[1] - m[0] for m in own) + bss,
            sum(m[1] - m[0] for m in own if m[2] == 'r-xp'), bss)


def object_steps(target, lines, lib):
    """dlopen: a log line for the library, 0 -> its size, with its text and
    bss as in /proc; dlclose: its size -> 0.  Returns (total, bss)."""
    step(target, 'dlopen ' + lib)
    total, text, bss = object_in_maps(target.pid, lib)
    check(bss >= 1 << 20, 'the library has its 1 MiB bss mapping in /proc', bss)
    line = lines.until(lambda l: (event(l) or ('',))[0] == 'object' and
                       l.endswith(' ' + lib), 'object line for the dlopen')
    m = OBJECT_RE.search(line or '')
    if check(m is not None, 'object line has sizes and kinds', line):
        v = [int(x) for x in m.groups()[:8]]
        check(v[0] == 0 and v[1] == total and v[2] == total,
              'object line: 0 -> the size in /proc (%d)' % total, line)
        check_eq(v[3], text, 'object line: text is the r-xp size in /proc')
        check_eq(v[7], bss, 'object line: bss is the anonymous mapping after it')
        check(v[6] >= 64 << 10, 'object line: 64 KiB of data at least', line)
        check_eq(sum(v[3:8]), total, 'object line: the kinds add up')
    step(target, 'dlclose')
    check_eq(object_in_maps(target.pid, lib)[0], 0, 'dlclose unmapped the library')
    lines.until(lambda l: (event(l) or ('',))[0] == 'object' and l.endswith(' ' + lib)
                and ' %d -> 0 ' % total in l, 'object line for the dlclose')
    return total, bss


def rss_follows_faults(recs):
    """smaps_rollup is reread when the faults move: the 16 pages the target
    touched after mapping them are resident by the sample of the mprotect
    that followed (sent only once the target was done touching them)."""
    def first(pred):
        return next((i for i, r in enumerate(recs) if any(pred(e) for e in r['events'])),
                    None)
    a = first(lambda e: e['event'] == 'appeared' and e['kind'] == 'anon' and
              e['after'] == 16 * PAGE)
    p = first(lambda e: e['event'] == 'perms')
    if check(a and p and a <= p, 'record: the map and mprotect events', a, p):
        check(recs[p]['rss'] - recs[a - 1]['rss'] >= 16 * PAGE,
              'record: rss grew by the 16 pages touched', recs[a - 1]['rss'],
              recs[p]['rss'])


def record_checks(path, pid):
    with open(path) as f:
        text = f.read()
    recs = []
    for i, line in enumerate(text.splitlines()):
        try:
            recs.append(json.loads(line))
        except ValueError as e:
            check(False, 'record line %d is JSON' % i, str(e), line[:300])
    if not check(len(recs) >= 5, 'the record has the samples', len(recs)):
        return
    check(all(r['pid'] == pid for r in recs), 'record: every sample has the pid')
    check([r['sample'] for r in recs] == list(range(len(recs))),
          'record: samples numbered 0, 1, ... with none missing')
    check(all(r['t'] <= s['t'] for r, s in zip(recs, recs[1:])),
          'record: time goes forward')
    seen = {e['event'] for r in recs for e in r['events']}
    for ev in ('brk', 'grew', 'appeared', 'perms', 'vanished', 'thread-new'):
        check(ev in seen, 'record: a %s event' % ev, sorted(seen))
    rss_follows_faults(recs)
    last = recs[-1]
    check(sum(k['vsize'] for k in last['kinds'].values()) == last['vsize'],
          'record: kinds add up to vsize', last)
    check(last['rss'] > 0 and last['minflt'] > 0, 'record: rss and faults', last)
    return recs


def summary_object(rest, lib, total, bss):
    """The summary's row of lib: OBJECT TEXT RODATA RELRO DATA BSS START
    END PEAK AT."""
    rows = [l.split() for l in rest if l.startswith(lib + ' ')]
    if not check(len(rows) == 1, 'the summary has a row for the library', rest[-12:]):
        return
    r = rows[0]
    check(int(r[5]) == bss and int(r[8]) == total and int(r[7]) == 0,
          'summary: library bss %d, peak %d, 0 at the end' % (bss, total), r)


def watch_pid(ml, target_exe, lib):
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, 'rec.jsonl')
        with Target([target_exe]) as t:
            heap0 = heap_of(t.pid)
            w = subprocess.Popen([ml, 'watch', '--log', '-b', '-i', '0.02',
                                  '--record', rec, str(t.pid)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            lines = Lines(w)
            lines.until(lambda l: ' sample ' in l, 'a first sample line')
            heap_steps(t, lines)
            map_steps(t, lines)
            thread_step(t, lines)
            lib_total, lib_bss = object_steps(t, lines, lib)
            final_heap = heap_of(t.pid)
            t.proc.stdin.write(b'quit\n')
            t.proc.stdin.flush()
            rest = lines.rest()
            w.wait(timeout=WAIT)
            check_eq(w.returncode, 0, 'watch PID: exit status when the target exits')
            check_eq(w.stderr.read(), b'', 'watch PID: nothing on stderr')
        text = '\n'.join(rest)
        check('Summary of PID %d' % t.pid in text, 'summary after the target exits',
              rest[-20:])
        heap_row = [l for l in rest if l.startswith('heap ')]
        if check(len(heap_row) == 1, 'the summary has a heap row', rest[-20:]):
            peak = int(heap_row[0].split()[3])
            want = final_heap[0][1] - final_heap[0][0]
            check_eq(peak, want, 'summary: heap peak is the [heap] size in /proc')
            start = int(heap_row[0].split()[1])
            if heap0:
                check_eq(start, heap0[0][1] - heap0[0][0],
                         'summary: heap at the start as in /proc')
        summary_object(rest, lib, lib_total, lib_bss)
        recs = record_checks(rec, t.pid)
        if recs:
            objs = [o for r in recs for o in r['objects'] if o['name'] == lib]
            check(objs and max(o['vsize'] for o in objs) == lib_total and
                  max(o['bss'] for o in objs) == lib_bss,
                  'record: the library with its size and bss', objs[:1])
            check(all(sum(o[k] for k in ('text', 'rodata', 'relro', 'data', 'bss'))
                      == o['vsize'] for r in recs for o in r['objects']),
                  'record: each object\'s kinds add up to its vsize')
            check_eq(recs[-1]['kinds']['heap']['vsize'],
                     final_heap[0][1] - final_heap[0][0],
                     'record: the last heap size is the [heap] size in /proc')


def watch_command(ml, target_exe):
    what = 'watch -J -i 0.02 -- sh -c "sleep 0.3"'
    res = run(ml, 'watch', '-J', '-i', '0.02', '--', 'sh', '-c', 'sleep 0.3')
    check_eq(res.returncode, 0, what + ': exit status')
    lines = res.stdout.decode().splitlines()
    try:
        docs = [json.loads(l) for l in lines]
    except ValueError as e:
        check(False, what + ': every line is JSON', str(e), lines[:5])
        return
    check(len(docs) >= 5 and 'summary' in docs[-1] and
          all('summary' not in d for d in docs[:-1]),
          what + ': samples then one summary line', len(docs))
    s = docs[-1].get('summary', {})
    check(s.get('samples') == len(docs) - 1 and s.get('duration', 0) >= 0.2,
          what + ': summary counts the samples and the time', s)
    check(s.get('kinds', {}).get('stack', {}).get('peak_vsize', 0) > 0,
          what + ': summary has the peak stack size', s)


def watch_exec(ml):
    """The files watch holds open follow the target through an exec: it
    goes on watching the new program until that exits."""
    sleep = os.path.realpath(shutil.which('sleep'))
    what = 'watch -J -- sh -c "sleep 0.3; exec sleep 0.3"'
    res = run(ml, 'watch', '-J', '-i', '0.02', '--', 'sh', '-c',
              'sleep 0.3; exec %s 0.3' % sleep)
    check_eq(res.returncode, 0, what + ': exit status')
    try:
        s = json.loads(res.stdout.decode().splitlines()[-1])['summary']
    except (ValueError, IndexError, KeyError) as e:
        check(False, what + ': a summary line', str(e), res.stdout[-300:])
        return
    check(s['duration'] >= 0.5, what + ': watched past the exec', s['duration'])
    check(sleep in [o['name'] for o in s['objects']],
          what + ': the program exec\'d is among the objects', s['objects'])


def watch_on_pty(ml, pid, rows, env):
    """watch -c 3 on a pseudo-terminal of rows x 160: its output."""
    _, out, _ = on_pty([ml, 'watch', '-c', '3', '-i', '0.05', str(pid)], 160, rows=rows,
                       env=env, timeout=WAIT)
    return out.decode('utf-8', 'replace').replace('\r\n', '\n')


def screen(ml, target_exe):
    """On a terminal: every redraw fits its height (the last line free),
    kinds are coloured unless NO_COLOR is set, objects shown when there is
    room."""
    env = {k: v for k, v in os.environ.items() if k != 'NO_COLOR'}
    with Target([target_exe]) as t:
        for rows, nocolor in ((15, False), (60, True)):
            what = 'watch on a %d-row terminal%s' % (rows, ', NO_COLOR' if nocolor else '')
            e = dict(env, NO_COLOR='1') if nocolor else env
            out = watch_on_pty(ml, t.pid, rows, e)
            frames = [f.split('\nSummary of PID')[0]
                      for f in out.split('\x1b[H\x1b[J')[1:]]
            if not check(len(frames) == 3, what + ': three redraws', out[-500:]):
                continue
            check(all(f.count('\n') <= rows - 1 for f in frames),
                  what + ': each redraw fits', [f.count('\n') for f in frames])
            colours = any('\x1b[31m' in f for f in frames)
            check(colours != nocolor, what + ': kinds coloured unless NO_COLOR',
                  frames[-1][:400])
            if rows == 60:
                check('OBJECT' in frames[-1] and target_exe in frames[-1],
                      what + ': the objects table with the target', frames[-1])


def ctrl_c(ml, target_exe):
    with Target([target_exe]) as t:
        w = subprocess.Popen([ml, 'watch', '--log', '-i', '0.02', str(t.pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = Lines(w)
        lines.until(lambda l: ' sample ' in l, 'a sample before Ctrl-C')
        w.send_signal(signal.SIGINT)
        rest = lines.rest()
        w.wait(timeout=WAIT)
        check_eq(w.returncode, 0, 'watch: Ctrl-C ends it with status 0')
        check(any('Summary of PID %d' % t.pid in l for l in rest),
              'watch: Ctrl-C prints the summary', rest)
        check(t.proc.poll() is None, 'watch: the target survives Ctrl-C of watch')


def errors(ml):
    for args, code, text in (
            (['watch'], 2, 'no process given'),
            (['watch', '-i', '0', '1'], 2, '--interval takes'),
            (['watch', '-i', 'x', '1'], 2, '--interval takes'),
            (['watch', '-c', '2', '--until-exit', '1'], 2, 'cannot be used together'),
            (['watch', '-c', '1', '1', '--'], 2, 'no command after --'),
            (['watch', '--'], 2, 'no command after --'),
            (['watch', 'no-such-file'], 2, 'memlayout: no-such-file: not a process ID\n'),
            (['watch', '999999999'], 1, 'memlayout: 999999999: no such process'),
            (['watch', '--', '/nonexistent/ml-no-such'], 1, 'cannot run it')):
        res = run(ml, *args)
        err = res.stderr.decode()
        check(res.returncode == code and text in err and res.stdout == b'',
              'memlayout %s: exit %d, "%s"' % (' '.join(args), code, text),
              res.returncode, err)
    res = run(ml, 'watch', '-c', '3', '-i', '0.01', '--log', str(os.getpid()))
    out = res.stdout.decode().splitlines()
    check(res.returncode == 0 and sum(' sample ' in l for l in out) == 3,
          'watch -c 3: three samples, then the summary', out)


def main():
    ml, target_exe = sys.argv[1], os.path.realpath(sys.argv[2])
    lib = os.path.realpath(sys.argv[3])
    watch_pid(ml, target_exe, lib)
    watch_command(ml, target_exe)
    watch_exec(ml)
    screen(ml, target_exe)
    ctrl_c(ml, target_exe)
    errors(ml)
    done()


main()
