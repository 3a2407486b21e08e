#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# glibc-seeds.py DIR: writes the seeds of fuzz-glibc (corpus-glibc/): a made-up
# main_arena and brk heap in the layout of glibc 2.27, 2.31 and 2.36, 64- and
# 32-bit: a tcache_perthread_struct, chunks in use, one in a fastbin, one in
# the unsorted bin, top.  Input format: fuzz-glibc.c.
import struct, sys
BASE=0x10000
def seed(W, v, fast_chunk=True, unsorted=True, tcache=True):
    P = '<Q' if W==8 else '<I'
    img = bytearray(4096 + 0x4000)
    def put(addr, val): struct.pack_into(P, img, addr-BASE, val)
    nfast = 10 if W==8 else 11
    fast_off = (16 if W==8 else 12) if v>=27 else 8
    top_off = fast_off + nfast*W; bins_off = top_off + 2*W
    next_off = bins_off + 254*W + 16; sys_off = next_off + 3*W
    A = BASE+16
    for i in range(1,128):
        b = A + bins_off + (i-1)*2*W - 2*W
        put(b+2*W, b); put(b+3*W, b)
    put(A+next_off, A)
    heap = BASE+4096
    align=16
    c = heap
    while (c+2*W) % align: c += 1
    chunks=[]
    tc = (64*(2 if v>=30 else 1) + 64*W + W + 15) & ~15
    if tc < 4*W: tc = 32
    sizes = ([tc] if tcache else []) + [0x30, 0x20, 0x410, 0x40, 0x100]
    for s in sizes:
        chunks.append((c, s)); put(c+W, s|1); c += s
    top = c; topsize = heap + len(img) - 4096 - top
    topsize &= ~15
    put(top+W, topsize|1); put(A+top_off, top)
    put(A+sys_off, top+topsize-heap)
    mem = lambda ch: ch+2*W
    if fast_chunk:
        ch = chunks[-4 if tcache else -4][0]  # the 0x20 chunk
        ch = [x for x in chunks if x[1]==0x20][0][0]
        put(A+fast_off+((0x20 >> (4 if W==8 else 3))-2)*W, ch)
        put(mem(ch), (mem(ch)>>12) if v>=32 else 0)
    if unsorted:
        ch = [x for x in chunks if x[1]==0x410][0][0]
        b = A + bins_off - 2*W
        put(b+2*W, ch); put(b+3*W, ch); put(ch+2*W, b); put(ch+3*W, b)
        nxt = ch+0x410; put(nxt+W, 0x40)  # PREV_INUSE clear
        put(nxt, 0x410)
    return bytes([0 if W==8 else 1, v-26]) + bytes(img)
out=sys.argv[1]
for W in (8,4):
    for v in (27, 31, 36):
        open(f'{out}/w{W}-v{v}.bin','wb').write(seed(W,v))
open(f'{out}/w8-v36-plain.bin','wb').write(seed(8,36,False,False,False))
