#!/usr/bin/env python3
"""One paged decode launch per shape, for Nsight Compute (ncu) to profile: python3 bench/ncu_decode.py B:L ..."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings" / "python"))
from folio import ops  # noqa: E402

for shape in sys.argv[1:] or ["8:8192", "64:8192"]:
    batch, ctx = (int(x) for x in shape.split(":"))
    hq, hkv, d, bs = 32, 8, 128, 16
    nb = batch * ctx // bs
    k = torch.empty(nb, hkv, bs, d, dtype=torch.bfloat16, device="cuda").normal_()
    v = torch.empty_like(k).normal_()
    table = torch.randperm(nb, device="cuda").view(batch, -1).int()
    lens = torch.full((batch,), ctx, dtype=torch.int32, device="cuda")
    q = torch.randn(batch, hq, d, device="cuda", dtype=torch.bfloat16)
    for _ in range(2):
        ops.paged_attention_decode(q, k, v, table, lens, ctx, layout="HND")
    torch.cuda.synchronize()
    print(shape, "splits workspace bytes", ops.decode_workspace_size(batch, hq, hkv, d, ctx))
