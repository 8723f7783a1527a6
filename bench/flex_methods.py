#!/usr/bin/env python3
"""How FlexAttention is compiled and called changes its decode speed: the B6 FlexAttention baseline five ways.

  python3 bench/flex_methods.py [--shapes 64x1024,128x2048,...] [--heads 32:8] [--iters 20]

bench/kernels.py compiles flex_attention with dynamic=False and lets it recompile for every shape (a kernel
specialised to each shape: FlexAttention's best case). The anchor figures of BENCHMARKS.md (flex 266 / 486 /
487 / 621 us at 64x1k / 128x2k / 256x1k / 32x8k, GQA 32:8) are 1.3-2.4x slower than that. This script times,
in one process and beside contiguous SDPA and Folio's HND decode:
  static   torch.compile(flex_attention, dynamic=False), recompiled per shape (kernels.py's method);
  default  torch.compile(flex_attention) as PyTorch's documentation writes it: the first shape compiles
           static, a later shape change recompiles with dynamic sizes (automatic dynamic), which is what a
           server whose batch and context change every step runs;
  dynamic  torch.compile(flex_attention, dynamic=True): sizes symbolic from the first call;
  mask     as static, with a BlockMask of a mask_mod that keeps every key (create_block_mask), as code that
           builds its masks the documented way passes one even where nothing is masked;
  forced   as static, with kernel_options FORCE_USE_FLEX_ATTENTION=True: FlexAttention's general kernel
           instead of its decoding kernel (which it picks for short queries).
The shapes run in the order given, so "default" sees its first shape static and the others dynamic.
--modes picks among them (all by default).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernels as K  # noqa: E402  (bench/kernels.py: cases, timing with L2 flush, the Folio launcher)


MODES = ("static", "default", "dynamic", "mask", "forced")


def compiled(mode):
    torch._dynamo.reset()  # each way compiles from scratch
    return K.compile_flex({"dynamic": True, "default": None}.get(mode, False))


def extra_args(mode, ctx):
    """Keyword arguments of FlexAttention for `mode` at a decode case of context ctx (one query token)."""
    if mode == "mask":
        from torch.nn.attention.flex_attention import create_block_mask
        keep = lambda b, h, q_idx, kv_idx: q_idx >= 0  # noqa: E731 (every key)
        return {"block_mask": create_block_mask(keep, B=None, H=None, Q_LEN=1, KV_LEN=ctx, device=K.DEV)}
    if mode == "forced":
        return {"kernel_options": {"FORCE_USE_FLEX_ATTENTION": True}}
    return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="64x1024,128x2048,256x1024,32x8192,8x4096,64x4096,128x4096")
    ap.add_argument("--heads", default="32:8")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default=",".join(MODES))
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    K.kernel_timing.start()
    hq, hkv = (int(x) for x in args.heads.split(":"))
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    cases = []
    for batch, ctx in shapes:
        q, kc_p, vc_p, table, lens = K.make_decode_case(batch, ctx, hq, hkv)
        kc, vc = K.contiguous_kv(kc_p, table, batch, ctx), K.contiguous_kv(vc_p, table, batch, ctx)
        kh, vh = K.hnd_copy(kc_p), K.hnd_copy(vc_p)
        del kc_p, vc_p
        cases.append(dict(batch=batch, ctx=ctx, q=q, kc=kc, vc=vc, kh=kh, vh=vh, table=table, lens=lens,
                          bytes=2 * kc.numel() * kc.element_size()))
    gqa = hq != hkv
    rows = {(c["batch"], c["ctx"]): {} for c in cases}
    for c in cases:
        q4 = c["q"].unsqueeze(2)
        row = rows[(c["batch"], c["ctx"])]
        row["sdpa"], _, _ = K.bench(lambda: F.scaled_dot_product_attention(q4, c["kc"], c["vc"], enable_gqa=gqa),
                                    args.iters)
        run, out, _ = K.folio_decode_fn(c["q"], c["kh"], c["vh"], c["table"], c["lens"], c["ctx"], "HND")
        row["folio"], _, _ = K.bench(run, args.iters)
        c["ref"] = F.scaled_dot_product_attention(q4, c["kc"], c["vc"], enable_gqa=gqa).squeeze(2).float()
        run()
        torch.cuda.synchronize()
        row["folio_err"] = ((out.float() - c["ref"]).norm() / c["ref"].norm()).item()
    modes = args.modes.split(",")
    for mode in modes:
        fn = compiled(mode)
        for c in cases:
            q4 = c["q"].unsqueeze(2)
            row = rows[(c["batch"], c["ctx"])]
            try:
                kw = extra_args(mode, c["ctx"])
                f = lambda: fn(q4, c["kc"], c["vc"], enable_gqa=gqa, **kw)  # noqa: E731
                res = f().squeeze(2).float()
                row[mode + "_err"] = ((res - c["ref"]).norm() / c["ref"].norm()).item()
                row[mode], _, _ = K.bench(f, args.iters)
            except Exception as exc:  # reported, not hidden
                row[mode] = float("nan")
                print(f"  {mode} {c['batch']}x{c['ctx']}: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
            print(f"  {mode:8s} {c['batch']}x{c['ctx']}: {row[mode]:.1f} us", flush=True)
    print(f"\nheads {hq}:{hkv}, head_dim 128, bf16, block 16 (Folio HND), median of {args.iters} launches, L2 flushed")
    print("| batch x ctx | SDPA µs | Folio µs | ×SDPA | " + " | ".join(f"flex {m} µs | ×flex {m}" for m in modes)
          + " | max err |")
    print("|---|---|---|---|" + "---|---|" * len(modes) + "---|")
    for c in cases:
        r = rows[(c["batch"], c["ctx"])]
        f = r["folio"]
        errs = [r.get(k + "_err", 0.0) for k in ["folio"] + modes]
        cells = " | ".join(f"{r[m]:.1f} | {r[m] / f:.2f}" for m in modes)
        print(f"| {c['batch']} x {c['ctx']} | {r['sdpa']:.1f} | {f:.1f} | {r['sdpa'] / f:.2f} | {cells} | "
              f"{max(errs):.1e} |")


if __name__ == "__main__":
    main()
