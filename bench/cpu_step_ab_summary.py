#!/usr/bin/env python3
"""cpu_step_ab_summary.py OUTDIR: per phase of bench/cpu_step_ab.sh's runs, process CPU ms per step, old and new
(median and range), the median and range of the per-round new/old ratios, the wall ratio and the load range."""
import glob
import re
import statistics as st
import sys

data = {}
for f in glob.glob(sys.argv[1] + "/*.txt"):
    r, b = f.split("/")[-1][:-4].split("-")
    for m in re.finditer(r"\n(\w[^:\n]*): step wall ms median ([\d.]+).*?process CPU ms per step ([\d.]+); load ([\d.]+)", open(f).read()):
        data.setdefault(m.group(1), {}).setdefault(r, {})[b] = (float(m.group(2)), float(m.group(3)), float(m.group(4)))
for phase, rounds in data.items():
    pairs = [v for v in rounds.values() if len(v) == 2]
    cpu = [v["new"][1] / v["old"][1] for v in pairs]
    wall = [v["new"][0] / v["old"][0] for v in pairs]
    old = [v["old"][1] for v in rounds.values() if "old" in v]
    new = [v["new"][1] for v in rounds.values() if "new" in v]
    loads = [x[2] for v in rounds.values() for x in v.values()]
    print(f"{phase}: CPU ms/step old {st.median(old):.2f} ({min(old):.2f}-{max(old):.2f}) new {st.median(new):.2f} "
          f"({min(new):.2f}-{max(new):.2f}); new/old per round {st.median(cpu):.3f} ({min(cpu):.3f}-{max(cpu):.3f}); "
          f"wall new/old {st.median(wall):.3f}; rounds {len(cpu)}; load {min(loads)}-{max(loads)}")
