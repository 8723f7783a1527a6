"""Summarises bench/cpu_gemm_ab.sh output: per precision and batch, new/old ratios of the paired runs of each round
(median and range) and each build's median and range, for decode and prefill tok/s.
    python3 bench/cpu_gemm_ab_summary.py runs.jsonl OLD_CLI_DIR NEW_CLI_DIR"""
import json
import statistics
import sys
from collections import defaultdict

path, old, new = sys.argv[1:4]
runs = defaultdict(dict)   # (precision, requests, round) -> cli -> run
loads = []
for line in open(path):
    d = json.loads(line)
    runs[(d["precision_arg"], d["requests"], d["round"])][d["cli"]] = d["run"]
    runs[(d["precision_arg"], d["requests"], d["round"])][d["cli"] + "#cpu"] = d["cpu_s"]
    loads.append(d["load1"])


def fmt(values):
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


print(f"runs: {len(loads)}, 1-min load at run starts: {min(loads)}-{max(loads)}, median {statistics.median(loads)}")
print("| precision | requests | metric | old tok/s median (range) | new tok/s median (range) | new/old per round, median (range) | rounds |")
print("|---|---|---|---|---|---|---|")
for precision in ["fp32", "bf16", "int8", "int4"]:
    for reqs in [32, 1]:
        if not any(p == precision and q == reqs for p, q, _ in runs):
            continue   # not run (cpu_gemm_ab.sh's PRECISIONS)
        for metric in ["decode_tokens_per_s", "prefill_tokens_per_s"]:
            pairs = [(v[old][metric], v[new][metric]) for (p, q, _), v in sorted(runs.items()) if p == precision and q == reqs and old in v and new in v]
            if not pairs:
                continue
            ratios = [n / o for o, n in pairs]
            print(f"| {precision} | {reqs} | {metric.split('_')[0]} | {fmt([o for o, _ in pairs])} | {fmt([n for _, n in pairs])} | "
                  f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f}) | {len(pairs)} |")
        cpu = [(v[old + "#cpu"], v[new + "#cpu"]) for (p, q, _), v in sorted(runs.items()) if p == precision and q == reqs and old in v and new in v]
        ratios = [o / n for o, n in cpu]
        print(f"| {precision} | {reqs} | CPU s per run (user+sys, whole process) | {statistics.median([o for o, _ in cpu]):.1f} ({min(o for o, _ in cpu):.1f}-{max(o for o, _ in cpu):.1f}) | "
              f"{statistics.median([n for _, n in cpu]):.1f} ({min(n for _, n in cpu):.1f}-{max(n for _, n in cpu):.1f}) | old/new {statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f}) | {len(cpu)} |")
