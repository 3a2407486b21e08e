# SPDX-License-Identifier: MIT
"""test_deleted_names.py - names maps cannot tell apart, settled for a
live process from /proc/PID/map_files (as root by the file's link count,
unprivileged by whether the literal path is that inode).

target-mapdel maps, on command: a live file literally named
"x (deleted)" (not deleted: its name keeps the suffix, its object gets no
second one), a file whose name holds a literal backslash-0-1-2 (maps
shows it as a newline would be shown; the name must keep the four
bytes), a file whose name holds a newline (decoded to the newline), and
a file unlinked while mapped (deleted: the name without the suffix, the
object with it).  Then `watch --log` and `watch --record` must keep the
" (deleted)" mark on the event of a file mapped and unlinked while it
watches, and not add one to a live file named "w (deleted)".

usage: test_deleted_names.py MEMLAYOUT TARGET_MAPDEL
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

from e2e import Target, check, check_eq, describe, done, region_at, show_json

WAIT = 15


def command(t, line):
    """Send a command to target-mapdel; the address it mapped."""
    t.proc.stdin.write(line.encode() + b'\n')
    t.proc.stdin.flush()
    reply = t.proc.stdout.readline().decode().strip()
    check(reply.startswith('map=0x'), 'target-mapdel maps for %r' % line, reply)
    return int(reply[4:], 16) if reply.startswith('map=0x') else 0


def check_names(ml, t, tmp):
    cases = [  # (command, file name, name shown, deleted)
        ('map', 'x (deleted)', 'x (deleted)', False),
        ('map', 'lit\\012name', 'lit\\012name', False),
        ('map', 'nl\nname', 'nl\nname', False),
        ('del', 'gone', 'gone', True),
    ]
    at = {}
    for cmd, name, _, _ in cases:
        if '\n' in name:   # the target reads a line: create it here
            os.close(os.open(os.path.join(tmp, name), os.O_CREAT | os.O_WRONLY, 0o600))
            os.symlink(os.path.join(tmp, name), os.path.join(tmp, 'nl-link'))
            at[name] = command(t, '%s %s' % (cmd, os.path.join(tmp, 'nl-link')))
        else:
            at[name] = command(t, '%s %s' % (cmd, os.path.join(tmp, name)))
    regions = show_json(ml, '-o', 'START,END,KIND,OBJECT,NAME', t.pid)
    if not regions:
        return
    for _, name, shown, deleted in cases:
        r = region_at(regions, at[name])
        path = os.path.join(tmp, shown)
        check(r is not None and r.get('name') == path,
              '%r: the name is %r' % (name, path), describe(r))
        want = path + (' (deleted)' if deleted else '')
        check(r is not None and r.get('object') == want,
              '%r: the object is %r (deleted: %s)' % (name, want, deleted),
              describe(r))


def reader(stream, q):
    for raw in stream:
        q.put(raw.decode('utf-8', 'replace'))
    q.put(None)


def wait_event(q, addr):
    """The log line of the mapping appearing at addr, or None."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = q.get(timeout=WAIT)
        if line is None:
            return None
        if ('0x%x-' % addr) in line and 'appeared' in line:
            return line.rstrip('\n')
    return None


def recorded_events(path):
    """Every event of the JSON lines watch --record wrote."""
    events = []
    with open(path) as f:
        for line in f:
            doc = json.loads(line)
            events += doc.get('events') or []
    return events


def check_watch(ml, t, tmp):
    record = os.path.join(tmp, 'record.jsonl')
    w = subprocess.Popen([ml, 'watch', '--log', '-i', '0.05', '--record', record,
                          str(t.pid)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    q = queue.Queue()
    threading.Thread(target=reader, args=(w.stdout, q), daemon=True).start()
    cases = [('del', 'watched', True), ('map', 'w (deleted)', False)]
    lines = {}
    try:
        q.get(timeout=WAIT)          # the first sample is out: watching
        for cmd, name, _ in cases:
            path = os.path.join(tmp, name)
            lines[path] = wait_event(q, command(t, '%s %s' % (cmd, path)))
    except queue.Empty:
        check(False, 'watch --log: a line within %d s' % WAIT)
    finally:
        w.terminate()
        w.wait()
    events = recorded_events(record)
    for _, name, deleted in cases:
        path = os.path.join(tmp, name)
        want = path + (' (deleted)' if deleted else '')
        line = lines.get(path)
        check(line is not None and line.endswith(' ' + want),
              'watch --log: the event of %r ends in %r' % (name, want), line)
        ev = [e for e in events if e.get('name') == path and e.get('event') == 'appeared']
        check(len(ev) == 1 and ev[0].get('deleted') is deleted,
              'watch --record: the event of %r has name %r, deleted %s'
              % (name, path, deleted), ev, [e.get('name') for e in events])


def main():
    ml, target = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix='ml-e2e-') as tmp:
        os.chmod(tmp, 0o755)
        with Target([target]) as t:
            check_names(ml, t, tmp)
            check_watch(ml, t, tmp)
            check_eq(t.close(), 0, 'target-mapdel exit status')
    done()


main()
