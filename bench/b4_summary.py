"""Summarises bench/b4_ab.sh output: per configuration and CLI the median p50 (range), and with a base CLI the
per-round ratios to it (runs of one round are adjacent in time, so their ratio is the fairest comparison here)."""
import collections
import statistics
import sys

runs = collections.defaultdict(dict)
p50 = collections.defaultdict(list)
allocs = collections.defaultdict(list)
loads = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 10:
        continue
    rnd, cli, cfg, us = f[0], f[1], f[2], float(f[3])
    runs[(rnd, cfg)][cli] = us
    p50[(cfg, cli)].append(us)
    allocs[(cfg, cli)].append(float(f[7]))
    loads.append(float(f[9]))
for (cfg, cli), v in sorted(p50.items()):
    print(f"{cfg:6} {cli:28} n={len(v)} median {statistics.median(v):6.1f}  range {min(v):6.1f}-{max(v):6.1f}"
          f"  Step() bytes/step max {max(allocs[(cfg, cli)]):g}")
if len(sys.argv) > 2:
    base = sys.argv[2]
    ratios = collections.defaultdict(list)
    for (rnd, cfg), by_cli in sorted(runs.items()):
        for cli, us in by_cli.items():
            if cli != base and base in by_cli:
                ratios[(cfg, cli)].append(us / by_cli[base])
    for (cfg, cli), r in sorted(ratios.items()):
        print(f"{cfg:6} {cli:28} / base: " + " ".join(f"{x:.2f}" for x in r) + f"  median {statistics.median(r):.3f}")
print(f"1-min load average at run starts: {min(loads)}-{max(loads)}")
