#!/bin/sh
# bench/alloc/run.sh [RUNS]: time the workloads of bench.c under glibc malloc,
# mlalloc, and jemalloc, mimalloc and tcmalloc where Debian has them
# (installed with apt-get if missing and we are root), all in one run, each
# through LD_PRELOAD.  Prints the median of RUNS runs (default 5) per
# workload and allocator, and each allocator's median over glibc's (lower is
# faster).  Env: BUILD (meson build dir, default build-alloc), THREADS (2).
# Benchmarks, not tests: nothing here fails on a slow result.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
runs=${1:-5}
build=${BUILD:-$top/build-alloc}
threads=${THREADS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$build/alloc/libmlalloc.so" ]; then
	[ -d "$build" ] || meson setup "$build" "$top" >/dev/null
	meson compile -C "$build" mlalloc >/dev/null
fi
mlalloc=$build/alloc/libmlalloc.so
cc -O2 -pthread -fno-builtin-malloc -fno-builtin-free -fno-builtin-realloc \
	"$here/bench.c" -o "$out/bench"

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
allocs="glibc:"
allocs="$allocs mlalloc:$mlalloc"
for line in $want; do
	name=$(echo "$line" | cut -d: -f1); f=$(echo "$line" | cut -d: -f2)
	if [ -f "$f" ]; then allocs="$allocs $name:$f"; else echo "$name: not installed, left out" >&2; fi
done

workloads="cfrac espresso larson xmalloc cache-scratch large"
for w in $workloads; do
	i=0
	while [ $i -lt "$runs" ]; do   # interleaved, so drift hits all alike
		for a in $allocs; do
			name=${a%%:*}; lib=${a#*:}
			if [ -n "$lib" ]; then
				LD_PRELOAD=$lib "$out/bench" "$w" "$threads" | awk '{print $2}' >> "$out/$w.$name"
			else
				"$out/bench" "$w" "$threads" | awk '{print $2}' >> "$out/$w.$name"
			fi
		done
		i=$((i + 1))
	done
done

median() { sort -g "$1" | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
printf '%-14s' "workload"
for a in $allocs; do printf '%20s' "${a%%:*}"; done
printf '\n'
for w in $workloads; do
	base=$(median "$out/$w.glibc")
	printf '%-14s' "$w"
	for a in $allocs; do
		m=$(median "$out/$w.${a%%:*}")
		printf '%20s' "$(awk -v m="$m" -v b="$base" 'BEGIN {printf "%.3fs (%.2fx)", m, m / b}')"
	done
	printf '\n'
done
echo "median of $runs runs, $threads threads; (x) = time / glibc time, lower is faster"
