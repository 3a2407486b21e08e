# SPDX-License-Identifier: MIT
"""test_watch_html.py - memlayout watch --html: the page of plot written to
stdout when the watch ends, looked at in headless chromium (network off).

A real process (test_plot.py's python3: maps 1 MiB blocks, moves its brk,
starts threads, unmaps) is watched to its exit with --html and, in the same
run, --record FILE, so both see the same samples:
  - stdout holds the page and nothing else (no log lines, no summary);
  - it is byte for byte what `memlayout plot FILE` makes of the record;
  - in chromium it passes test_plot.py's checks of the page against the
    record (a stacked layer per kind through every sample at the record's
    sums, a tick per event, resident size, faults and threads);
  - a screenshot that is not blank.
--html with -J or --log is a usage error (exit 2), nothing on stdout.
Skips (77) without chromium.  The screenshot goes to $MEMLAYOUT_SCREENSHOTS
when set.

usage: test_watch_html.py MEMLAYOUT
"""
import json
import os
import re
import sys
import tempfile

import browser
from e2e import check, check_eq, done, run
from test_plot import GROW, check_page


def main():
    ml = sys.argv[1]
    chromium = browser.find()
    if not chromium:
        print('skip: watch-html: chromium is not installed (apt-get install chromium)')
        sys.exit(77)
    shots = os.environ.get('MEMLAYOUT_SCREENSHOTS')
    for opt in ('-J', '--log'):
        res = run(ml, 'watch', '--html', opt, '-c', '1', '--', 'true')
        check(res.returncode == 2 and not res.stdout and b'--html' in res.stderr,
              'watch --html %s: a usage error, nothing on stdout' % opt, res.returncode,
              res.stdout[:100], res.stderr)
    with tempfile.TemporaryDirectory(prefix='ml-watch-html-') as tmp:
        rec = os.path.join(tmp, 'run.jsonl')
        res = run(ml, 'watch', '--html', '-i', '0.03', '--record', rec, '--',
                  sys.executable, '-c', GROW)
        check_eq(res.returncode, 0, 'watch --html: exit status')
        page = res.stdout
        check(page.startswith(b'<!DOCTYPE html>\n') and page.endswith(b'</html>\n'),
              'watch --html: stdout is the page and nothing else', page[:80], page[-80:])
        check(not re.search(rb'(src|href)\s*=|<script', page), 'watch --html: nothing loaded, no script')
        if not check(os.path.exists(rec), 'watch --html --record: the record written'):
            done()
        with open(rec) as f:
            samples = [json.loads(l) for l in f.read().splitlines()]
        samples = [s for s in samples if 'sample' in s]
        events = [e for s in samples for e in s['events']]
        check(len(samples) >= 10 and events, 'the record has samples and events',
              len(samples), len(events))
        res = run(ml, 'plot', rec)
        check_eq(res.returncode, 0, 'plot: exit status')
        check(res.stdout == page, 'watch --html: the page plot makes of the same record',
              len(res.stdout), len(page))
        path = os.path.join(tmp, 'watch.html')
        with open(path, 'wb') as f:
            f.write(page)
        dom = browser.Dom(browser.dump_dom(chromium, 'file://' + path))
        check_page(dom, samples, events)
        img = browser.screenshot(chromium, 'file://' + path, 1000, 1200,
                                 os.path.join(shots or tmp, 'watch-html.png'))
        if check(img is not None, 'watch --html: screenshot taken'):
            px = [p for row in img[2][::4] for p in row[::4]]
            check(len(set(px)) > 20 and px.count((255, 255, 255)) < 0.9 * len(px),
                  'watch --html: screenshot not blank', len(set(px)))
    done()


if __name__ == '__main__':
    main()
