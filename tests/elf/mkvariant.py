#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mkvariant.py - make a test variant of an ELF executable:
#   mkvariant.py strip  IN OUT   objcopy --strip-all (section headers stay)
#   mkvariant.py noshdr IN OUT   copy with e_shoff, e_shnum, e_shstrndx zeroed
# OUT is executable (mode 0755).
import os
import shutil
import struct
import subprocess
import sys


def noshdr(src, dst):
    data = bytearray(open(src, 'rb').read())
    if data[:4] != b'\x7fELF':
        sys.exit(f'{src}: not an ELF file')
    is64 = data[4] == 2
    end = '<' if data[5] == 1 else '>'
    if is64:   # e_shoff at 0x28 (8 bytes), e_shnum 0x3c, e_shstrndx 0x3e
        struct.pack_into(end + 'Q', data, 0x28, 0)
        struct.pack_into(end + 'HH', data, 0x3c, 0, 0)
    else:      # e_shoff at 0x20 (4 bytes), e_shnum 0x30, e_shstrndx 0x32
        struct.pack_into(end + 'I', data, 0x20, 0)
        struct.pack_into(end + 'HH', data, 0x30, 0, 0)
    with open(dst, 'wb') as f:
        f.write(data)


def main():
    mode, src, dst = sys.argv[1:4]
    if mode == 'strip':
        objcopy = shutil.which('objcopy') or 'objcopy'
        subprocess.run([objcopy, '--strip-all', src, dst], check=True)
    elif mode == 'noshdr':
        noshdr(src, dst)
    else:
        sys.exit(f'mkvariant.py: unknown mode {mode}')
    os.chmod(dst, 0o755)


main()
