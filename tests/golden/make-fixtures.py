#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make-fixtures.py - write the saved /proc trees the golden tests read
through --proc-root.  Run it to regenerate tests/golden/trees/; the trees
are committed so the tests need nothing but this folder.

trees/x86_64: a 64-bit process, PID 4242, three threads (one running),
  hostile mapping names (newline as \\012, an escape sequence, spaces,
  invalid UTF-8, " (deleted)"), [anon:NAME], memfd, SysV shm, a glibc arena,
  [vvar_vclock], vsyscall; inodes that match no file, so ELF attribution
  degrades to permission-based labels on any machine.
trees/i386: a 32-bit process, PID 777, auxv with 4-byte words.
trees/kthread: PID 2, a kernel thread (PF_KTHREAD, empty maps).
trees/malformed: PID 9, a maps file with a broken line.
trees/nosmaps: PID 55, a capture with maps but no smaps.
"""
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "trees")

def write(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode, **({} if "b" in mode else {"encoding": "latin-1"})) as f:
        f.write(data)

def stat_line(pid, comm, flags, start_brk, start_stack, threads):
    f = [str(pid), "(%s)" % comm, "S", "1", str(pid), str(pid), "0", "-1", str(flags),
         "1500", "0", "3", "0", "10", "5", "0", "0", "20", "0", str(threads), "0",
         "12345", "100000000", "900", "18446744073709551615", "0", "0",
         str(start_stack), "0", "0", "0", "0", "0", "0", "0", "0", "0", "17", "1",
         "0", "0", "0", "0", "0", "0", "0", str(start_brk), "0", "0", "0", "0", "0"]
    return " ".join(f) + "\n"

LIMITS = ("Limit                     Soft Limit           Hard Limit           Units     \n"
          "Max cpu time              unlimited            unlimited            seconds   \n"
          "Max stack size            8388608              unlimited            bytes     \n")

def smaps_entry(line, size_kb, rss_kb, dirty_kb, swap_kb, flags):
    return (line + "\n" +
            "Size:           %8d kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n"
            "Rss:            %8d kB\nPss:            %8d kB\nPss_Dirty:      %8d kB\n"
            "Shared_Clean:          0 kB\nShared_Dirty:          0 kB\n"
            "Private_Clean:  %8d kB\nPrivate_Dirty:  %8d kB\nReferenced:     %8d kB\n"
            "Anonymous:      %8d kB\nKSM:                   0 kB\nLazyFree:              0 kB\n"
            "AnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\nFilePmdMapped:         0 kB\n"
            "Shared_Hugetlb:        0 kB\nPrivate_Hugetlb:       0 kB\n"
            "Swap:           %8d kB\nSwapPss:        %8d kB\nLocked:                0 kB\n"
            "THPeligible:           0\nVmFlags: %s\n") % (
                size_kb, rss_kb, rss_kb // 2, dirty_kb // 2, rss_kb - dirty_kb, dirty_kb,
                rss_kb, dirty_kb, swap_kb, swap_kb, flags)

def maps_line(start, end, perms, off, dev, ino, name):
    head = "%x-%x %s %08x %s %d" % (start, end, perms, off, dev, ino)
    return (head + " " * max(1, 73 - len(head)) + name) if name else head + " "

def tree(name, pid, comm, regions, threads, auxv, flags=0x400000, start_brk=0, exe=None):
    base = os.path.join(ROOT, name)
    p = os.path.join(base, str(pid))
    maps, smaps = "", ""
    for (s, e, perms, off, dev, ino, nm, rss, dirty, swap, vmf) in regions:
        line = maps_line(s, e, perms, off, dev, ino, nm)
        maps += line + "\n"
        smaps += smaps_entry(line, (e - s) // 1024, rss, dirty, swap, vmf)
    write(os.path.join(p, "maps"), maps)
    write(os.path.join(p, "smaps"), smaps)
    stack = next((r for r in regions if r[6] == "[stack]"), None)
    write(os.path.join(p, "stat"), stat_line(pid, comm, flags, start_brk,
                                             stack[1] - 0x1000 if stack else 0, len(threads)))
    write(os.path.join(p, "status"), "Name:\t%s\nThreads:\t%d\n" % (comm, len(threads)))
    write(os.path.join(p, "limits"), LIMITS)
    write(os.path.join(p, "auxv"), auxv, "wb")
    for tid, tcomm, syscall in threads:
        write(os.path.join(p, "task", str(tid), "comm"), tcomm + "\n")
        write(os.path.join(p, "task", str(tid), "syscall"), syscall + "\n")
    if exe:
        link = os.path.join(p, "exe")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(exe, link)
    write(os.path.join(base, "sys", "vm", "mmap_min_addr"), "65536\n")
    write(os.path.join(base, "cpuinfo"), "processor\t: 0\nflags\t\t: fpu vme pse\n\n")

RD, RW = "rd mr mw me sd", "rd wr mr mw me ac sd"
PROG = "/opt/app/bin/server"
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
X64 = [
    (0x555555554000, 0x555555556000, "r--p", 0x0, "08:01", 9990001, PROG, 8, 0, 0, RD),
    (0x555555556000, 0x55555555a000, "r-xp", 0x2000, "08:01", 9990001, PROG, 16, 0, 0, "rd ex mr mw me sd"),
    (0x55555555a000, 0x55555555c000, "r--p", 0x6000, "08:01", 9990001, PROG, 8, 0, 0, RD),
    (0x55555555c000, 0x55555555d000, "r--p", 0x7000, "08:01", 9990001, PROG, 4, 4, 0, RD),
    (0x55555555d000, 0x55555555e000, "rw-p", 0x8000, "08:01", 9990001, PROG, 4, 4, 0, RW),
    (0x55555555e000, 0x55555565e000, "rw-p", 0x0, "00:00", 0, "", 12, 12, 0, RW),
    (0x555555700000, 0x555555721000, "rw-p", 0x0, "00:00", 0, "[heap]", 132, 132, 4, RW),
    (0x7ff000000000, 0x7ff000021000, "rw-p", 0x0, "00:00", 0, "", 132, 132, 0, RW),
    (0x7ff000021000, 0x7ff004000000, "---p", 0x0, "00:00", 0, "", 0, 0, 0, "mr mw me nr sd"),
    (0x7ff010000000, 0x7ff010001000, "---p", 0x0, "00:00", 0, "", 0, 0, 0, "mr mw me ac sd"),
    (0x7ff010001000, 0x7ff010801000, "rw-p", 0x0, "00:00", 0, "", 16, 16, 0, RW),
    (0x7ff010801000, 0x7ff010802000, "---p", 0x0, "00:00", 0, "", 0, 0, 0, "mr mw me ac sd"),
    (0x7ff010802000, 0x7ff011002000, "rw-p", 0x0, "00:00", 0, "", 8, 8, 0, RW),
    (0x7ff011002000, 0x7ff011003000, "---p", 0x0, "00:00", 0, "", 0, 0, 0, "mr mw me ac sd"),
    (0x7ff011003000, 0x7ff011803000, "rw-p", 0x0, "00:00", 0, "", 8, 8, 0, RW),
    (0x7ff020000000, 0x7ff020001000, "rw-s", 0x0, "00:01", 65538, "/SYSV0000162e (deleted)", 4, 4, 0, "rd wr sh mr mw me ms sd"),
    (0x7ff020001000, 0x7ff020011000, "rw-s", 0x0, "00:01", 2049, "/memfd:ring buffer (deleted)", 64, 64, 0, "rd wr sh mr mw me ms sd"),
    (0x7ff020011000, 0x7ff020012000, "r--p", 0x0, "08:01", 9990002, "/tmp/evil\\012name \x1b[31mred\x1b[0m  \xff\xfe.dat (deleted)", 4, 0, 0, RD),
    (0x7ff020012000, 0x7ff020112000, "rw-p", 0x0, "00:00", 0, "[anon:jit code]", 40, 40, 8, RW),
    (0x7ff020112000, 0x7ff020113000, "r--s", 0x3000, "08:01", 9990003, "/var/lib/app/data file.bin", 4, 0, 0, "rd sh mr mw me ms sd"),
    (0x7ff7f7c00000, 0x7ff7f7c28000, "r--p", 0x0, "08:01", 9990004, LIBC, 160, 0, 0, RD),
    (0x7ff7f7c28000, 0x7ff7f7dbd000, "r-xp", 0x28000, "08:01", 9990004, LIBC, 1100, 0, 0, "rd ex mr mw me sd"),
    (0x7ff7f7dbd000, 0x7ff7f7e15000, "r--p", 0x1bd000, "08:01", 9990004, LIBC, 180, 0, 0, RD),
    (0x7ff7f7e15000, 0x7ff7f7e19000, "r--p", 0x214000, "08:01", 9990004, LIBC, 16, 16, 0, RD),
    (0x7ff7f7e19000, 0x7ff7f7e1b000, "rw-p", 0x218000, "08:01", 9990004, LIBC, 8, 8, 0, RW),
    (0x7ff7f7e1b000, 0x7ff7f7e28000, "rw-p", 0x0, "00:00", 0, "", 20, 20, 0, RW),
    (0x7ff7f7fc1000, 0x7ff7f7fc5000, "r--p", 0x0, "00:00", 0, "[vvar]", 0, 0, 0, "rd mr pf io de dd sd"),
    (0x7ff7f7fc5000, 0x7ff7f7fc7000, "r--p", 0x0, "00:00", 0, "[vvar_vclock]", 0, 0, 0, "rd mr pf io de dd sd"),
    (0x7ff7f7fc7000, 0x7ff7f7fc9000, "r-xp", 0x0, "00:00", 0, "[vdso]", 4, 0, 0, "rd ex mr mw me de sd"),
    (0x7ffffffde000, 0x7ffffffff000, "rw-p", 0x0, "00:00", 0, "[stack]", 24, 24, 0, "rd wr mr mw me gd ac"),
    (0xffffffffff600000, 0xffffffffff601000, "--xp", 0x0, "00:00", 0, "[vsyscall]", 0, 0, 0, "ex"),
]
AUX64 = struct.pack("<10Q", 33, 0x7ff7f7fc7000, 6, 4096, 9, 0x555555556040, 15, 0x7fffffffe3b9, 0, 0)
THREADS64 = [
    (4242, "server", "7 0x7fffffffd000 0x1 0xffffffff 0x0 0x0 0x0 0x7fffffffcf48 0x7ff7f7d1e8bf"),
    (4243, "worker 1", "202 0x7ff0108008f0 0x80 0x2 0x0 0x0 0x0 0x7ff0108007e0 0x7ff7f7cd5f16"),
    (4244, "worker\x1b]2", "-1 0x7ff011001ea0 0x7ff7f7cd5f16"),
    (4245, "spinner", "running"),
]

I386_EXE = "/opt/app/bin/t32"
LIBC32 = "/usr/lib32/libc.so.6"
I386 = [
    (0x56555000, 0x56556000, "r--p", 0x0, "08:01", 9990101, I386_EXE, 4, 0, 0, RD),
    (0x56556000, 0x56557000, "r-xp", 0x1000, "08:01", 9990101, I386_EXE, 4, 0, 0, "rd ex mr mw me"),
    (0x56557000, 0x56558000, "r--p", 0x2000, "08:01", 9990101, I386_EXE, 4, 0, 0, RD),
    (0x56558000, 0x56559000, "rw-p", 0x3000, "08:01", 9990101, I386_EXE, 4, 4, 0, RW),
    (0x56559000, 0x56659000, "rw-p", 0x0, "00:00", 0, "", 4, 4, 0, RW),
    (0x57a31000, 0x57a53000, "rw-p", 0x0, "00:00", 0, "[heap]", 8, 8, 0, RW),
    (0xf7c00000, 0xf7c1f000, "r--p", 0x0, "08:01", 9990102, LIBC32, 100, 0, 0, RD),
    (0xf7c1f000, 0xf7d9f000, "r-xp", 0x1f000, "08:01", 9990102, LIBC32, 600, 0, 0, "rd ex mr mw me"),
    (0xf7d9f000, 0xf7e24000, "r--p", 0x19f000, "08:01", 9990102, LIBC32, 80, 0, 0, RD),
    (0xf7e24000, 0xf7e26000, "r--p", 0x223000, "08:01", 9990102, LIBC32, 8, 8, 0, RD),
    (0xf7e26000, 0xf7e27000, "rw-p", 0x225000, "08:01", 9990102, LIBC32, 4, 4, 0, RW),
    (0xf7fc0000, 0xf7fc4000, "r--p", 0x0, "00:00", 0, "[vvar]", 0, 0, 0, RD),
    (0xf7fc4000, 0xf7fc6000, "r-xp", 0x0, "00:00", 0, "[vdso]", 4, 0, 0, "rd ex mr mw me de"),
    (0xffd6e000, 0xffd8f000, "rw-p", 0x0, "00:00", 0, "[stack]", 12, 12, 0, "rd wr mr mw me gd ac"),
]
AUX32 = struct.pack("<10I", 32, 0xf7fc4550, 33, 0xf7fc4000, 6, 4096, 9, 0x56556090, 0, 0)

def main():
    tree("x86_64", 4242, "server", X64, THREADS64, AUX64, start_brk=0x555555700000,
         exe=PROG)
    tree("i386", 777, "t32", I386, [(777, "t32", "-1 0xffd8d000 0xf7fc5579")], AUX32,
         start_brk=0x57a31000, exe=I386_EXE)
    tree("kthread", 2, "kthreadd", [], [(2, "kthreadd", "running")], b"", flags=0x208040)
    # malformed: a valid first line, then garbage
    tree("malformed", 9, "bad", I386[:2], [(9, "bad", "running")], AUX32)
    with open(os.path.join(ROOT, "malformed", "9", "maps"), "a", encoding="latin-1") as f:
        f.write("56557000-56556000 r--p 00000000 08:01 1 /backwards\n")
    with open(os.path.join(ROOT, "malformed", "9", "smaps"), "a", encoding="latin-1") as f:
        f.write("not a line at all\n")
    # nosmaps: a capture that saved maps but not smaps
    tree("nosmaps", 55, "t32", I386, [(55, "t32", "running")], AUX32)
    os.unlink(os.path.join(ROOT, "nosmaps", "55", "smaps"))

if __name__ == "__main__":
    main()
