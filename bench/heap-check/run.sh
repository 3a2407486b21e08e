#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/heap-check/run.sh [RUNS]: the cost of mlalloc's checking mode
# (MLALLOC_CHECK, alloc/README.md) against valgrind memcheck and
# AddressSanitizer, measured in one run, interleaved RUNS times (default 3).
# Workloads: WORKLOADS of bench/alloc/bench.c (1 thread), the
# microbenchmarks, and PROGRAMS, real programs doing a job of their own
# kind: python3 (dicts, strings, regexes, json), git (log --stat of this
# repository), gcc (compiling bench.c at -O2: the driver, cc1 and as),
# perl (hashes and regexes on generated text), sqlite3 (insert, index,
# group by, delete, vacuum in memory).  Modes: plain (mlalloc, mode off), full (MLALLOC_CHECK=full),
# sampled (sample:RATE; without RATE 'sample', the default rate), memcheck (valgrind, the program as
# built, glibc malloc replaced by memcheck's), asan (bench.c rebuilt with
# -fsanitize=address; none for the real programs).  memcheck follows
# children (gcc's cc1 and as; a script's interpreter).  Prints the median CPU time
# (user + system) per mode and its ratio to plain, then PASS/MISS against
# the targets of issue 14: full <= 3x plain and >= 10x faster than
# memcheck, sampled <= 1.05x plain (geomeans, for the microbenchmarks and
# the real programs apart).
# Then the detection table: the corpus of tests/heapcheck/heapbug.c under
# mlalloc full, sampled with rate 1, memcheck and ASan.
# Env: BUILD (meson build dir, default build), WORKLOADS, PROGRAMS, MODES
# (a subset of the five, plain first; e.g. "plain full" for a library of
# another commit: BUILD=a directory holding alloc/libmlalloc.so), DETECT
# (0: no detection table), RATE, TIMEOUT
# (seconds per run, default 300: a run past it counts as TIMEOUT).
# A benchmark, not a test: MISS is printed, the exit status stays 0.
# The sampled mode's cost at each rate, at finer resolution: sample-rates.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
runs=${1:-3}
build=${BUILD:-$top/build}
rate=${RATE:-}   # empty: 'sample', the documented default rate
tmo=${TIMEOUT:-300}
workloads=${WORKLOADS:-"cfrac espresso alloc-test glibc-simple"}
programs=${PROGRAMS:-"python3 git gcc perl sqlite3"}
lib=$build/alloc/libmlalloc.so
[ -f "$lib" ] || { echo "no $lib: build first (meson compile -C $build)"; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
. "$here/workloads.sh"
hc_workloads "$out"
cc -O2 -g -pthread $hc_nb -fsanitize=address "$top/bench/alloc/bench.c" -o "$out/bench-asan" -lm
cat > "$out/work.pl" <<'PL'
my %h; my %f;
for my $i (1..900000) { $h{$i % 5000} .= chr(97 + $i % 26) x ($i % 7) }
for my $v (values %h) { $f{$_}++ for ($v =~ /([a-z]{1,4})/g) }
my @k = sort { $f{$b} <=> $f{$a} || $a cmp $b } keys %f;
print scalar(@k), " $k[0] $f{$k[0]}\n";
my @w = map { join ",", reverse 1..$_ } 1..400; print length(join "", @w), "\n";
PL
cat > "$out/work.sql" <<'SQL'
create table t(a integer primary key, b text, c real);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000)
  insert into t select x, printf('%08d-%x', x * 7919 % 100000, x), x * 0.5 from c;
create index ib on t(b);
select count(*), min(b), max(b) from t;
select substr(b, 1, 2) k, count(*), sum(c) from t group by k order by 2 desc limit 3;
select sum(length(b)) from t where a % 3 = 0;
delete from t where a % 2 = 0;
vacuum;
select count(*) from t;
SQL
# The interpreter itself, not a wrapper script (pyenv's shim is bash: run
# under memcheck it would be the shim that is checked, not python).
py=$(python3 -c 'import sys; print(sys.executable)')
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || programs=$(echo " $programs " | sed 's/ git / /')
for p in $programs; do
	[ $p = python3 ] || command -v $p >/dev/null || { echo "$p not installed: left out"; programs=$(echo " $programs " | sed "s/ $p / /"); }
done

# cpu MODE WORKLOAD: CPU seconds of one run (user + sys of the process
# and its children), "TIMEOUT" or "FAIL".
cpu() {
	mode=$1 w=$2
	case $w in
	python3) set -- "$py" "$out/work.py" ;;
	git) set -- git -C "$top" --no-pager log --stat -n 300 ;;
	gcc) set -- gcc -O2 -c "$top/bench/alloc/bench.c" -o "$out/bench.o" ;;
	perl) set -- perl "$out/work.pl" ;;
	sqlite3) set -- sqlite3 :memory: ".read $out/work.sql" ;;
	*) set -- "$out/bench" "$w" 1 ;;
	esac
	case $mode in
	plain) set -- env LD_PRELOAD="$lib" "$@" ;;
	full) set -- env LD_PRELOAD="$lib" MLALLOC_CHECK=full "$@" ;;
	sampled) set -- env LD_PRELOAD="$lib" MLALLOC_CHECK="sample${rate:+:$rate}" "$@" ;;
	memcheck) set -- valgrind -q --tool=memcheck --trace-children=yes --error-exitcode=0 "$@" ;;
	asan) case " $programs " in *" $w "*) echo "n/a"; return ;; esac
	      set -- env ASAN_OPTIONS=detect_leaks=0 "$out/bench-asan" "$w" 1 ;;
	esac
	st=0
	/usr/bin/time -f '%U %S' -o "$out/t" timeout "$tmo" "$@" >/dev/null 2>"$out/err" || st=$?
	[ $st -eq 124 ] && { echo TIMEOUT; return; }
	[ $st -ne 0 ] && { echo FAIL; return; }
	awk '{ printf "%.4f\n", $1 + $2 }' "$out/t"
}

