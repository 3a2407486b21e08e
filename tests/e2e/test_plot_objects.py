# SPDX-License-Identifier: MIT
"""test_plot_objects.py - plot's code and data per object, from the
"objects" of a record of watch --record, looked at in headless chromium.

A real python3 is watched to its exit: it runs a while, then loads libz
with ctypes (an object that appears part-way), then runs on.  The page of
plot FILE:
  - has a table row per object of the record, with the peak of each of
    its text, rodata, relro, data and bss and its first and last time as
    the record has them; libz first seen after the start;
  - draws a line for each of the 16 biggest objects (by their peak
    code + data), through every sample, at its text + rodata + relro +
    data + bss in each (0 where it was not mapped), on the chart's scale;
  - a screenshot that is not blank.
A record with a hostile object name shows it as text (no injected element);
a record without "objects" (older watch) still plots, without the chart.
Skips (77) without chromium.  The screenshot goes to $MEMLAYOUT_SCREENSHOTS
when set.

usage: test_plot_objects.py MEMLAYOUT
"""
import json
import os
import sys
import tempfile

import browser
from e2e import check, check_eq, done, run
from test_plot import chart, pts, y_of

PROG = r'''
import ctypes, time
time.sleep(0.3)
ctypes.CDLL('libz.so.1')
time.sleep(0.3)
'''
OBJ_KINDS = ['text', 'rodata', 'relro', 'data', 'bss']


def table_rows(dom):
    rows, cur, inside = [], None, False
    for tag, attrs, text in dom.elements:
        if tag == 'table':
            inside = attrs.get('id') == 'ml-objects-table'
        elif inside and tag == 'tr':
            cur = None
            if attrs.get('class') == 'object':
                cur = dict(attrs, cells=[])
                rows.append(cur)
        elif inside and tag == 'td' and cur is not None:
            cur['cells'].append((attrs, text))
    return rows


def plot_page(ml, chromium, rec, page):
    res = run(ml, 'plot', rec)
    check_eq(res.returncode, 0, 'plot %s: exit status' % os.path.basename(rec))
    with open(page, 'wb') as f:
        f.write(res.stdout)
    return browser.Dom(browser.dump_dom(chromium, 'file://' + page))


def check_objects(dom, samples):
    names = []
    for s in samples:
        for o in s['objects']:
            if o['name'] not in names:
                names.append(o['name'])
    peak = {n: {k: max(o[k] for s in samples for o in s['objects'] if o['name'] == n)
                for k in OBJ_KINDS} for n in names}
    seen = {n: [i for i, s in enumerate(samples) if any(o['name'] == n for o in s['objects'])]
            for n in names}
    rows = table_rows(dom)
    check_eq([r['cells'][0][1] for r in rows], names, 'plot: a table row per object, in record order')
    for r, n in zip(rows, names):
        got = {a.get('data-kind'): int(a['data-bytes']) for a, _ in r['cells'] if 'data-kind' in a}
        check_eq(got, peak[n], 'plot: the peaks of %s' % n)
        times = [t for _, t in r['cells'][-2:]]
        want = ['%.3fs' % samples[seen[n][0]]['t'], '%.3fs' % samples[seen[n][-1]]['t']]
        check_eq(times, want, 'plot: first and last seen of %s' % n)
    libz = [n for n in names if 'libz.so' in n]
    check(libz and seen[libz[0]][0] > 0, 'plot: libz appears part-way', libz)

    def total(s, n):
        return sum(sum(o[k] for k in OBJ_KINDS) for o in s['objects'] if o['name'] == n)
    psum = {n: max(total(s, n) for s in samples) for n in names}
    ranked = sorted(names, key=lambda n: (-psum[n], names.index(n)))[:16]
    el = chart(dom, 'ml-objects')
    if not check(el, 'plot: the objects chart'):
        return
    ymax = float(el[0][1]['data-ymax'])
    check(abs(ymax - psum[ranked[0]] * 1.05) < 1, 'plot: the objects chart topped at the biggest',
          ymax, psum[ranked[0]])
    lines = [e[1] for e in el if e[0] == 'polyline' and e[1].get('class') == 'object']
    titles = [e[2] for e in el if e[0] == 'title']
    check_eq(sorted(titles), sorted(ranked), 'plot: a line for each of the 16 biggest objects')
    for a, n in zip(lines, titles):
        check_eq(int(a['data-points']), len(samples), 'plot: %s\'s line through every sample' % n)
        p = pts(a['points'])
        bad = [(i, p[i][1], y_of(total(s, n), ymax)) for i, s in enumerate(samples)
               if i >= len(p) or abs(p[i][1] - y_of(total(s, n), ymax)) > 0.11]
        check_eq(bad, [], 'plot: %s\'s line at its code + data' % n)


def main():
    ml = sys.argv[1]
    chromium = browser.find()
    if not chromium:
        print('skip: plot-objects: chromium is not installed (apt-get install chromium)')
        sys.exit(77)
    shots = os.environ.get('MEMLAYOUT_SCREENSHOTS')
    with tempfile.TemporaryDirectory(prefix='ml-plot-objects-') as tmp:
        rec = os.path.join(tmp, 'run.jsonl')
        res = run(ml, 'watch', '-i', '0.03', '--record', rec, '--', sys.executable, '-c', PROG)
        check_eq(res.returncode, 0, 'watch --record: exit status')
        with open(rec) as f:
            docs = [json.loads(l) for l in f.read().splitlines()]
        samples = [d for d in docs if 'sample' in d]
        check(len(samples) >= 10, 'the record has samples', len(samples))
        page = os.path.join(tmp, 'objects.html')
        dom = plot_page(ml, chromium, rec, page)
        check_objects(dom, samples)
        img = browser.screenshot(chromium, 'file://' + page, 1000, 1800,
                                 os.path.join(shots or tmp, 'plot-objects.png'))
        if check(img is not None, 'plot: screenshot taken'):
            px = [q for row in img[2][::4] for q in row[::4]]
            check(len(set(px)) > 20, 'plot: screenshot not blank', len(set(px)))
        # a hostile object name
        evil = '</svg></table><script>document.title="pwned"</script><img src=x onerror=alert(1)>'
        for d in samples:
            d['objects'][0]['name'] = evil
        hostile = os.path.join(tmp, 'hostile.jsonl')
        with open(hostile, 'w') as f:
            f.write('\n'.join(json.dumps(d) for d in docs) + '\n')
        hdom = plot_page(ml, chromium, hostile, os.path.join(tmp, 'hostile.html'))
        tags = {e[0] for e in hdom.elements}
        check(not tags & {'script', 'img'}, 'plot: a hostile object name injects nothing', tags)
        check(any(evil == r['cells'][0][1] for r in table_rows(hdom)),
              'plot: the hostile object name shown as text')
        # an older record: no "objects"
        for d in samples:
            del d['objects']
        old = os.path.join(tmp, 'old.jsonl')
        with open(old, 'w') as f:
            f.write('\n'.join(json.dumps(d) for d in docs) + '\n')
        odom = plot_page(ml, chromium, old, os.path.join(tmp, 'old.html'))
        check(chart(odom, 'ml-kinds') and not chart(odom, 'ml-objects'),
              'plot: a record without objects plots, without the objects chart')
    done()


if __name__ == '__main__':
    main()
