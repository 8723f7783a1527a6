"""bench/kernels.py's prefill part: Folio's paged prefill beside SDPA on contiguous K/V (8 x 4k causal, balanced
rounds), and the helpers that lay a paged cache out contiguously (shared with the decode grid)."""
from __future__ import annotations

import os
import statistics

import torch
import torch.nn.functional as F

from folio import ops
from kernel_timing import DEV, balanced_rounds, bench


def contiguous_kv(cache, table, batch, ctx):
    """[batch, heads, ctx, d] copy of the paged cache, sequence by sequence (bounded temporaries)."""
    _, bs, h, d = cache.shape
    out = torch.empty(batch, h, ctx, d, dtype=cache.dtype, device=DEV)
    for b in range(batch):
        out[b] = cache[table[b].long()].view(ctx, h, d).transpose(0, 1)
    return out


def hnd_copy(cache):
    """The same paged cache in the HND layout ([num_blocks, heads, block_size, d]) from NHD."""
    return cache.permute(0, 2, 1, 3).contiguous()


def prefill_bench(iters, seqs=8, ctx=4096, hq=32, hkv=8, d=128, bs=16, ab_path=None):
    """Folio's paged prefill beside SDPA in balanced rounds; median per method. Under sustained tensor-core load
    the card slows by ~10% after the first second or so (2205 -> 2410-2490 us for the same kernel in one process,
    2026-11-26 ~17:08 UTC), so a method timed right after a hotter one runs slower: a fixed order favours
    whichever method follows a cooler one, and so does a rotation (each method keeps its predecessor). The rounds
    follow a Williams design (balanced_rounds), which gives every method every predecessor equally often; before
    it (rotated rounds, until 2026-11-26 18:58 UTC) the same library timed 0-4.5% faster as "folio" than as "ab",
    the method after an SDPA (bench/NOTES-kernels.md run 36). The slow mma.sync kernel is timed apart, last.
    ab_path: another build of libfolio_cuda.so, timed in the same rounds (NHD) as method "ab"."""
    dtype = torch.bfloat16
    num_blocks = seqs * ctx // bs
    kc_p = torch.empty(num_blocks, bs, hkv, d, dtype=dtype, device=DEV).normal_()
    vc_p = torch.empty(num_blocks, bs, hkv, d, dtype=dtype, device=DEV).normal_()
    table = torch.randperm(num_blocks, device=DEV).view(seqs, ctx // bs).int()
    q = torch.empty(seqs * ctx, hq, d, dtype=dtype, device=DEV).normal_()
    cu = torch.arange(0, seqs + 1, dtype=torch.int32, device=DEV) * ctx
    lens = torch.full((seqs,), ctx, dtype=torch.int32, device=DEV)
    out = torch.empty_like(q)
    flops = 4.0 * seqs * hq * d * (ctx * (ctx + 1) / 2)  # causal: QK^T and PV over the lower triangle
    res = {"seqs": seqs, "ctx": ctx, "hq": hq, "hkv": hkv, "flops": flops}
    kc = contiguous_kv(kc_p, table, seqs, ctx)
    vc = contiguous_kv(vc_p, table, seqs, ctx)
    kh, vh = hnd_copy(kc_p), hnd_copy(vc_p)
    q4 = q.view(seqs, ctx, hq, d).transpose(1, 2).contiguous()
    kr, vr = kc.repeat_interleave(hq // hkv, 1), vc.repeat_interleave(hq // hkv, 1)

    # The harness's override of the library's choice (bench/prefill_sm90_session.sh sets it): the kernel "folio",
    # "hnd" and "ab" ask for; "sm80" below always asks for the mma.sync kernel.
    kernel = os.environ.get("FOLIO_PREFILL_KERNEL", "auto")
    res["kernel"] = ops.prefill_kernel(d, dtype, kernel=kernel)

    def sm80():
        # The mma.sync kernel on the same data (on an H100 the default is the sm_90a wgmma kernel where built).
        ops.paged_prefill(q, kc_p, vc_p, table, cu, lens, ctx, out=out, layout="NHD", kernel="sm80")

    methods = {
        "folio": lambda: ops.paged_prefill(q, kc_p, vc_p, table, cu, lens, ctx, out=out, layout="NHD", kernel=kernel),
        "sdpa_gqa": lambda: F.scaled_dot_product_attention(q4, kc, vc, is_causal=True, enable_gqa=True),
        "hnd": lambda: ops.paged_prefill(q, kh, vh, table, cu, lens, ctx, out=out, layout="HND", kernel=kernel),
        "sdpa_mha": lambda: F.scaled_dot_product_attention(q4, kr, vr, is_causal=True),
    }
    if ab_path:
        ab_lib = ops.load_library(ab_path)

        def ab():
            saved = ops._lib  # the module's library for this one call (ops has no per-call library argument)
            ops._lib = ab_lib
            try:
                ops.paged_prefill(q, kc_p, vc_p, table, cu, lens, ctx, out=out, layout="NHD", kernel=kernel)
            finally:
                ops._lib = saved

        methods["ab"] = ab
        res["ab_path"] = ab_path
    keys = list(methods)
    times = {k: [] for k in keys}
    rounds = balanced_rounds(len(keys))
    for order in rounds:
        for key in (keys[i] for i in order):
            times[key].append(bench(methods[key], iters)[0])
    for key, ts in times.items():
        res[key + "_us"] = statistics.median(ts)
        res[key + "_rounds_us"] = ts
    res["rounds"] = len(rounds)
    res["folio_sm80_us"], _, _ = bench(sm80, iters)
    res["sdpa_us"] = min(res["sdpa_gqa_us"], res["sdpa_mha_us"])
    for k in ("folio", "folio_sm80", "sdpa", "sdpa_gqa", "sdpa_mha", "hnd") + (("ab",) if ab_path else ()):
        res[k + "_tflops"] = flops / (res[k + "_us"] * 1e-6) / 1e12
    res["vs_sdpa"] = res["folio_tflops"] / res["sdpa_tflops"]
    ref = methods["sdpa_gqa"]()
    methods["folio"]()
    torch.cuda.synchronize()
    mine = out.view(seqs, ctx, hq, d).transpose(1, 2).float()
    res["rel_err_vs_sdpa"] = ((mine - ref.float()).norm() / ref.float().norm()).item()
    return res
