#!/bin/sh
# SPDX-License-Identifier: MIT
# preload-programs.sh LIBMLALLOC PROGRAM: run a real program with and without
# LD_PRELOAD=libmlalloc.so and require the same output and exit status.
# PROGRAM is one of: python3, gcc, git, make, perl, sqlite3.  Fails (never
# skips) when the program is missing or when libmlalloc.so is not actually
# loaded.  With MLALLOC_CHECK set (the checking mode), first proves the mode
# is on (a double free through ctypes is reported as double-free), then
# requires the same output: no false report.
set -u
lib=$(realpath "$1") || exit 1
what=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

command -v "$what" >/dev/null 2>&1 || { echo "$what: not installed"; exit 1; }
# The preload really takes effect in a child of the preloaded process.
n=$(LD_PRELOAD=$lib sh -c 'grep -c libmlalloc /proc/$$/maps')
[ "$n" -gt 0 ] || { echo "libmlalloc.so was not loaded"; exit 1; }

if [ -n "${MLALLOC_CHECK:-}" ]; then
	out=$(LD_PRELOAD=$lib python3 -c 'import ctypes; c = ctypes.CDLL(None); c.malloc.restype = ctypes.c_void_p; c.free.argtypes = [ctypes.c_void_p]; p = c.malloc(24); c.free(p); c.free(p)' 2>&1)
	case $out in
	*"mlalloc: double-free: free("*) ;;
	*) echo "MLALLOC_CHECK=$MLALLOC_CHECK: the checking mode did not report a double free: $out"; exit 1 ;;
	esac
fi

case $what in
perl)
	run() { perl -e 'my %h; for my $i (1..200000) { $h{$i % 5000} .= chr(97 + $i % 26) x ($i % 7) } my @k = sort { $a <=> $b } keys %h; my $s = 0; $s += length $h{$_} for @k; print scalar(@k), " $s\n"; my @w = map { join ",", reverse 1..$_ } 1..300; print length(join "", @w), "\n"'; }
	;;
sqlite3)
	run() { sqlite3 :memory: "create table t(a integer primary key, b text); with recursive c(x) as (select 1 union all select x + 1 from c where x < 50000) insert into t select x, printf('%08d-%x', x * 7919 % 100000, x) from c; create index ib on t(b); select count(*), min(b), max(b) from t; select sum(length(b)) from t where a % 3 = 0; delete from t where a % 2 = 0; vacuum; select count(*) from t;"; }
	;;
python3)
	cat > work.py <<'PY'
import json, random, threading, re, collections, hashlib
r = random.Random(7)
d = {}
for i in range(200000):
    k = r.randrange(20000)
    d[k] = d.get(k, "") + chr(97 + i % 26) * r.randrange(1, 40)
    if i % 7 == 0: d.pop(r.randrange(20000), None)
words = re.findall(r"[a-z]+", " ".join(sorted(d.values())[:5000]))
print(len(d), len(words), collections.Counter(w[:3] for w in words).most_common(3))
big = [bytearray(r.randrange(1, 2 << 20)) for _ in range(60)]
print(sum(len(b) for b in big))
out = {}
def work(n):
    x = [str(i) * (i % 50) for i in range(n)]
    out[n] = hashlib.sha256("".join(x).encode()).hexdigest()[:16]
ts = [threading.Thread(target=work, args=(20000 + t,)) for t in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(out.items()))
print(json.dumps({"k": list(range(10)), "s": "x" * 100})[:60])
PY
	run() { python3 work.py; }
	;;
gcc)
	cat > prog.c <<'C'
#include <stdio.h>
#include <stdlib.h>
struct node { int v; struct node *next; };
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int main(void) {
	int a[1000]; struct node *h = NULL;
	for (int i = 0; i < 1000; i++) { a[i] = (i * 7919) % 1000; struct node *n = malloc(sizeof *n); n->v = a[i]; n->next = h; h = n; }
	qsort(a, 1000, sizeof a[0], cmp);
	long s = 0; while (h) { s += h->v; struct node *n = h->next; free(h); h = n; }
	printf("%d %d %ld\n", a[0], a[999], s);
	return 0;
}
C
	run() { gcc -O2 -S -o - prog.c && gcc -O2 -Wall prog.c -o prog && ./prog; }
	;;
git)
	run() {
		rm -rf repo && mkdir repo && cd repo || return 1
		export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e
		export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 HOME=$work
		git init -q -b main . && for i in 1 2 3 4 5; do
			seq 1 $((i * 1000)) > f$i.txt && git add f$i.txt && git commit -qm "commit $i"
		done
		sed -i 's/^5/five/' f3.txt && git commit -qam "edit f3"
		git log --stat --format='%H %s' && git diff HEAD~3 --stat && git gc -q && git count-objects -v | grep -v size
		cd ..
	}
	;;
make)
	printf 'all: c.out\na.out:\n\techo a > $@\nb.out: a.out\n\tcat a.out a.out > $@\nc.out: b.out\n\tcat b.out a.out > $@; cat $@\nclean:\n\trm -f *.out\n' > Makefile
	run() { make --no-print-directory && make --no-print-directory -n clean && make --no-print-directory clean; }
	;;
*)
	echo "unknown program $what"; exit 1 ;;
esac

run > plain.txt 2>&1; plain=$?
LD_PRELOAD=$lib run > preload.txt 2>&1; pre=$?
if [ $plain -ne $pre ] || ! cmp -s plain.txt preload.txt; then
	echo "$what: output differs under LD_PRELOAD (status $plain vs $pre)"
	diff plain.txt preload.txt | head -20
	exit 1
fi
echo "$what: same output with and without mlalloc ($(wc -l < plain.txt) lines, status $plain)"
