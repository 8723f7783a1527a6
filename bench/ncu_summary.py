#!/usr/bin/env python3
"""Per-kernel time of an engine run from Nsight Compute's CSV (`ncu --csv --metrics gpu__time_duration.sum ...`):
python3 bench/ncu_summary.py ncu.csv [steps]. Groups launches by kernel name (every cuBLASLt GEMM as one), prints total and mean time
and the share of all profiled time, largest first; with `steps`, also the time per step (the launches profiled
divided by that many steps)."""
import collections
import csv
import sys


def main(path: str, steps: int | None) -> None:
    rows = list(csv.DictReader(line for line in open(path) if line.startswith('"')))
    times: dict[str, list[float]] = collections.defaultdict(list)
    for r in rows:
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        value = float(r["Metric Value"].replace(",", ""))
        unit = r.get("Metric Unit", "nsecond")
        ns = value * {"ns": 1, "nsecond": 1, "us": 1e3, "usecond": 1e3, "ms": 1e6, "msecond": 1e6}[unit]
        name = r["Kernel Name"]
        name = "cuBLASLt GEMM (nvjet)" if name.startswith("nvjet") else name[:90]
        times[name].append(ns)
    total = sum(sum(v) for v in times.values())
    print(f"{sum(len(v) for v in times.values())} launches, {total / 1e6:.3f} ms of kernel time"
          + (f", {total / 1e3 / steps:.1f} us per step over {steps} steps" if steps else ""))
    print(f"{'share':>6} {'total ms':>9} {'launches':>8} {'mean us':>8}  kernel")
    for name, v in sorted(times.items(), key=lambda kv: -sum(kv[1])):
        s = sum(v)
        print(f"{100 * s / total:5.1f}% {s / 1e6:9.3f} {len(v):8d} {s / len(v) / 1e3:8.1f}  {name}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
