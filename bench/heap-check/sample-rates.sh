#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/heap-check/sample-rates.sh [ROUNDS]: the cost of mlalloc's sampled
# checking mode (MLALLOC_CHECK=sample:N, alloc/README.md) at each rate,
# against the plain run (mlalloc, mode off), measured in one run: every
# round runs every workload in every mode, one after the other (a loaded
# machine slows them alike), ROUNDS rounds (default 7); prints the median
# task-clock (perf stat: CPU time at microsecond resolution, not the 10 ms
# of getrusage) per mode and its ratio to plain, the geomean and worst
# ratio per rate, and PASS/MISS of issue 14's target (sampled <= 1.05x)
# at the default rate ("sample" without ":N").
# Workloads: WORKLOADS of bench/alloc/bench.c (1 thread) and real
# programs: python3 (bench/heap-check/run.sh's script), perl and sqlite3
# (alloc/tests/preload-programs.sh's), those installed.
# Env: BUILD (meson build dir, default build), RATES (default "1000 2000
# 5000 10000 20000"), WORKLOADS, BASE (a directory holding another
# libmlalloc.so, e.g. of the commit before: its sample:N runs too, as
# "base:N", in the same rounds).
# A benchmark, not a test: MISS is printed, the exit status stays 0.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${1:-7}
build=${BUILD:-$top/build}
rates=${RATES:-"1000 2000 5000 10000 20000"}
workloads=${WORKLOADS:-"cfrac espresso alloc-test glibc-simple"}
lib=$build/alloc/libmlalloc.so
[ -f "$lib" ] || { echo "no $lib: build first (meson compile -C $build)"; exit 1; }
base=
[ -n "${BASE:-}" ] && base=$(realpath "$BASE/libmlalloc.so")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
. "$here/workloads.sh"
hc_workloads "$out"
py=$(python3 -c 'import sys; print(sys.executable)')   # not a pyenv shim: its shell forks
progs=python3
command -v perl >/dev/null && progs="$progs perl"
command -v sqlite3 >/dev/null && progs="$progs sqlite3"
use_perf=0
perf stat -x, -e task-clock true >/dev/null 2>&1 && use_perf=1

# ms LIB MODE WORKLOAD: CPU milliseconds of one run, or FAIL.
ms() {
	l=$1 mode=$2 w=$3
	case $w in
	python3) set -- "$py" "$out/work.py" ;;
	perl) set -- perl -e 'my %h; for my $i (1..600000) { $h{$i % 5000} .= chr(97 + $i % 26) x ($i % 7) } my @k = sort { $a <=> $b } keys %h; my $s = 0; $s += length $h{$_} for @k; print scalar(@k), " $s\n"' ;;
	sqlite3) set -- sqlite3 :memory: "create table t(a integer primary key, b text); with recursive c(x) as (select 1 union all select x + 1 from c where x < 150000) insert into t select x, printf('%08d-%x', x * 7919 % 100000, x) from c; create index ib on t(b); select count(*), min(b), max(b) from t; delete from t where a % 2 = 0; vacuum;" ;;
	*) set -- "$out/bench" "$w" 1 ;;
	esac
	st=0
	if [ $use_perf = 1 ]; then
		env LD_PRELOAD="$l" MLALLOC_CHECK="$mode" perf stat -x, -e task-clock -o "$out/t" "$@" >/dev/null 2>"$out/err" || st=$?
		[ $st -ne 0 ] && { echo FAIL; return; }
		awk -F, '/task-clock/ { print $1 }' "$out/t"
	else
		env LD_PRELOAD="$l" MLALLOC_CHECK="$mode" /usr/bin/time -f '%U %S' -o "$out/t" "$@" >/dev/null 2>"$out/err" || st=$?
		[ $st -ne 0 ] && { echo FAIL; return; }
		awk '{ printf "%.1f\n", ($1 + $2) * 1000 }' "$out/t"
	fi
}

for i in $(seq "$rounds"); do
	for w in $workloads $progs; do
		echo "$w plain $(ms "$lib" 0 "$w")" >> "$out/results"
		echo "$w sample $(ms "$lib" sample "$w")" >> "$out/results"
		for r in $rates; do
			echo "$w $r $(ms "$lib" "sample:$r" "$w")" >> "$out/results"
			[ -n "$base" ] && echo "$w base:$r $(ms "$base" "sample:$r" "$w")" >> "$out/results"
		done
	done
	echo "round $i of $rounds done" >&2
done

python3 - "$out/results" "$rounds" "$use_perf" <<'PY'
import math, statistics, sys
path, rounds, perf = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
vals, order, modes = {}, [], []
for line in open(path):
    w, m, v = line.split()
    if w not in order:
        order.append(w)
    if m not in modes:
        modes.append(m)
    if v != 'FAIL':
        vals.setdefault((w, m), []).append(float(v))
label = {m: ('sample:' + m if m[0].isdigit() else 'sample (default)' if m == 'sample' else m) for m in modes}
print('%-13s' % 'CPU ms' + ''.join(' %20s' % label[m] for m in modes))
ratios = {}
for w in order:
    base = statistics.median(vals[(w, 'plain')])
    row = '%-13s' % w
    for m in modes:
        if (w, m) not in vals:
            row += ' %20s' % 'FAIL'
            continue
        med = statistics.median(vals[(w, m)])
        row += ' %10.1f %7.3fx ' % (med, med / base)
        ratios.setdefault(m, []).append(med / base)
    print(row)
print('\n%-18s %8s %8s' % ('mode', 'geomean', 'worst'))
for m in modes:
    if m == 'plain' or m not in ratios:
        continue
    g = math.exp(sum(math.log(x) for x in ratios[m]) / len(ratios[m]))
    print('%-18s %7.3fx %7.3fx' % (label[m], g, max(ratios[m])))
print('median of %s interleaved rounds, CPU time (%s), 1 thread' % (rounds, 'perf stat task-clock' if perf else 'user + system, 10 ms resolution'))
r = ratios.get('sample', [])
if r:
    g = math.exp(sum(math.log(x) for x in r) / len(r))
    print('%s sampled mode at the default rate %.3fx (geomean) <= 1.05x plain' % ('PASS' if g <= 1.05 else 'MISS', g))
    print('%s sampled mode at the default rate %.3fx (worst workload) <= 1.05x plain' % ('PASS' if max(r) <= 1.05 else 'MISS', max(r)))
PY
