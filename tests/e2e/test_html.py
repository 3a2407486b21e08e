# SPDX-License-Identifier: MIT
"""test_html.py - memlayout show --html and --svg, looked at in a real
browser (headless chromium, network off: browser.py).

On target-threads (a main thread, three blocked threads with their stacks
and guards) with a --mark:
  - the DOM after the page's script ran holds one band per region of
    show -J (same start, end and kind), the bands go top-down by address
    and cover user space from its top to 0 with no hole or overlap (gaps,
    the stack's reach and the NULL zone are bands too), the kernel half
    and the non-canonical hole are above, the mark and the stack pointers
    are drawn, the data block parses and lists every region;
  - band heights follow the rule (14 + 3 * (log2(size) - 12), clamped to
    [14, 110]): a 4 KiB guard is at least 14 px, a gap of terabytes at most
    110, and a bigger band is never shorter;
  - #zoom=LO-HI draws the regions of that range one by one; #sel=ADDR
    (a click) lists a thread stack's range, kind, perms, RSS, PSS and TID;
  - a screenshot is not blank, and down its band column the runs of each
    kind's colour come in the order and with the heights of the DOM bands;
  - the SVG is well-formed XML with the same bands.
On the golden x86_64 tree with hostile names put in (</script>, quotes,
<img onerror>, a bidi override, an ampersand): no injected element, the
page's title untouched, the names shown as text.

Skips (77) without chromium.  Screenshots go to $MEMLAYOUT_SCREENSHOTS
(a directory) when it is set, for doc/.

usage: test_html.py MEMLAYOUT TARGET_THREADS GOLDEN_TREES
"""
import json
import math
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

import browser
from e2e import Target, check, check_eq, done, run, show_json

HMIN, HSTEP, HMAX = 14.0, 3.0, 110.0
HOSTILE = [
    ('/tmp/evil\\012name \x1b[31mred\x1b[0m  \xff\xfe.dat (deleted)',
     '/tmp/</script><script>document.title="pwned"</script><img src=x onerror=alert(1)>.so'),
    ('/var/lib/app/data file.bin',
     '/var/"onmouseover="alert(2)\' &amp; \u202egnp.exe <b>bold</b>'),
]


def height(size):
    h = HMIN + HSTEP * (math.log2(size) - 12) if size > 0 else HMIN
    return round(min(HMAX, max(HMIN, h)), 1)


def bands_of(dom):
    """The bands of the first SVG in dom: dicts of the g's data-* and its
    rect's y and height, in document order."""
    bands, cur = [], None
    for tag, attrs, text in dom.elements:
        if tag == 'svg' and bands:
            break
        if tag == 'g' and 'band' in attrs.get('class', '').split():
            cur = dict(attrs)
            bands.append(cur)
        elif tag == 'rect' and cur is not None and 'y' not in cur:
            cur['y'], cur['h'] = float(attrs['y']), float(attrs['height'])
            cur['fill'] = attrs.get('fill')
        elif tag == 'title' and cur is not None:
            cur['title'] = text
    return bands


