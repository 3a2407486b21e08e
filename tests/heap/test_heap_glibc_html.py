# SPDX-License-Identifier: MIT
"""test_heap_glibc_html.py - memlayout heap --html on glibc-target (pattern,
2 threads: three arenas, mixed sizes, every third freed, mmap'd blocks;
it stops allocating once ready, so its figures hold still), looked at in
headless chromium (network off: tests/e2e/browser.py), against heap -J -b
of the same moment:
  - the title names glibc malloc, and the totals (system, in use, free,
    top, mmap'd, tcache, fastbins, largest free) are heap -J's "totals";
  - a map row per brk or heap_info heap of the JSON, in its order, each
    with one cell per character of its MAP (blank as '_'), the cell's
    colour its character's;
  - a histogram bar per size bucket of the JSON with its chunk counts, the
    used and free bars' widths their bytes to one scale (600 px for the
    biggest bucket);
  - the fragmentation of the JSON;
  - a screenshot that shows the used and free cells and bars; nothing
    loaded, no script.
Skips (77) without chromium.  The screenshot goes to $MEMLAYOUT_SCREENSHOTS
when set.

Usage: test_heap_glibc_html.py MEMLAYOUT GLIBC_TARGET
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
import browser  # noqa: E402
from e2e import check, check_eq, done, run  # noqa: E402

FILL = {'#': '#cf222e', ':': '#f5c26b', '.': '#d8f0d8', '_': '#eeeeee'}
TOTALS = {'system': 'arena_bytes', 'in_use': 'in_use_bytes', 'free': 'free_bytes',
          'top': 'top_bytes', 'mmapped': 'mmap_bytes', 'tcache': 'tcache_bytes',
          'fastbin': 'fastbin_bytes', 'largest_free': 'largest_free'}


def svg_children(dom, sid):
    out, inside = [], False
    for el in dom.elements:
        if el[0] == 'svg':
            inside = el[1].get('id') == sid
        if inside:
            out.append(el)
    return out


def groups(dom, sid, cls, child):
    """The <g class=cls> of svg sid, each with its child rects by class."""
    rows, cur = [], None
    for tag, attrs, _ in svg_children(dom, sid):
        if tag == 'g' and attrs.get('class') == cls:
            cur = dict(attrs, cells=[])
            rows.append(cur)
        elif tag == 'rect' and cur is not None:
            child(cur, attrs)
    return rows


def add_cell(cur, attrs):
    if attrs.get('class') == 'cell':
        cur['cells'].append((attrs['data-c'], attrs['fill']))


def add_bar(cur, attrs):
    cur[attrs.get('class')] = float(attrs['width'])


def main():
    ml, target = sys.argv[1:3]
    chromium = browser.find()
    if not chromium:
        print('skip: heap-glibc-html: chromium is not installed (apt-get install chromium)')
        sys.exit(77)
    shots = os.environ.get('MEMLAYOUT_SCREENSHOTS')
    p = subprocess.Popen([target, 'pattern', '2'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for raw in p.stdout:
            if raw == b'ready\n':
                break
        with tempfile.TemporaryDirectory(prefix='ml-heap-glibc-html-') as tmp:
            body(ml, p.pid, chromium, tmp, shots)
    finally:
        p.stdin.close()
        p.wait(timeout=10)
    done()


def body(ml, pid, chromium, tmp, shots):
    res = run(ml, 'heap', '-J', '-b', pid)
    check_eq(res.returncode, 0, 'heap -J: exit status')
    doc = json.loads(res.stdout)
    check_eq(doc.get('allocator'), 'glibc', 'heap -J: glibc malloc')
    res = run(ml, 'heap', '--html', pid)
    check_eq(res.returncode, 0, 'heap --html: exit status')
    check(res.stdout.startswith(b'<!DOCTYPE html>'), 'heap --html: a page, not the text report',
          res.stdout[:80])
    check(not re.search(rb'(src|href)\s*=|<script', res.stdout), 'heap --html: nothing loaded, no script')
    page = os.path.join(tmp, 'heap-glibc.html')
    with open(page, 'wb') as f:
        f.write(res.stdout)
    dom = browser.Dom(browser.dump_dom(chromium, 'file://' + page))
    
    check('glibc' in res.stdout.decode('utf-8', 'replace').split('</h1>')[0],
          'heap --html: the title names glibc malloc')

    tot = {e[1].get('data-name'): int(e[1]['data-bytes']) for e in dom.elements
           if e[0] == 'tr' and 'data-bytes' in e[1]}
    want = {k: doc['totals'][v] for k, v in TOTALS.items()}
    want['bins'] = sum(a[k + '-bytes'] for a in doc['arenas'] for k in ('unsorted', 'small', 'large'))
    check_eq(tot, want,
             'heap --html: the totals of heap -J')

    heaps = [h for h in doc['heaps'] if h['type'] != 'mmap']
    rows = groups(dom, 'ml-map', 'hregion', add_cell)
    check(len(heaps) >= 3, 'heap -J: the brk heap and two thread heaps', len(heaps))
    check_eq([(r['data-start'], r['data-type'], int(r['data-arena'])) for r in rows],
             [(h['start'], h['type'], h['arena']) for h in heaps],
             'heap --html: a map row per heap, in order')
    for r, h in zip(rows, heaps):
        check_eq(''.join(c for c, _ in r['cells']), h['map'].replace(' ', '_'),
                 'heap --html: the cells of %s are its MAP' % h['start'])
        check(all(FILL.get(c) == f for c, f in r['cells']),
              'heap --html: each cell of %s in its character\'s colour' % h['start'])
    check(any('#' in h['map'] and ('.' in h['map'] or ':' in h['map']) for h in heaps),
          'heap -J: a heap with used and free cells')

    bars = groups(dom, 'ml-hist', 'hbucket', add_bar)
    check_eq([(int(b['data-from']), int(b['data-used-chunks']), int(b['data-free-chunks']))
              for b in bars],
             [(h['from'], h['used-chunks'], h['free-chunks']) for h in doc['histogram']],
             'heap --html: a bar per size bucket with its chunks in use and free')
    top = max([h['used-bytes'] + h['free-bytes'] for h in doc['histogram']] + [1])
    for b, h in zip(bars, doc['histogram']):
        check(abs(b.get('used', -1) - h['used-bytes'] / top * 600) < 0.06 and
              abs(b.get('free', -1) - h['free-bytes'] / top * 600) < 0.06,
              'heap --html: bucket %d\'s bars to scale' % h['from'], b, h)
    frag = [e[1] for e in dom.elements if e[0] == 'svg' and e[1].get('id') == 'ml-frag']
    check(frag and abs(float(frag[0]['data-fragmentation']) - doc['totals']['fragmentation']) < 0.001,
          'heap --html: the fragmentation of heap -J', frag, doc['totals']['fragmentation'])

    img = browser.screenshot(chromium, 'file://' + page, 1400, 900,
                             os.path.join(shots or tmp, 'heap-glibc-html.png'))
    if check(img is not None, 'heap --html: screenshot taken'):
        px = set(q for row in img[2] for q in row)
        check({(0xcf, 0x22, 0x2e), (0x2d, 0xa4, 0x4e)} <= px,
              'heap --html: screenshot not blank: used cells and bars, free bars', len(px))


if __name__ == '__main__':
    main()
