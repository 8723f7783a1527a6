"""Per-instruction samples of one JIT-compiled method: `perf` samples joined to the JIT's own listing.

  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -F 5000 -o perf.data dotnet DIR/folio.dll bench ...
  DOTNET_JitDisasm="ScheduleRunning" DOTNET_JitDisasmWithCodeBytes=1 DOTNET_JitStdOutFile=listing.txt \
      dotnet DIR/folio.dll bench --executor fake --max-num-seqs 64 --requests 200
  python3 bench/perf_hot.py perf.data "Scheduler::ScheduleRunning" listing.txt

The method's start comes from the run's /tmp/perf-PID.map; offsets from the listing's code bytes, resynchronised at
each block label's `offset=`. The CLI runs FullOpts code (no tiering), so both runs compile the same code. perf on
this VM samples cpu-clock (no PMU): a sample lands on the instruction after the one that stalled (skid).
"""
import collections
import re
import subprocess
import sys

data, meth, listing = sys.argv[1], sys.argv[2], sys.argv[3]
out = subprocess.run(["perf", "script", "-i", data, "-F", "pid,ip,sym"], capture_output=True, text=True).stdout
counts = collections.Counter(); pid = None; total = 0
for line in out.splitlines():
    f = line.split(None, 2)
    if len(f) < 3: continue
    total += 1
    if meth in f[2]:
        pid = f[0]; counts[int(f[1], 16)] += 1
start = None
for l in open(f"/tmp/perf-{pid}.map"):
    a, size, name = l.split(" ", 2)
    if meth in name: start = int(a, 16); break
# listing: lines like "       488B4110             mov      rax, ..." ; labels "G_M...:"
lines = open(listing).read().splitlines()
# find the method block
begin = next(i for i, l in enumerate(lines) if "Assembly listing for method" in l and meth.split("::")[-1].split("(")[0] in l)
off = 0; rows = []
for l in lines[begin:]:
    if l.startswith("; Total bytes of code"): break
    m = re.match(r"^\s+([0-9A-F]{2,})\s{2,}(\S.*)$", l)
    if m and not l.strip().startswith(";"):
        n = len(m.group(1)) // 2
        rows.append((off, n, m.group(2).strip())); off += n
    elif l.strip() and not l.strip().startswith(";"):
        mm = re.search(r";; offset=0x([0-9A-F]+)", l)
        if mm: off = int(mm.group(1), 16)
        else:
            m2 = re.match(r"^\s+([0-9A-F]{2,})\s+(\S.*)$", l)
            if m2:
                n = len(m2.group(1)) // 2; rows.append((off, n, m2.group(2).strip())); off += n; continue
        rows.append((None, 0, l.strip()))
msum = sum(counts.values())
print(f"{meth}: {msum} samples of {total} ({100*msum/total:.2f}%), code {off} bytes")
for o, n, text in rows:
    if o is None: print(f"{'':14}{text}"); continue
    c = sum(counts.get(start + o + k, 0) for k in range(n))
    print(f"{o:5x} {c:5d} {100*c/max(msum,1):5.1f}%  {text}")
