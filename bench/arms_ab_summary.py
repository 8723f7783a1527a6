"""Summarises bench/arms_ab.sh output: per arm and request count, the median and range of decode and prefill tok/s,
CPU seconds and peak RSS; and each arm's ratio to the BASE arm, paired within each round (median and range).
    python3 bench/arms_ab_summary.py runs.jsonl BASE_LABEL"""
import json
import statistics
import sys
from collections import defaultdict

path, base = sys.argv[1:3]
runs = defaultdict(dict)   # (requests, round) -> arm -> record
loads = []
for line in open(path):
    d = json.loads(line)
    runs[(d["requests"], d["round"])][d["arm"]] = d
    loads.append(d["load1"])
arms = sorted({a for v in runs.values() for a in v})


def fmt(values, digits=0):
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


metrics = [("decode tok/s", lambda d: d["run"]["decode_tokens_per_s"], 0),
           ("prefill tok/s", lambda d: d["run"]["prefill_tokens_per_s"], 0),
           ("CPU s per run", lambda d: d["cpu_s"], 1),
           ("peak RSS MiB", lambda d: d["max_rss_kb"] / 1024, 0)]
print(f"runs: {len(loads)}, 1-min load at run starts: {min(loads)}-{max(loads)}, median {statistics.median(loads)}")
print(f"| requests | metric | arm | median (range) | ÷ {base} per round, median (range) | rounds |")
print("|---|---|---|---|---|---|")
for reqs in [1, 32]:
    for name, get, digits in metrics:
        for arm in arms:
            rounds = [v for (q, _), v in sorted(runs.items()) if q == reqs and arm in v]
            if not rounds:
                continue
            values = [get(v[arm]) for v in rounds]
            ratios = [get(v[arm]) / get(v[base]) for v in rounds if base in v and get(v[base])]
            ratio = fmt(ratios, 2) + "×" if arm != base and ratios else "—"
            print(f"| {reqs} | {name} | {arm} | {fmt(values, digits)} | {ratio} | {len(values)} |")
