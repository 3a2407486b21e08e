# SPDX-License-Identifier: MIT
"""test_heap_html.py - memlayout heap --html on heap-target under mlalloc
(after its allocations: 48-byte blocks, half freed, and a 3 MiB block),
looked at in headless chromium (network off: tests/e2e/browser.py), against
heap -J -b of the same moment:
  - a map row per segment and large block of the JSON, in its order, each
    with one cell per character of its MAP, the cell's letter and colour
    the table's;
  - a class bar per size class with its live and free counts, the live and
    free bars' widths live * size and free * size to one scale (600 px for
    the biggest class);
  - the fragmentation of the JSON;
  - a screenshot that shows the used and free cells and the class bars;
    nothing loaded, no script.
Skips (77) without chromium.  The screenshot goes to $MEMLAYOUT_SCREENSHOTS
when set.

Usage: test_heap_html.py MEMLAYOUT HEAP_TARGET LIBMLALLOC
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
import browser  # noqa: E402
from e2e import check, check_eq, done, parse_facts, run  # noqa: E402

FILL = {'M': '#8250df', '#': '#cf222e', ':': '#f5c26b', '.': '#d8f0d8', '+': '#888888'}


class HeapTarget:
    """heap-target under LD_PRELOAD=LIB (as test_heap.py runs it);
    command() sends one letter and reads its facts up to ready."""

    def __init__(self, argv, lib):
        env = dict(os.environ, LD_PRELOAD=lib)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        self.pid = self.proc.pid
        self.facts = self._until_ready()

    def _until_ready(self):
        lines = []
        for raw in self.proc.stdout:
            lines.append(raw.decode('utf-8', 'replace').rstrip('\n'))
            if lines[-1] == 'ready=0x1':
                return parse_facts(lines)
        raise RuntimeError('heap-target ended before ready: %r' % lines)

    def command(self, letter):
        self.proc.stdin.write(letter.encode())
        self.proc.stdin.flush()
        self.facts.update(self._until_ready())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def svg_children(dom, sid):
    out, inside = [], False
    for el in dom.elements:
        if el[0] == 'svg':
            inside = el[1].get('id') == sid
        if inside:
            out.append(el)
    return out


def main():
    ml, target, lib = sys.argv[1:4]
    chromium = browser.find()
    if not chromium:
        print('skip: heap-html: chromium is not installed (apt-get install chromium)')
        sys.exit(77)
    shots = os.environ.get('MEMLAYOUT_SCREENSHOTS')
    with tempfile.TemporaryDirectory(prefix='ml-heap-html-') as tmp, \
            HeapTarget([target], lib) as t:
        t.command('a')
        res = run(ml, 'heap', '-J', '-b', t.pid)
        doc = json.loads(res.stdout)
        page = os.path.join(tmp, 'heap.html')
        res = run(ml, 'heap', '--html', t.pid)
        check_eq(res.returncode, 0, 'heap --html: exit status')
        with open(page, 'wb') as f:
            f.write(res.stdout)
        check(not re.search(rb'(src|href)\s*=|<script', res.stdout),
              'heap --html: nothing loaded, no script')
        dom = browser.Dom(browser.dump_dom(chromium, 'file://' + page))
        rows, cur = [], None
        for tag, attrs, _ in svg_children(dom, 'ml-map'):
            if tag == 'g' and attrs.get('class') == 'hregion':
                cur = dict(attrs, cells=[])
                rows.append(cur)
            elif tag == 'rect' and cur is not None and attrs.get('class') == 'cell':
                cur['cells'].append((attrs['data-c'], attrs['fill']))
        check_eq([(r['data-start'], r['data-type']) for r in rows],
                 [(r['start'], r['type']) for r in doc['regions']],
                 'heap --html: a map row per region, in order')
        for r, j in zip(rows, doc['regions']):
            check_eq(''.join(c for c, _ in r['cells']), j['map'],
                     'heap --html: the cells of 0x%s are its MAP' % j['start'])
            check(all(FILL.get(c) == f for c, f in r['cells']),
                  'heap --html: each cell of 0x%s in its letter\'s colour' % j['start'])
        bars, cur = [], None
        for tag, attrs, _ in svg_children(dom, 'ml-classes'):
            if tag == 'g' and attrs.get('class') == 'hclass':
                cur = dict(attrs)
                bars.append(cur)
            elif tag == 'rect' and cur is not None:
                cur[attrs['class']] = float(attrs['width'])
        check_eq([(int(b['data-size']), int(b['data-live']), int(b['data-free']))
                  for b in bars],
                 [(c['size'], c['live'], c['free']) for c in doc['classes']],
                 'heap --html: a bar per class with its live and free blocks')
        top = max([c['live_bytes'] + c['free_bytes'] for c in doc['classes']] + [1])
        for b, c in zip(bars, doc['classes']):
            check(abs(b.get('live', -1) - c['live_bytes'] / top * 600) < 0.06 and
                  abs(b.get('free', -1) - c['free_bytes'] / top * 600) < 0.06,
                  'heap --html: class %d\'s bars to scale' % c['size'], b, c)
        check(any(c['live'] >= 500 for c in doc['classes']),
              'heap --html: the 48-byte class is drawn')
        frag = [e[1] for e in dom.elements if e[0] == 'svg' and e[1].get('id') == 'ml-frag']
        check(frag and abs(float(frag[0]['data-fragmentation']) -
                           doc['heap'][0]['fragmentation']) < 0.001,
              'heap --html: the fragmentation of heap -J', frag, doc['heap'][0]['fragmentation'])
        img = browser.screenshot(chromium, 'file://' + page, 1400, 900,
                                 os.path.join(shots or tmp, 'heap-html.png'))
        if check(img is not None, 'heap --html: screenshot taken'):
            px = set(p for row in img[2] for p in row)
            check({(0xcf, 0x22, 0x2e), (0x2d, 0xa4, 0x4e), (0xd8, 0xf0, 0xd8)} <= px,
                  'heap --html: screenshot not blank: the used and free cells, the '
                  'class bars', len(px))
    done()


if __name__ == '__main__':
    main()
