# SPDX-License-Identifier: MIT
"""test_watch_exec.py - memlayout watch across execs: the watched PID
runs 'sh -c "sleep 0.3; exec SCRIPT"', SCRIPT a '#!/usr/bin/env python3'
script (a shim: sh -> env -> python3, two more execs) that touches 48 MiB
and sleeps.  smaps_rollup, held open, names the address space it was
opened on; after an exec it fails (ESRCH) and the resident size read 0
for the rest of the watch, and the summary's peak was the one before the
first exec.  A brk that moved across an exec was a 'brk' event (the new
program's heap is no move of the old one's).

Checks (watch -J): every sample has a resident size above 0, the samples
after the last exec among them; the summary's peak_rss is the largest
sample's rss, at least 48 MiB, at a time after the first exec.  Each
sample after an exec has one 'exec' event (the new program's name) and
no 'brk' event; the summary counts them.

usage: test_watch_exec.py MEMLAYOUT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e'))
from e2e import TIMEOUT, check, check_eq, done  # noqa: E402

MIB = 1 << 20
SCRIPT = '''#!/usr/bin/env python3
import time
b = b"\\x01" * (48 << 20)
time.sleep(0.8)
'''


def main():
    ml = sys.argv[1]
    if not shutil.which('env') or not shutil.which('python3'):
        print('skip: time-watch-exec: no env or python3 in PATH')
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix='ml-time-') as tmp:
        script = os.path.join(tmp, 'big.py')
        with open(script, 'w') as f:
            f.write(SCRIPT)
        os.chmod(script, 0o755)
        res = subprocess.run([ml, 'watch', '-J', '-i', '0.05', '--', 'sh', '-c',
                              'sleep 0.3; exec "$0"', script],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=TIMEOUT)
    check_eq(res.returncode, 0, 'watch exit status')
    samples, summary = [], None
    for line in res.stdout.decode().splitlines():
        doc = json.loads(line)
        if 'summary' in doc:
            summary = doc['summary']
        elif 'sample' in doc:
            samples.append(doc)
    # an exec: the executable's text moves (sh, env, python3)
    execs = [s['t'] for p, s in zip(samples, samples[1:])
             if s['start_brk'] != p['start_brk']]
    check(len(samples) > 10 and execs, 'samples before and after an exec',
          len(samples), execs, res.stderr)
    for p, s in zip(samples, samples[1:]):
        if s['start_brk'] == p['start_brk']:
            continue
        types = [e['event'] for e in s['events']]
        check(types.count('exec') == 1, 't=%s: one exec event' % s['t'], types)
        check('brk' not in types, 't=%s: no brk event across an exec' % s['t'], types)
        ev = [e for e in s['events'] if e['event'] == 'exec']
        check(ev and ev[0]['name'] in ('sh', 'env', 'python3', 'big.py'),
              't=%s: the exec names the new program' % s['t'], ev)
    if summary:
        check(summary['events'].get('exec', 0) >= len(execs),
              'summary: the exec events counted', summary['events'], execs)
    zero = [s['t'] for s in samples if s['rss'] == 0]
    check(not zero, 'every sample has a resident size (none 0 after an exec)',
          zero)
    if not summary or not samples or not execs:
        done()
    top = max(samples, key=lambda s: s['rss'])
    check_eq(summary['peak_rss'], top['rss'], 'summary peak_rss: the largest sample')
    check(summary['peak_rss'] >= 48 * MIB, 'peak_rss at least 48 MiB (the '
          'script touched them)', summary['peak_rss'])
    check(summary['peak_rss_t'] >= execs[0], 'peak_rss_t after the first exec',
          summary['peak_rss_t'], execs)
    done()


main()
