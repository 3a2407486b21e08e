#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/heap-check/run.sh [RUNS]: the cost of mlalloc's checking mode
# (MLALLOC_CHECK, alloc/README.md) against valgrind memcheck and
# AddressSanitizer, measured in one run, interleaved RUNS times (default 3).
# Workloads: WORKLOADS of bench/alloc/bench.c (1 thread) and a real program
# (python3, the script of alloc/tests/preload-programs.sh's python3 case,
# smaller).  Modes: plain (mlalloc, mode off), full (MLALLOC_CHECK=full),
# sampled (sample:RATE; without RATE 'sample', the default rate), memcheck (valgrind, the program as
# built, glibc malloc replaced by memcheck's), asan (bench.c rebuilt with
# -fsanitize=address; none for python3).  Prints the median CPU time
# (user + system) per mode and its ratio to plain, then PASS/MISS against
# the targets of issue 14: full <= 3x plain and >= 10x faster than
# memcheck, sampled <= 1.05x plain (geomeans over the workloads).
# Then the detection table: the corpus of tests/heapcheck/heapbug.c under
# mlalloc full, sampled with rate 1, memcheck and ASan.
# Env: BUILD (meson build dir, default build), WORKLOADS, RATE, TIMEOUT
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
lib=$build/alloc/libmlalloc.so
[ -f "$lib" ] || { echo "no $lib: build first (meson compile -C $build)"; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
nb="-fno-builtin-malloc -fno-builtin-free -fno-builtin-realloc -fno-builtin-calloc"
cc -O2 -g -pthread $nb "$top/bench/alloc/bench.c" -o "$out/bench" -lm
cc -O2 -g -pthread $nb -fsanitize=address "$top/bench/alloc/bench.c" -o "$out/bench-asan" -lm
cat > "$out/work.py" <<'PY'
import json, random, re, collections
r = random.Random(7)
d = {}
for i in range(60000):
    k = r.randrange(6000)
    d[k] = d.get(k, "") + chr(97 + i % 26) * r.randrange(1, 40)
    if i % 7 == 0: d.pop(r.randrange(6000), None)
words = re.findall(r"[a-z]+", " ".join(sorted(d.values())[:3000]))
print(len(d), len(words), collections.Counter(w[:3] for w in words).most_common(3))
print(json.dumps({"k": list(range(10)), "s": "x" * 100})[:60])
PY

# cpu MODE WORKLOAD: CPU seconds of one run (user + sys of the process
# and its children), "TIMEOUT" or "FAIL".
cpu() {
	mode=$1 w=$2
	if [ "$w" = python3 ]; then set -- python3 "$out/work.py"; else set -- "$out/bench" "$w" 1; fi
	case $mode in
	plain) set -- env LD_PRELOAD="$lib" "$@" ;;
	full) set -- env LD_PRELOAD="$lib" MLALLOC_CHECK=full "$@" ;;
	sampled) set -- env LD_PRELOAD="$lib" MLALLOC_CHECK="sample${rate:+:$rate}" "$@" ;;
	memcheck) set -- valgrind -q --tool=memcheck --error-exitcode=0 "$@" ;;
	asan) [ "$w" = python3 ] && { echo "n/a"; return; }
	      set -- env ASAN_OPTIONS=detect_leaks=0 "$out/bench-asan" "$w" 1 ;;
	esac
	st=0
	/usr/bin/time -f '%U %S' -o "$out/t" timeout "$tmo" "$@" >/dev/null 2>"$out/err" || st=$?
	[ $st -eq 124 ] && { echo TIMEOUT; return; }
	[ $st -ne 0 ] && { echo FAIL; return; }
	awk '{ printf "%.4f\n", $1 + $2 }' "$out/t"
}

modes="plain full sampled memcheck asan"
for i in $(seq "$runs"); do
	for w in $workloads python3; do
		for m in $modes; do
			echo "$w $m $(cpu "$m" "$w")" >> "$out/results"
		done
	done
	echo "repetition $i of $runs done" >&2
done