def check_bands(bands, regions, what):
    """Every region a band; order, coverage and the height rule."""
    by_start = {int(b['data-start'], 16): b for b in bands
                if b['data-type'] == 'region'}
    for r in regions:
        b = by_start.get(r['start'])
        check(b is not None and int(b['data-end'], 16) == r['end'] and
              b['data-kind'] == r['kind'], '%s: a band for region 0x%x-0x%x %s'
              % (what, r['start'], r['end'], r['kind']), b)
    check_eq(len(by_start), len(regions), what + ': region bands')
    starts = [int(b['data-start'], 16) for b in bands]
    check(all(a > b for a, b in zip(starts, starts[1:])),
          what + ': bands top-down by address (starts decreasing)', starts)
    ys = [b['y'] for b in bands]
    check(all(a < b for a, b in zip(ys, ys[1:])), what + ': bands drawn top-down', ys)
    user = [b for b in bands if b['data-type'] not in ('kernel', 'hole') and
            int(b['data-start'], 16) < 1 << 47]
    for a, b in zip(user, user[1:]):
        check_eq(int(b['data-end'], 16), int(a['data-start'], 16),
                 what + ': band under 0x%s ends where it starts' % a['data-start'])
    check(user and int(user[-1]['data-start'], 16) == 0 and
          user[-1]['data-type'] == 'null-zone', what + ': the NULL zone at 0',
          user[-1:])
    types = [b['data-type'] for b in bands]
    check('kernel' in types and 'hole' in types and
          types.index('kernel') < types.index('hole') < types.index('null-zone'),
          what + ': kernel half, then the non-canonical hole, above user space', types)
    for b in bands:
        size = (int(b['data-end'], 16) - int(b['data-start'], 16)) % (1 << 64)
        check(abs(b['h'] - height(size)) < 0.05, '%s: %s band 0x%s of %d bytes is '
              '%.1f px tall, want %.1f' % (what, b['data-type'], b['data-start'],
                                           size, b['h'], height(size)))
    sized = sorted(((int(b['data-end'], 16) - int(b['data-start'], 16)) % (1 << 64),
                    b['h']) for b in bands)
    check(all(h1 <= h2 for (_, h1), (_, h2) in zip(sized, sized[1:])),
          what + ': a bigger band is never shorter')
    guards = [b for b in bands if b['data-kind'] == 'guard']
    check(guards and all(b['h'] >= HMIN for b in guards),
          what + ': 4 KiB guards visible (>= 14 px)', guards)
    gaps = [b for b in bands if b['data-type'] == 'gap' and
            int(b['data-end'], 16) - int(b['data-start'], 16) > 1 << 40]
    check(gaps and all(b['h'] <= HMAX for b in gaps),
          what + ': gaps of terabytes at most 110 px', gaps)


def colour_runs(rows, x):
    """(colour '#rrggbb', length) runs down column x of a screenshot."""
    runs = []
    for row in rows:
        c = '#%02x%02x%02x' % row[x]
        if runs and runs[-1][0] == c:
            runs[-1][1] += 1
        else:
            runs.append([c, 1])
    return runs


