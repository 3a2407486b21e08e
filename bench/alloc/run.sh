#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/alloc/run.sh [RUNS]: run the workloads of bench.c and the traces of
# traces.c under glibc malloc, mlalloc, jemalloc, mimalloc and tcmalloc
# (Debian libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4; installed with
# apt-get if missing and we are root), all in one run, each through
# LD_PRELOAD, RUNS times (default 5) interleaved: every repetition runs every
# workload under every allocator, so drift and load hit all alike.
# Prints per workload and allocator the median time and the median peak RSS
# with their ratios to glibc, the geometric means of those ratios (and of
# CPU time, user + system of all threads, which load on a shared machine
# disturbs less than wall time; the targets are on wall time), the
# space utilization of each trace (peak live payload / heap growth) and its
# average, then PASS/MISS against the targets of issue 5:
#   mlalloc's time geomean <= mimalloc's, no workload slower than glibc,
#   mlalloc's peak-RSS geomean <= 1.1x glibc's, utilization average >= 90%.
# Env: BUILD (meson build dir, default build-alloc), THREADS (2),
# WORKLOADS / TRACES (space-separated subsets), BASE (a second build dir,
# e.g. of the commit before a change: its mlalloc runs as "mlalloc-base",
# interleaved with the others, and the geomeans of mlalloc over it are
# printed; an A/B comparison that load hits alike on both sides),
# MIMALLOC_SECURE (a libmimalloc-secure.so, as bench/alloc/mimalloc-secure
# builds: it runs as "mimalloc-secure", interleaved, and a line gives
# mlalloc's geomeans against it; the targets stay on Debian's mimalloc).
# Benchmarks, not tests: a MISS is printed, the exit status stays 0.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
runs=${1:-5}
build=${BUILD:-$top/build-alloc}
threads=${THREADS:-2}
workloads=${WORKLOADS:-"cfrac espresso larson xmalloc cache-scratch glibc-simple glibc-thread alloc-test large malloc-large"}
traces=${TRACES:-"binary binary2 coalesce random realloc phases"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$build/alloc/libmlalloc.so" ]; then
	[ -d "$build" ] || meson setup "$build" "$top" >/dev/null
	meson compile -C "$build" mlalloc >/dev/null
fi
mlalloc=$build/alloc/libmlalloc.so
base=${BASE:-}
secure=${MIMALLOC_SECURE:-}
if [ -n "$secure" ] && [ ! -f "$secure" ]; then
	echo "MIMALLOC_SECURE=$secure: no such file (bench/alloc/mimalloc-secure builds it)" >&2
	exit 1
fi
if [ -n "$base" ] && [ ! -f "$base/alloc/libmlalloc.so" ]; then
	[ -d "$base" ] || meson setup "$base" "$top" >/dev/null
	meson compile -C "$base" mlalloc >/dev/null
fi
nobuiltin="-fno-builtin-malloc -fno-builtin-free -fno-builtin-realloc -fno-builtin-calloc"
cc -O2 -pthread $nobuiltin "$here/bench.c" -o "$out/bench" -lm
cc -O2 $nobuiltin "$here/traces.c" -o "$out/traces" -lm

libdir=/usr/lib/x86_64-linux-gnu
want="jemalloc:$libdir/libjemalloc.so.2:libjemalloc2
mimalloc:$libdir/libmimalloc.so.2:libmimalloc2.0
tcmalloc:$libdir/libtcmalloc_minimal.so.4:libtcmalloc-minimal4"
missing=""
for line in $want; do
	f=$(echo "$line" | cut -d: -f2); pkg=$(echo "$line" | cut -d: -f3)
	[ -f "$f" ] || missing="$missing $pkg"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing$missing" >&2
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null 2>&1 ||
		echo "apt-get install failed; running without them" >&2
fi
allocs="glibc: mlalloc:$mlalloc"
[ -z "$base" ] || allocs="$allocs mlalloc-base:$base/alloc/libmlalloc.so"
for line in $want; do
	name=$(echo "$line" | cut -d: -f1); f=$(echo "$line" | cut -d: -f2)
	if [ -f "$f" ]; then allocs="$allocs $name:$f"; else echo "$name: not installed, left out" >&2; fi
done
[ -z "$secure" ] || allocs="$allocs mimalloc-secure:$secure"

# One line per run: "w NAME ALLOC seconds peak-rss-KiB cpu-seconds" or
# "t NAME ALLOC seconds peak-rss-KiB utilization".
run_one() {   # kind prog arg alloc lib
	if [ -n "$5" ]; then r=$(LD_PRELOAD=$5 "$2" "$3" "$threads") || r=""; else r=$("$2" "$3" "$threads") || r=""; fi
	[ -n "$r" ] || { echo "$3 under $4 failed" >&2; return 0; }
	echo "$r" | awk -v k="$1" -v a="$4" '{ $1 = k " " $1 " " a; print }' >> "$out/results"
}
i=0
while [ $i -lt "$runs" ]; do
	for w in $workloads; do
		for a in $allocs; do run_one w "$out/bench" "$w" "${a%%:*}" "${a#*:}"; done
	done
	for t in $traces; do
		for a in $allocs; do run_one t "$out/traces" "$t" "${a%%:*}" "${a#*:}"; done
	done
	i=$((i + 1))
	echo "repetition $i of $runs done" >&2
done

names=""
for a in $allocs; do names="$names ${a%%:*}"; done
awk -v names="$names" -v runs="$runs" -v threads="$threads" '
function median(list,    n, v, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
	key = $1 SUBSEP $2 SUBSEP $3
	tm[key] = tm[key] " " $4; rs[key] = rs[key] " " $5; cnt[key]++
	if ($1 == "t") ut[key] = ut[key] " " $6; else ct[key] = ct[key] " " $6
	if (!(($1, $2) in seen)) { seen[$1, $2] = 1; order[$1] = order[$1] " " $2 }
}
END {
	for (k in cnt)
		if (cnt[k] != runs) {
			split(k, part, SUBSEP)
			printf "warning: %s under %s: %d results of %d (a run failed)\n", part[2], part[3], cnt[k], runs
		}
	na = split(names, al, " ")
	nw = split(order["w"], wl, " ")
	printf "%-14s", "time"
	for (j = 1; j <= na; j++) printf "%17s", al[j]
	printf "\n"
	worst = 0
	for (i = 1; i <= nw; i++) {
		w = wl[i]; base = median(tm["w", w, "glibc"])
		printf "%-14s", w
		for (j = 1; j <= na; j++) {
			m = median(tm["w", w, al[j]]); r = m / base
			lt[al[j]] += log(r)
			printf "%17s", sprintf("%.3fs %.2fx", m, r)
			if (al[j] == "mlalloc" && r > worst) { worst = r; worstw = w }
		}
		printf "\n"
	}
	printf "\n%-14s", "CPU time"
	for (j = 1; j <= na; j++) printf "%17s", al[j]
	printf "\n"
	for (i = 1; i <= nw; i++) {
		w = wl[i]; base = median(ct["w", w, "glibc"])
		printf "%-14s", w
		for (j = 1; j <= na; j++) {
			m = median(ct["w", w, al[j]]); r = m / base
			lc[al[j]] += log(r)
			printf "%17s", sprintf("%.3fs %.2fx", m, r)
		}
		printf "\n"
	}
	printf "\n%-14s", "peak RSS"
	for (j = 1; j <= na; j++) printf "%17s", al[j]
	printf "\n"
	for (i = 1; i <= nw; i++) {
		w = wl[i]; base = median(rs["w", w, "glibc"])
		printf "%-14s", w
		for (j = 1; j <= na; j++) {
			m = median(rs["w", w, al[j]]); r = m / base
			lr[al[j]] += log(r)
			printf "%17s", sprintf("%.1fM %.2fx", m / 1024, r)
		}
		printf "\n"
	}
	printf "\n%-14s", "geomean/glibc"
	for (j = 1; j <= na; j++) printf "%17s", al[j]
	printf "\n%-14s", "time"
	for (j = 1; j <= na; j++) { gt[al[j]] = exp(lt[al[j]] / nw); printf "%17.3f", gt[al[j]] }
	printf "\n%-14s", "CPU time"
	for (j = 1; j <= na; j++) printf "%17.3f", exp(lc[al[j]] / nw)
	printf "\n%-14s", "peak RSS"
	for (j = 1; j <= na; j++) { gr[al[j]] = exp(lr[al[j]] / nw); printf "%17.3f", gr[al[j]] }
	nt = split(order["t"], tl, " ")
	printf "\n\n%-14s", "utilization"
	for (j = 1; j <= na; j++) printf "%17s", al[j]
	printf "\n"
	for (i = 1; i <= nt; i++) {
		t = tl[i]
		printf "%-14s", t
		for (j = 1; j <= na; j++) {
			u = median(ut["t", t, al[j]]); su[al[j]] += u
			printf "%17s", sprintf("%.1f%%", 100 * u)
		}
		printf "\n"
	}
	printf "%-14s", "average"
	for (j = 1; j <= na; j++) printf "%17s", nt ? sprintf("%.1f%%", 100 * su[al[j]] / nt) : "-"
	printf "\n\nmedian of %d interleaved runs, %d threads; time and RSS ratios are to glibc (lower is better);\n", runs, threads
	printf "utilization = peak live payload / resident-set growth during the trace replay\n\n"
	if ("mlalloc-base" in gt)
		printf "mlalloc / mlalloc-base: time geomean %.3f, CPU time geomean %.3f\n", gt["mlalloc"] / gt["mlalloc-base"], exp((lc["mlalloc"] - lc["mlalloc-base"]) / nw)
	if ("mimalloc" in gt)
		printf "%s time geomean %.3f <= mimalloc %.3f\n", (gt["mlalloc"] <= gt["mimalloc"] ? "PASS" : "MISS"), gt["mlalloc"], gt["mimalloc"]
	printf "%s no workload slower than glibc (slowest: %s %.2fx)\n", (worst <= 1 ? "PASS" : "MISS"), worstw, worst
	printf "%s peak RSS geomean %.3f <= 1.1x glibc\n", (gr["mlalloc"] <= 1.1 ? "PASS" : "MISS"), gr["mlalloc"]
	if (nt)
		printf "%s utilization average %.1f%% >= 90%%\n", (su["mlalloc"] / nt >= 0.9 ? "PASS" : "MISS"), 100 * su["mlalloc"] / nt
	if ("mimalloc-secure" in gt)
		printf "info mlalloc time geomean %.3f, mimalloc-secure %.3f: %.3fx (CPU time %.3fx), not a target\n", gt["mlalloc"], gt["mimalloc-secure"], gt["mlalloc"] / gt["mimalloc-secure"], exp((lc["mlalloc"] - lc["mimalloc-secure"]) / nw)
}' "$out/results"