# Medians, ratios, geomeans, PASS/MISS.
python3 - "$out/results" "$modes" "${rate:-default}" "$runs" <<'PY'
import math, statistics, sys
path, modes, rate, runs = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
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
print('%-14s' % 'CPU time' + ''.join(' %18s' % names[m] for m in modes))
logs, mc = {}, []
for w in order:
    row, base = '%-14s' % w, statistics.median(vals[(w, 'plain')]) if (w, 'plain') in vals else 0
    for m in modes:
        if (w, m) not in vals:
            row += ' %18s' % bad.get((w, m), 'n/a')
            continue
        med = statistics.median(vals[(w, m)])
        row += ' %9.3fs %6.1fx' % (med, med / base if base else 0)
        if m != 'plain' and base:
            logs.setdefault(m, []).append(math.log(med / base))
    print(row)
    if (w, 'full') in vals and (w, 'memcheck') in vals:
        mc.append(math.log(statistics.median(vals[(w, 'memcheck')]) / statistics.median(vals[(w, 'full')])))
g = {m: math.exp(sum(l) / len(l)) for m, l in logs.items()}
print('\ngeomean/plain  ' + '  '.join('%s %.2fx' % (names[m], g[m]) for m in modes if m in g))
print('median of %s interleaved runs, CPU time (user + system), 1 thread; TIMEOUT/FAIL runs are left out\n' % runs)
gm = math.exp(sum(mc) / len(mc)) if mc else 0
gf, gs = g.get('full', float('inf')), g.get('sampled', float('inf'))
print('%s full mode %.2fx <= 3x plain' % ('PASS' if gf <= 3 else 'MISS', gf))
print('%s full mode %.1fx faster than memcheck >= 10x' % ('PASS' if gm >= 10 else 'MISS', gm))
print('%s sampled mode %.3fx <= 1.05x plain' % ('PASS' if gs <= 1.05 else 'MISS', gs))
PY

# Detection: each case of the corpus under the four tools.
echo
cc -O0 -g -pthread $nb "$top/tests/heapcheck/heapbug.c" -o "$out/heapbug" 2>/dev/null
cc -O0 -g -pthread $nb -fsanitize=address "$top/tests/heapcheck/heapbug.c" -o "$out/heapbug-asan" 2>/dev/null
cases="uaf-read-large uaf-write-small overflow-large overflow-small underflow-small double-free-small double-free-large invalid-free-small calloc-overflow realloc-uaf memalign-overflow uaf-read-large-thread leaks"
printf "| case | mlalloc full | mlalloc sample:1 | memcheck | ASan |\n|---|---|---|---|---|\n"
exec 3>&2 2>/dev/null   # the shell's "Segmentation fault" lines
for c in $cases; do
	lk=""; [ "$c" = leaks ] && lk=",leaks"
	f=$(MLALLOC_CHECK=full$lk LD_PRELOAD="$lib" "$out/heapbug" "$c" 2>&1 >/dev/null | sed -n 's/^mlalloc: \([a-z-]*\):.*/\1/p' | head -1)
	s=$(MLALLOC_CHECK=sample:1$lk LD_PRELOAD="$lib" "$out/heapbug" "$c" 2>&1 >/dev/null | sed -n 's/^mlalloc: \([a-z-]*\):.*/\1/p' | head -1)
	v=$(valgrind --leak-check=full "$out/heapbug" "$c" 2>&1 >/dev/null | grep -oE "Invalid (read|write|free\(\))|definitely lost: [1-9][0-9,]* bytes|Mismatched" | head -1)
	a=$(ASAN_OPTIONS=detect_leaks=1 "$out/heapbug-asan" "$c" 2>&1 >/dev/null | grep -oE "ERROR: (AddressSanitizer|LeakSanitizer): [a-z-]+( [a-z-]+)?" | head -1 | sed 's/ERROR: [A-Za-z]*: //')
	printf "| %s | %s | %s | %s | %s |\n" "$c" "${f:-missed}" "${s:-missed}" "${v:-missed}" "${a:-missed}"
done
exec 2>&3