def check_screenshot(chromium, page, bands, colours, shot, what):
    if not check(bands, what + ': bands to take a screenshot of'):
        return
    svg_h = max(b['y'] + b['h'] for b in bands) + 20
    img = browser.screenshot(chromium, 'file://' + page, 1000, int(svg_h) + 400, shot)
    if not check(img is not None, what + ': screenshot taken'):
        return
    w, h, rows = img
    pixels = [p for row in rows[::4] for p in row[::4]]
    white = sum(1 for p in pixels if p == (255, 255, 255))
    check(len(set(pixels)) > 20 and white < 0.9 * len(pixels),
          what + ': screenshot not blank', len(set(pixels)), white, len(pixels))
    kind_colours = set(colours.values())
    want = [(b['fill'], b['h']) for b in bands if b['data-type'] == 'region']
    # The bands' left edge: the first column mostly in kinds' colours;
    # 3 px inside it neither text nor a pointer line crosses a band.
    counts = [sum(1 for row in rows if '#%02x%02x%02x' % row[x] in kind_colours)
              for x in range(min(w, 400))]
    edge = next(x for x, n in enumerate(counts) if n > max(counts) // 2)
    best = [(c, n) for c, n in colour_runs(rows, edge + 3)
            if c in kind_colours and n >= 4]
    check_eq([c for c, _ in best], [c for c, _ in want],
             what + ': kinds\' colours down the band column in the DOM\'s order')
    if len(best) == len(want):
        for (c, n), (_, hh) in zip(best, want):
            check(abs(n - hh) <= 2.5, what + ': a %s run of %d px for a %.1f px band'
                  % (c, n, hh))


def live(ml, target, chromium, tmp, shots):
    with Target([target]) as t:
        mark = t.facts['main_local']
        regions = [dict(r, start=int(r['start'], 16), end=int(r['end'], 16))
                   for r in show_json(ml, '-o', 'START,END,KIND', t.pid) or []]
        page = os.path.join(tmp, 'space.html')
        res = run(ml, 'show', '--html', '--mark', '%x=main_local' % mark, t.pid)
        check_eq(res.returncode, 0, 'show --html: exit status')
        with open(page, 'wb') as f:
            f.write(res.stdout)
        svg = run(ml, 'show', '--svg', t.pid)
        tids = [v for k, v in t.facts.items() if k.endswith('_tid')]
        zoom_lo = zoom_hi = None
        guards = [r for r in regions or [] if r['kind'] == 'guard']
        if guards:
            zoom_lo = guards[0]['start']
            zoom_hi = max(r['end'] for r in regions if r['start'] < guards[0]['end'] + (64 << 20)
                          and r['start'] >= guards[0]['start'])
            zoom_hi = min(zoom_hi, 1 << 47)
        dom_text = browser.dump_dom(chromium, 'file://' + page)
    if not regions:
        return
    check_eq(res.returncode, 0, 'show --html exits 0')
    check(not re.search(rb'(src|href)\s*=', res.stdout),
          'show --html: nothing loaded (no src= or href=)')
    dom = browser.Dom(dom_text)
    body = dom.tags('body')
    check(body and body[0][1].get('data-ready') == '1',
          'the page\'s script ran (body data-ready)', dom_text[:500])
    bands = bands_of(dom)
    check_bands(bands, regions, 'html')
    marks = [e for e in dom.elements if e[0] == 'g' and e[1].get('class') == 'mark']
    check(any(int(e[1]['data-addr'], 16) == mark for e in marks),
          '--mark drawn at its address', marks)
    sps = [e[1] for e in dom.elements if e[0] == 'g' and e[1].get('class') == 'sp']
    check(len(sps) >= len(tids), 'a pointer per blocked thread\'s stack pointer',
          len(sps), tids)
    data = [e for e in dom.tags('script') if e[1].get('type') == 'application/json']
    doc = json.loads(data[0][2]) if data else {}
    check_eq([(int(r['s'], 16), int(r['e'], 16), r['k']) for r in doc.get('regions', [])],
             [(r['start'], r['end'], r['kind']) for r in regions],
             'the data block lists every region')
    colours = doc.get('colors', {})
    check(colours.get('text') and colours['text'] != colours.get('heap'),
          'a colour per kind in the data block', colours)
    for b in bands:
        if b['data-type'] == 'region':
            check_eq(b['fill'], colours.get(b['data-kind']),
                     'band 0x%s filled with its kind\'s colour' % b['data-start'])
    if zoom_lo is not None:
        url = 'file://%s#zoom=0x%x-0x%x' % (page, zoom_lo, zoom_hi)
        zdom = browser.Dom(browser.dump_dom(chromium, url))
        zsvg = [e for e in zdom.elements if e[0] == 'svg' and e[1].get('id') == 'ml-zoom-svg']
        inside = [r for r in regions if r['end'] > zoom_lo and r['start'] < zoom_hi]
        check(zsvg and int(zsvg[0][1].get('data-regions', -1)) == len(inside),
              'zoom: #zoom=LO-HI draws the regions of the range', zsvg[:1], len(inside))
        zb = []
        after = False
        for tag, attrs, _ in zdom.elements:
            after |= tag == 'svg' and attrs.get('id') == 'ml-zoom-svg'
            if tag == 'svg' and attrs.get('id') == 'ml-svg':
                break
            if after and tag == 'g' and attrs.get('data-type') == 'region':
                zb.append(int(attrs['data-start'], 16))
        check_eq(zb, sorted((r['start'] for r in inside), reverse=True),
                 'zoom: each region of the range, top-down')
    stacks = [r for r in regions if r['kind'] == 'thread-stack']
    if check(stacks, 'target-threads has thread stacks'):
        r = stacks[0]
        sdom = browser.Dom(browser.dump_dom(chromium, 'file://%s#sel=0x%x' % (page, r['start'] + 8)))
        det, key = {}, None
        inside = False
        for tag, attrs, text in sdom.elements:
            inside |= tag == 'table' and attrs.get('id') == 'ml-details'
            if inside and tag == 'th':
                key = text
            elif inside and tag == 'td' and key:
                det[key] = text
        tid = next((x['tid'] for x in doc.get('regions', []) if int(x['s'], 16) == r['start']), None)
        check(det.get('range') == '0x%x - 0x%x' % (r['start'], r['end']) and
              det.get('kind') == 'thread-stack' and det.get('perms') == 'rw-p' and
              'RSS' in det and 'PSS' in det and tid and det.get('TID') == str(tid) and
              str(tid) in map(str, tids),
              'click (#sel=ADDR): the details of a thread stack: range, kind, perms, '
              'RSS, PSS, its thread', det, tid, tids)
    shot = os.path.join(shots or tmp, 'show-html.png')
    check_screenshot(chromium, page, bands, colours, shot, 'html')
    check_eq(svg.returncode, 0, 'show --svg: exit status')
    try:
        root = ET.fromstring(svg.stdout)
    except ET.ParseError as e:
        check(False, 'show --svg is well-formed XML', str(e))
        return
    ns = '{http://www.w3.org/2000/svg}'
    g = [e for e in root.iter(ns + 'g') if e.get('class') == 'band']
    check_eq(sorted(int(e.get('data-start'), 16) for e in g if e.get('data-type') == 'region'),
             sorted(r['start'] for r in regions), 'svg: a band per region')


def hostile(ml, trees, chromium, tmp, shots):
    tree = os.path.join(tmp, 'tree')
    shutil.copytree(os.path.join(trees, 'x86_64'), tree, symlinks=True)
    for name in ('maps', 'smaps'):
        path = os.path.join(tree, '4242', name)
        with open(path, 'rb') as f:
            text = f.read()
        for old, new in HOSTILE:
            old_b = old.encode('latin-1')
            check(old_b in text, 'the golden %s has %r' % (name, old))
            text = text.replace(old_b, new.encode())
        with open(path, 'wb') as f:
            f.write(text)
    for opt, suffix in (('--html', 'html'), ('--svg', 'svg')):
        res = run(ml, 'show', opt, '--proc-root', tree, '4242')
        check_eq(res.returncode, 0, 'hostile %s: exit status' % opt)
        page = os.path.join(tmp, 'hostile.' + suffix)
        with open(page, 'wb') as f:
            f.write(res.stdout)
        check(all(b < 0x80 for b in res.stdout), 'hostile %s: pure ASCII output' % opt)
        check(b'</script><script>' not in res.stdout and b'<img' not in res.stdout
              and b'"onmouseover' not in res.stdout and '\u202e'.encode() not in res.stdout,
              'hostile %s: no raw markup from the names' % opt)
        dom = browser.Dom(browser.dump_dom(chromium, 'file://' + page))
        tags = [e[0] for e in dom.elements]
        check_eq(tags.count('script'), 2 if suffix == 'html' else 0,
                 'hostile %s: script elements (data, page)' % opt)
        check(not {'img', 'b'} & set(tags), 'hostile %s: no injected element' % opt,
              sorted(set(tags)))
        handlers = [(e[0], k) for e in dom.elements for k in e[1] if k.startswith('on')]
        check_eq(handlers, [], 'hostile %s: no event handler attributes' % opt)
        if suffix == 'html':
            title = [e[2] for e in dom.tags('title')[:1]]
            check_eq(title[0] if title else None, 'memlayout: server (4242)', 'hostile --html: the page title')
        titles = ' '.join(b.get('title', '') for b in bands_of(dom))
        check('</script><script>document.title="pwned"' in titles,
              'hostile %s: the </script> name shown as text' % opt, titles[:300])
        check('\\xe2\\x80\\xaegnp.exe' in titles and '"onmouseover="alert(2)\' &amp;' in titles,
              'hostile %s: the bidi override shown as the terminal shows it (\\xe2\\x80\\xae), quotes and & as text'
              % opt, titles[:600])
    if shots:
        browser.screenshot(chromium, 'file://' + os.path.join(tmp, 'hostile.html'),
                           1000, 1400, os.path.join(shots, 'show-html-golden.png'))


def demo(ml, chromium, tmp, shots):
    """demo --html: each thing the demo placed is a mark inside a band of
    the region kind that holds it."""
    res = run(ml, 'demo', '--html')
    check_eq(res.returncode, 0, 'demo --html: exit status')
    page = os.path.join(tmp, 'demo.html')
    with open(page, 'wb') as f:
        f.write(res.stdout)
    dom = browser.Dom(browser.dump_dom(chromium, 'file://' + page))
    bands = [b for b in bands_of(dom) if b['data-type'] == 'region']
    marks = [(e[1], e[2]) for e in dom.elements if e[0] == 'g' and e[1].get('class') == 'mark']
    check(len(marks) >= 7, 'demo --html: a mark per thing it placed', len(marks))
    want = ['initialized global', 'zeroed global', 'constant string', 'malloc(32)',
            'a local in main']
    for attrs, _ in marks:
        a = int(attrs['data-addr'], 16)
        inside = [b for b in bands if int(b['data-start'], 16) <= a < int(b['data-end'], 16)]
        check(len(inside) == 1, 'demo --html: mark 0x%x inside a region band' % a)
    texts = ' '.join(e[2] for e in dom.elements if e[0] == 'text')
    for label in want:
        check(label in texts, 'demo --html: the mark %r drawn' % label)
    if shots:
        browser.screenshot(chromium, 'file://' + page, 1000, 1600,
                           os.path.join(shots, 'demo-html.png'))


def saved_trees(ml, trees):
    """--svg needs only maps (a tree without smaps draws, as -d does); a
    32-bit process's drawing says its kernel is not in its space."""
    res = run(ml, 'show', '--svg', '--proc-root', os.path.join(trees, 'nosmaps'), '55')
    check_eq(res.returncode, 0, 'show --svg of a tree without smaps: exit status')
    try:
        root = ET.fromstring(res.stdout)
        g = [e for e in root.iter('{http://www.w3.org/2000/svg}g') if e.get('class') == 'band']
        check(len(g) > 5, 'show --svg of a tree without smaps: its bands', len(g))
    except ET.ParseError as e:
        check(False, 'show --svg of a tree without smaps: well-formed', str(e), res.stderr)
    res = run(ml, 'show', '--html', '--proc-root', os.path.join(trees, 'i386'), '777')
    check(res.returncode == 0 and b'kernel: not in this 32-bit address space' in res.stdout,
          'show --html of a 32-bit process: its kernel band', res.returncode, res.stderr)


def main():
    ml, target, trees = sys.argv[1], sys.argv[2], sys.argv[3]
    chromium = browser.find()
    if not chromium:
        print('skip: html: chromium is not installed (apt-get install chromium)')
        sys.exit(77)
    shots = os.environ.get('MEMLAYOUT_SCREENSHOTS')
    with tempfile.TemporaryDirectory(prefix='ml-html-') as tmp:
        live(ml, target, chromium, tmp, shots)
        hostile(ml, trees, chromium, tmp, shots)
        demo(ml, chromium, tmp, shots)
        saved_trees(ml, trees)
    done()


if __name__ == '__main__':
    main()
