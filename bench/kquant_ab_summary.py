"""Summarises bench/kquant_ab.sh output: per file and batch, new/old ratios of the paired runs of each round (median
and range) and each build's median and range, for decode and prefill tok/s, the weight bytes and peak RSS.
    python3 bench/kquant_ab_summary.py runs.jsonl OLD_CLI_DIR NEW_CLI_DIR"""
import json
import statistics
import sys
from collections import defaultdict

path, old, new = sys.argv[1:4]
runs = defaultdict(dict)   # (file, requests, round) -> cli -> record
loads = []
for line in open(path):
    d = json.loads(line)
    runs[(d["file"], d["requests"], d["round"])][d["cli"]] = d
    loads.append(d["load1"])


def fmt(values, digits=0):
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


print(f"runs: {len(loads)}, 1-min load at run starts: {min(loads)}-{max(loads)}, median {statistics.median(loads)}")
print("| file | requests | metric | old median (range) | new median (range) | new/old per round, median (range) | rounds |")
print("|---|---|---|---|---|---|---|")
for f in sorted({k[0] for k in runs}):
    for reqs in [1, 32]:
        pairs = [(v[old], v[new]) for (ff, q, _), v in sorted(runs.items()) if ff == f and q == reqs and old in v and new in v]
        if not pairs:
            continue
        metrics = [("decode tok/s", lambda d: d["run"]["decode_tokens_per_s"]), ("prefill tok/s", lambda d: d["run"]["prefill_tokens_per_s"]),
                   ("CPU s per run", lambda d: d["cpu_s"]), ("peak RSS MiB", lambda d: d["max_rss_kb"] / 1024),
                   ("weight MiB", lambda d: d["run"]["weight_bytes"] / 2**20)]
        for name, get in metrics:
            o = [get(a) for a, _ in pairs]
            n = [get(b) for _, b in pairs]
            ratios = [y / x for x, y in zip(o, n)]
            digits = 1 if name.startswith("CPU") else 0
            print(f"| {f} | {reqs} | {name} | {fmt(o, digits)} | {fmt(n, digits)} | {statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f}) | {len(pairs)} |")
