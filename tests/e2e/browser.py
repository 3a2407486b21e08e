# SPDX-License-Identifier: MIT
"""browser.py - headless chromium for the tests of memlayout's pictures
(show --html, --svg), and what they read back from it: the DOM after the
page's script ran (--dump-dom) and a screenshot (--screenshot), decoded
here (PNG: zlib and the five row filters, Python standard library only).

The network is off for every load: the page is a file:// URL, the proxy is
a closed local port and the host resolver maps every name to nothing, so
a page that tried to load anything would load nothing (and the pages
carry a Content Security Policy of default-src 'none' besides).  chromium
runs with --no-sandbox: as root it refuses to start without it, and an
ordinary user loses nothing a test needs.
"""
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser

NO_NETWORK = ['--proxy-server=socks5://127.0.0.1:9',
              '--proxy-bypass-list=<-loopback>',
              '--host-resolver-rules=MAP * ~NOTFOUND',
              '--disable-background-networking', '--disable-sync',
              '--disable-component-update', '--no-first-run',
              '--no-default-browser-check', '--disable-extensions']


def find():
    """The chromium executable, or None."""
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(chromium, args, url, timeout=90):
    with tempfile.TemporaryDirectory(prefix='ml-chromium-') as prof:
        argv = [chromium, '--headless', '--disable-gpu', '--no-sandbox',
                '--user-data-dir=' + prof, '--force-device-scale-factor=1',
                '--hide-scrollbars'] + NO_NETWORK + args + [url]
        env = dict(os.environ, HOME=prof)
        return subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout,
                              env=env, cwd=prof)


def dump_dom(chromium, url):
    """The serialised DOM of url after its scripts ran (str)."""
    res = _run(chromium, ['--dump-dom', '--virtual-time-budget=5000'], url)
    return res.stdout.decode('utf-8', 'replace')


def screenshot(chromium, url, width, height, path):
    """A PNG of url at width x height into path; returns the decoded
    (width, height, rows of (r, g, b) tuples) or None."""
    if os.path.exists(path):
        os.unlink(path)
    _run(chromium, ['--screenshot=' + path, '--window-size=%d,%d' % (width, height),
                    '--virtual-time-budget=5000'], url)
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as f:
        return decode_png(f.read())


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data):
    """(width, height, rows) of an 8-bit RGB or RGBA PNG; rows are lists of
    (r, g, b).  ValueError for anything else."""
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
    if depth != 8 or ctype not in (2, 6) or hdr[6]:
        raise ValueError('PNG type %d depth %d interlace %d' % (ctype, depth, hdr[6]))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            add = (0, a, b, (a + b) // 2, _paeth(a, b, c))[f]
            line[i] = (line[i] + add) & 0xff
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


class Dom(HTMLParser):
    """Every element of a page as (tag, attrs dict, text inside it up to
    its first child), in document order; element counts per tag."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self._open = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        el = [tag, dict(attrs), '']
        self.elements.append(el)
        self._open.append(el)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ''])

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2] += data

    def tags(self, tag):
        return [e for e in self.elements if e[0] == tag]
