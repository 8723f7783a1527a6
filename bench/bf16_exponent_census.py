"""How often a bf16 checkpoint's k rows fall outside CodedBf16Weight's exponent tables (docs/CPU_MODELS.md).

  python3 bench/bf16_exponent_census.py MODEL_DIR/model.safetensors

Per MatMul weight [out, in] in BF16: panels of 32 output rows; per panel the 15 most frequent nonzero exponents (ties to the
larger) are its table (exponent 0 always codes); a k row (32 values, one per output row of the panel) is an exception when any
value's exponent is outside. Prints exception rows / all rows and the bytes they add relative to 12 bits a value
(68 bytes each: 16 words and the row index). Needs numpy (Debian: python3-numpy, run with /usr/bin/python3).
"""
import json
import struct
import sys

import numpy as np

path = sys.argv[1]
f = open(path, "rb")
n = struct.unpack("<Q", f.read(8))[0]
header = json.loads(f.read(n))
base = 8 + n
rows_all = exceptions = values = 0
worst = []
for name, t in sorted(header.items()):
    if name == "__metadata__" or t["dtype"] != "BF16" or len(t["shape"]) != 2:
        continue
    a, b = t["data_offsets"]
    f.seek(base + a)
    raw = np.frombuffer(f.read(b - a), dtype=np.uint16).reshape(t["shape"])
    exps = ((raw >> 7) & 0xFF).astype(np.int64)
    out, k = raw.shape
    panels = out // 32          # whole panels only (a partial last one is zero-padded in the engine)
    g = exps[: panels * 32].reshape(panels, 32, k)
    bad = np.zeros((panels, k), dtype=bool)
    for p in range(panels):
        counts = np.bincount(g[p].ravel(), minlength=256)
        counts[0] = 0
        ok = np.zeros(256, dtype=bool)
        ok[0] = True
        ok[np.lexsort((-np.arange(256), -counts))[:15]] = True   # most frequent first, ties to the larger exponent
        ok &= (counts > 0) | (np.arange(256) == 0)
        bad[p] = (~ok[g[p]]).any(axis=0)
    e = int(bad.sum())
    exceptions += e
    rows_all += panels * k
    values += panels * 32 * k
    worst.append((e / (panels * k), name))
print(f"{path}: exception rows {exceptions} of {rows_all} ({exceptions / rows_all:.2e}); "
      f"their bytes {exceptions * 68 / (values * 1.5):.2e} of the coded weights")
for share, name in sorted(worst, reverse=True)[:5]:
    print(f"  {share:.2e} {name}")
