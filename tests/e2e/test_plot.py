# SPDX-License-Identifier: MIT
"""test_plot.py - memlayout watch --record FILE, then memlayout plot FILE,
looked at in headless chromium (network off: browser.py).

A real process (python3: maps 1 MiB blocks, moves its brk, starts threads,
unmaps) is watched to its exit with --record.  The page of plot:
  - has a stacked layer per kind present in the record, each through every
    sample (data-points), whose upper edge is at the running sum of the
    kinds below it and its own virtual size for every sample (y from the
    chart's data-ymax), and the anon layer grows;
  - ticks every event of the record, in order, with its type;
  - draws resident size, faults and threads through every sample, the
    threads' axis topped at the record's most threads;
  - makes a screenshot that is not blank.
A record with a hostile event name (</svg><script>, <img onerror>) shows
it as text: no injected element.  A truncated record is an error naming
its line, with nothing on stdout, and so are a member of the wrong type,
a time going back, a million-deep nesting, a 65 MiB line (the bound) and
a NUL byte; an empty record says so.

Skips (77) without chromium.  The screenshot goes to
$MEMLAYOUT_SCREENSHOTS when set.

usage: test_plot.py MEMLAYOUT
"""
import json
import os
import re
import sys
import tempfile

import browser
from e2e import check, check_eq, done, run

GROW = r'''
import mmap, threading, time, ctypes
libc = ctypes.CDLL(None)
libc.sbrk.restype = ctypes.c_void_p
maps = []
ev = threading.Event()
ts = []
for i in range(12):
    m = mmap.mmap(-1, 1 << 20)
    m[0:1 << 20:4096] = b'x' * 256
    maps.append(m)
    libc.sbrk(1 << 16)
    if i % 4 == 0:
        t = threading.Thread(target=ev.wait)
        t.start()
        ts.append(t)
    time.sleep(0.06)
for m in maps[:6]:
    m.close()
time.sleep(0.15)
ev.set()
for t in ts:
    t.join()
time.sleep(0.15)
'''
CH, MT, MB = 220, 24, 28
KINDS = ['text', 'rodata', 'relro', 'data', 'bss', 'heap', 'stack', 'thread-stack',
         'guard', 'reserved', 'anon', 'file', 'shm', 'vdso', 'vvar', 'vsyscall', 'other']


def y_of(v, ymax):
    return MT + (CH - MT - MB) * (1.0 - v / ymax)


def chart(dom, cid):
    """The elements of svg#cid, in order."""
    out, inside = [], False
    for el in dom.elements:
        if el[0] == 'svg':
            inside = el[1].get('id') == cid
            if inside:
                out.append(el)
            continue
        if inside:
            out.append(el)
    return out


def pts(attr):
    return [tuple(map(float, p.split(','))) for p in attr.split()]


def check_page(dom, samples, events):
    kinds_el = chart(dom, 'ml-kinds')
    if not check(kinds_el, 'plot: the kinds chart'):
        return
    ymax = float(kinds_el[0][1]['data-ymax'])
    layers = {e[1]['data-kind']: e[1] for e in kinds_el
              if e[0] == 'polygon' and 'layer' in e[1].get('class', '')}
    present = [k for k in KINDS if any(s['kinds'].get(k, {}).get('vsize', 0)
                                       for s in samples)]
    check_eq(list(layers), present, 'plot: a layer per kind present, in kind order')
    for k, attrs in layers.items():
        check_eq(int(attrs.get('data-points', -1)), len(samples),
                 'plot: the %s layer through every sample' % k)
        p = pts(attrs.get('points', ''))
        below = [sum(s['kinds'].get(j, {}).get('vsize', 0) for j in KINDS[:KINDS.index(k)])
                 for s in samples]
        top = [b + s['kinds'].get(k, {}).get('vsize', 0) for b, s in zip(below, samples)]
        bad = [(i, p[i][1], y_of(v, ymax)) for i, v in enumerate(top)
               if i >= len(p) or abs(p[i][1] - y_of(v, ymax)) > 0.11]
        check_eq(bad, [], 'plot: the %s layer\'s upper edge at the stacked sums' % k)
        lower = list(reversed(p[len(samples):]))
        bad = [(i, lower[i][1], y_of(v, ymax)) for i, v in enumerate(below)
               if i >= len(lower) or abs(lower[i][1] - y_of(v, ymax)) > 0.11]
        check_eq(bad, [], 'plot: the %s layer\'s lower edge on the kinds below' % k)
    anon = [s['kinds'].get('anon', {}).get('vsize', 0) for s in samples]
    check(max(anon) >= anon[0] + (6 << 20), 'plot: the record saw anon grow by 6 MiB',
          anon)
    ticks = [e[1] for e in kinds_el if e[0] == 'g' and e[1].get('class') == 'event']
    check_eq([t['data-event'] for t in ticks], [e['event'] for e in events],
             'plot: a tick per event, in order')
    for name in ('rss', 'vsize'):
        lines = [e[1] for e in chart(dom, 'ml-rss') if e[1].get('class') == name]
        check(lines and int(lines[0]['data-points']) == len(samples),
              'plot: the %s line through every sample' % name, lines[:1])
    th = chart(dom, 'ml-threads')
    most = max(s['threads'] for s in samples)
    check(th and abs(float(th[0][1]['data-ymax']) - most * 1.05) < 1,
          'plot: the threads axis topped at the most threads (%d)' % most, th[:1])
    check(most >= 3, 'plot: the record saw the threads', most)