modes=${MODES:-"plain full sampled memcheck asan"}
for i in $(seq "$runs"); do
	for w in $workloads $programs; do
		for m in $modes; do
			echo "$w $m $(cpu "$m" "$w")" >> "$out/results"
		done
	done
	echo "repetition $i of $runs done" >&2
done

# Medians, ratios, geomeans, PASS/MISS.
python3 - "$out/results" "$modes" "${rate:-default}" "$runs" "$programs" <<'PY'
import math, statistics, sys
path, modes, rate, runs = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
programs = sys.argv[5].split()
vals, bad, order = {}, {}, []
for line in open(path):
    w, m, v = line.split()
    if w not in order:
        order.append(w)
    try:
        x = float(v)
    except ValueError:
        bad[(w, m)] = v
        continue
    vals.setdefault((w, m), []).append(x)
names = {m: (('sample:' + rate if rate != 'default' else 'sample') if m == 'sampled' else m) for m in modes}
med = {k: statistics.median(v) for k, v in vals.items()}
groups = [('microbenchmarks', [w for w in order if w not in programs]),
          ('real programs', [w for w in order if w in programs])]
def geo(xs):
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float('nan')
for title, ws in groups:
    if not ws:
        continue
    print('%-14s' % title + ''.join(' %18s' % names[m] for m in modes))
    for w in ws:
        row, base = '%-14s' % w, med.get((w, 'plain'), 0)
        for m in modes:
            row += ' %9.3fs %6.1fx' % (med[(w, m)], med[(w, m)] / base if base else 0) \
                if (w, m) in med else ' %18s' % bad.get((w, m), 'n/a')
        print(row)
    g = {m: geo([med[(w, m)] / med[(w, 'plain')] for w in ws if (w, m) in med and med.get((w, 'plain'))])
         for m in modes if m != 'plain'}
    print('%-14s' % 'geomean/plain' + ' %18s' % '' + ''.join(' %18s' % ('%.2fx' % g[m] if g[m] == g[m] else 'n/a')
                                                          for m in modes if m != 'plain'))
    gm = geo([med[(w, 'memcheck')] / med[(w, 'full')] for w in ws if (w, 'memcheck') in med and (w, 'full') in med])
    gf, gs = g.get('full', float('inf')), g.get('sampled', float('inf'))
    if 'full' in modes:
        print('%s %s: full mode %.2fx <= 3x plain' % ('PASS' if gf <= 3 else 'MISS', title, gf))
    if 'full' in modes and 'memcheck' in modes:
        print('%s %s: full mode %.1fx faster than memcheck >= 10x' % ('PASS' if gm >= 10 else 'MISS', title, gm))
    if 'sampled' in modes:
        print('%s %s: sampled mode %.3fx <= 1.05x plain' % ('PASS' if gs <= 1.05 else 'MISS', title, gs))
    print()
print('median of %s interleaved runs, CPU time (user + system, children included); TIMEOUT/FAIL runs are left out' % runs)
PY

# Detection: each case of the corpus under the four tools.
[ "${DETECT:-1}" = 1 ] || exit 0   # DETECT=0: the timings only
echo
cc -O0 -g -pthread $hc_nb "$top/tests/heapcheck/heapbug.c" -o "$out/heapbug" 2>/dev/null
cc -O0 -g -pthread $hc_nb -fsanitize=address "$top/tests/heapcheck/heapbug.c" -o "$out/heapbug-asan" 2>/dev/null
cases="uaf-read-large uaf-write-small overflow-large overflow-small underflow-small double-free-small double-free-large invalid-free-small calloc-overflow realloc-uaf memalign-overflow uaf-read-large-thread leaks"
printf "| case | mlalloc full | mlalloc sample:1 | memcheck | ASan |\n|---|---|---|---|---|\n"
exec 3>&2 2>/dev/null   # the shell's "Segmentation fault" lines
for c in $cases; do
	lk=""; [ "$c" = leaks ] && lk=",leaks"
	f=$(MLALLOC_CHECK=full$lk LD_PRELOAD="$lib" "$out/heapbug" "$c" 2>&1 >/dev/null | sed -n 's/^mlalloc: \([a-z-]*\):.*/\1/p' | head -1)
	s=$(MLALLOC_CHECK=sample:1$lk LD_PRELOAD="$lib" "$out/heapbug" "$c" 2>&1 >/dev/null | sed -n 's/^mlalloc: \([a-z-]*\):.*/\1/p' | head -1)
	v=$(valgrind --leak-check=full "$out/heapbug" "$c" 2>&1 >/dev/null | grep -oE "Invalid (read|write|free\(\))|definitely lost: [1-9][0-9,]* bytes|Mismatched" | head -1)
	a=$(ASAN_OPTIONS=detect_leaks=1 "$out/heapbug-asan" "$c" 2>&1 >/dev/null | grep -oE "ERROR: (AddressSanitizer|LeakSanitizer): [a-z-]+( [a-z-]+)?" | head -1 | sed 's/ERROR: [A-Za-z]*: //; s/ on$//')
	printf "| %s | %s | %s | %s | %s |\n" "$c" "${f:-missed}" "${s:-missed}" "${v:-missed}" "${a:-missed}"
done
exec 2>&3
