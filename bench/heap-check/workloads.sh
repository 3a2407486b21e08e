# SPDX-License-Identifier: MIT
# bench/heap-check/workloads.sh: sourced by run.sh and sample-rates.sh, the
# workloads both time: hc_workloads OUT builds bench/alloc/bench.c into
# OUT/bench (malloc and friends not builtins, so every call reaches the
# allocator) and writes OUT/work.py, the python3 workload (dicts, strings,
# regexes, json).  Needs $top (the checkout) and cc.
hc_nb="-fno-builtin-malloc -fno-builtin-free -fno-builtin-realloc -fno-builtin-calloc"

hc_workloads() {
	cc -O2 -g -pthread $hc_nb "$top/bench/alloc/bench.c" -o "$1/bench" -lm
	cat > "$1/work.py" <<'PY'
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
}
