"""test_deleted_names.py - names maps cannot tell apart, settled for a
live process from /proc/PID/map_files (as root by the file's link count,
unprivileged by whether the literal path is that inode).

target-mapdel maps, on command: a live file literally named
"x (deleted)" (not deleted: its name keeps the suffix, its object gets no
second one), a file whose name holds a literal backslash-0-1-2 (maps
shows it as a newline would be shown; the name must keep the four
bytes), a file whose name holds a newline (decoded to the newline), and
a file unlinked while mapped (deleted: the name without the suffix, the
object with it).  Then `watch --log` must keep the " (deleted)" mark on
the event of a deleted file mapped while it watches.

usage: test_deleted_names.py MEMLAYOUT TARGET_MAPDEL
"""
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


def check_watch(ml, t, tmp):
    w = subprocess.Popen([ml, 'watch', '--log', '-i', '0.05', str(t.pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    q = queue.Queue()
    threading.Thread(target=reader, args=(w.stdout, q), daemon=True).start()
    try:
        q.get(timeout=WAIT)          # the first sample is out: watching
        path = os.path.join(tmp, 'watched')
        a = command(t, 'del ' + path)
        want = (b'0x%x-' % a).decode(), path + ' (deleted)'
        seen, found = [], None
        deadline = time.monotonic() + WAIT
        while found is None and time.monotonic() < deadline:
            line = q.get(timeout=WAIT)
            if line is None:
                break
            seen.append(line.rstrip('\n'))
            if want[0] in line and 'appeared' in line:
                found = line.rstrip('\n')
        check(found is not None and found.endswith(want[1]),
              'watch --log: the event of a deleted file ends in %r' % want[1],
              found, seen[-3:])
    except queue.Empty:
        check(False, 'watch --log: a line within %d s' % WAIT)
    finally:
        w.terminate()
        w.wait()


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
