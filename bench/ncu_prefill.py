#!/usr/bin/env python3
"""Two paged prefill launches (8 x 4k causal, 32:8 heads, d128, bf16, block 16; NHD, or HND with --hnd) for
Nsight Compute: ncu --launch-skip 1 --launch-count 1 ... python3 bench/ncu_prefill.py [--hnd | --sdpa] (the
second launch is the profiled one). --sdpa: two launches of PyTorch SDPA (GQA, causal) on the same data made
contiguous instead, to profile the kernel Folio's prefill is compared with."""
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from folio import ops  # noqa: E402
from kernels import contiguous_kv, hnd_copy  # noqa: E402  (bench/kernels.py)

seqs, ctx, hq, hkv, d, bs = 8, 4096, 32, 8, 128, 16
nb = seqs * ctx // bs
k = torch.empty(nb, bs, hkv, d, dtype=torch.bfloat16, device="cuda").normal_()
v = torch.empty_like(k).normal_()
table = torch.randperm(nb, device="cuda").view(seqs, -1).int()
q = torch.empty(seqs * ctx, hq, d, dtype=torch.bfloat16, device="cuda").normal_()
cu = torch.arange(0, seqs + 1, dtype=torch.int32, device="cuda") * ctx
lens = torch.full((seqs,), ctx, dtype=torch.int32, device="cuda")
out = torch.empty_like(q)
if "--sdpa" in sys.argv[1:]:
    q4 = q.view(seqs, ctx, hq, d).transpose(1, 2).contiguous()
    kc, vc = contiguous_kv(k, table, seqs, ctx), contiguous_kv(v, table, seqs, ctx)
    for _ in range(2):
        F.scaled_dot_product_attention(q4, kc, vc, is_causal=True, enable_gqa=True)
    torch.cuda.synchronize()
    print("sdpa launches done")
    sys.exit(0)
layout = "HND" if "--hnd" in sys.argv[1:] else "NHD"
if layout == "HND":
    k, v = hnd_copy(k), hnd_copy(v)
for _ in range(2):
    ops.paged_prefill(q, k, v, table, cu, lens, ctx, out=out, layout=layout)
torch.cuda.synchronize()
print("prefill launches done")