def main():
    ml = sys.argv[1]
    chromium = browser.find()
    if not chromium:
        print('skip: plot: chromium is not installed (apt-get install chromium)')
        sys.exit(77)
    shots = os.environ.get('MEMLAYOUT_SCREENSHOTS')
    with tempfile.TemporaryDirectory(prefix='ml-plot-') as tmp:
        rec = os.path.join(tmp, 'run.jsonl')
        res = run(ml, 'watch', '-i', '0.03', '--record', rec, '--', sys.executable, '-c', GROW)
        check_eq(res.returncode, 0, 'watch --record: exit status')
        with open(rec) as f:
            lines = f.read().splitlines()
        samples = [json.loads(l) for l in lines]
        samples = [s for s in samples if 'sample' in s]
        events = [e for s in samples for e in s['events']]
        check(len(samples) >= 10 and events, 'the record has samples and events',
              len(samples), len(events))
        page = os.path.join(tmp, 'growth.html')
        res = run(ml, 'plot', rec)
        check_eq(res.returncode, 0, 'plot: exit status')
        with open(page, 'wb') as f:
            f.write(res.stdout)
        check(not re.search(rb'(src|href)\s*=|<script', res.stdout),
              'plot: nothing loaded, no script')
        dom = browser.Dom(browser.dump_dom(chromium, 'file://' + page))
        check_page(dom, samples, events)
        img = browser.screenshot(chromium, 'file://' + page, 1000, 1200,
                                 os.path.join(shots or tmp, 'plot.png'))
        if check(img is not None, 'plot: screenshot taken'):
            px = [p for row in img[2][::4] for p in row[::4]]
            check(len(set(px)) > 20 and px.count((255, 255, 255)) < 0.9 * len(px),
                  'plot: screenshot not blank', len(set(px)))
        # hostile event names
        evil = '</svg><script>document.title="pwned"</script><img src=x onerror=alert(1)>'
        docs = [json.loads(l) for l in lines]
        first = next(d for d in docs if d.get('events'))
        first['events'][0]['name'] = evil
        hostile = os.path.join(tmp, 'hostile.jsonl')
        with open(hostile, 'w') as f:
            f.write('\n'.join(json.dumps(d) for d in docs) + '\n')
        res = run(ml, 'plot', hostile)
        check_eq(res.returncode, 0, 'plot hostile: exit status')
        hpage = os.path.join(tmp, 'hostile.html')
        with open(hpage, 'wb') as f:
            f.write(res.stdout)
        hdom = browser.Dom(browser.dump_dom(chromium, 'file://' + hpage))
        tags = {e[0] for e in hdom.elements}
        check(not {'script', 'img'} & tags, 'plot hostile: no injected element', sorted(tags))
        check_eq([e[2] for e in hdom.tags('title')][:1], ['memlayout plot: PID %d'
                                                          % samples[0]['pid']],
                 'plot hostile: the page title')
        check(any(evil in e[2] for e in hdom.tags('title')),
              'plot hostile: the name shown as text')
        # truncated, empty
        trunc = os.path.join(tmp, 'trunc.jsonl')
        with open(trunc, 'w') as f:
            f.write('\n'.join(lines[:3]) + '\n' + lines[3][:len(lines[3]) // 2])
        res = run(ml, 'plot', trunc)
        check(res.returncode == 1 and res.stdout == b'' and
              b'line 4: not a sample' in res.stderr,
              'plot: a truncated record is an error naming line 4', res.returncode,
              res.stderr)
        # malformed: a wrong type, time going back, deep nesting, a line
        # over the bound (64 MiB), a NUL byte: exit 1 naming the line, fast
        good = lines[0]
        bad = {
            'a size as a string': (good.replace('"vsize":', '"vsize":"1",', 1)
                                   .replace('",,', '",'), 'line 2: not a sample'),
            'time going back': (re.sub(r'"t":[0-9.]+', '"t":0', lines[2], count=1)
                                if len(lines) > 2 else good, 'line 3: not a sample'),
            'nesting a million deep': ('[' * 1000000 + ']' * 1000000, 'line 2: not a sample'),
            'a 65 MiB line': ('"' + 'x' * (65 << 20) + '"', 'line 2: over a bound'),
            'a NUL byte': (good[:20] + '\0' + good[20:], 'line 2: not a sample'),
        }
        for what, (line2, words) in bad.items():
            path = os.path.join(tmp, 'bad.jsonl')
            with open(path, 'w') as f:
                f.write(good + '\n' + (lines[1] + '\n' if what == 'time going back' else '')
                        + line2 + '\n')
            res = run(ml, 'plot', path)
            check(res.returncode == 1 and res.stdout == b'' and words.encode() in res.stderr,
                  'plot: %s is an error naming its line' % what, res.returncode,
                  res.stderr[:300])
        empty = os.path.join(tmp, 'empty.jsonl')
        open(empty, 'w').close()
        res = run(ml, 'plot', empty)
        check(res.returncode == 1 and b'no watch sample' in res.stderr,
              'plot: an empty record says so', res.returncode, res.stderr)
    done()


if __name__ == '__main__':
    main()
