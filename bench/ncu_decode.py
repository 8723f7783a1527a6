#!/usr/bin/env python3
"""Decode launches for Nsight Compute (ncu) to profile: python3 bench/ncu_decode.py [--sdpa] [--mha] B:L ...

Two Folio paged decode launches per shape (HND, GQA 32:8 unless --mha); with --sdpa, two launches of PyTorch
SDPA on the same K/V made contiguous instead (the baseline's kernels, for a side-by-side profile)."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings" / "python"))
from folio import ops  # noqa: E402

import torch.nn.functional as F  # noqa: E402

flags = {a for a in sys.argv[1:] if a.startswith("--")}
for shape in [a for a in sys.argv[1:] if not a.startswith("--")] or ["8:8192", "64:8192"]:
    batch, ctx = (int(x) for x in shape.split(":"))
    hq, hkv, d, bs = 32, 32 if "--mha" in flags else 8, 128, 16
    nb = batch * ctx // bs
    k = torch.empty(nb, hkv, bs, d, dtype=torch.bfloat16, device="cuda").normal_()
    v = torch.empty_like(k).normal_()
    table = torch.randperm(nb, device="cuda").view(batch, -1).int()
    lens = torch.full((batch,), ctx, dtype=torch.int32, device="cuda")
    q = torch.randn(batch, hq, d, device="cuda", dtype=torch.bfloat16)
    if "--sdpa" in flags:
        def contiguous(cache):
            return cache[table.long()].permute(0, 2, 1, 3, 4).reshape(batch, hkv, ctx, d)
        kc, vc = contiguous(k), contiguous(v)
        del k, v
        for _ in range(2):
            F.scaled_dot_product_attention(q.unsqueeze(2), kc, vc, enable_gqa=hq != hkv)
        torch.cuda.synchronize()
        print(shape, "sdpa")
        continue
    for _ in range(2):
        ops.paged_attention_decode(q, k, v, table, lens, ctx, layout="HND")
    torch.cuda.synchronize()
    print(shape, "splits workspace bytes", ops.decode_workspace_size(batch, hq, hkv, d, ctx))
