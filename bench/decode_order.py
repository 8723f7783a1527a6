#!/usr/bin/env python3
"""Does the timing order bias the decode comparison? Folio's decode (HND) and contiguous SDPA, timed in rounds of
both orders, on a few B6 shapes.

  python3 bench/decode_order.py [--shapes 8:64x8192,8:128x8192,32:64x8192,8:1x4096,32:8x8192] [--rounds 4]

bench/kernels.py times Folio first and SDPA right after, shape by shape. The prefill turned out to slow ~10%
under sustained load, which biased a fixed order (bench/NOTES-kernels.md, run 20); decode is memory-bound, so
the bias should be small, and this measures it: round r times Folio then SDPA when r is even, SDPA then Folio
when r is odd; the ratio is reported per order and overall (median of rounds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernels as K  # noqa: E402  (bench/kernels.py: cases, timing with L2 flush, the Folio launcher)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="8:64x8192,8:128x8192,32:64x8192,8:1x4096,32:8x8192")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--iters", type=int, default=40)
    args = ap.parse_args()
    torch.manual_seed(0)
    K.kernel_timing.start()
    print("| heads q:kv | batch x ctx | Folio µs (Folio first / SDPA first) | SDPA µs (Folio first / SDPA first) | "
          "×SDPA Folio first | ×SDPA SDPA first | ×SDPA all rounds |")
    print("|---|---|---|---|---|---|---|")
    for spec in args.shapes.split(","):
        hkv_s, shape = spec.split(":")
        hkv = int(hkv_s)
        batch, ctx = (int(v) for v in shape.split("x"))
        q, kc_p, vc_p, table, lens = K.make_decode_case(batch, ctx, 32, hkv)
        kh, vh = K.hnd_copy(kc_p), K.hnd_copy(vc_p)
        kc, vc = K.contiguous_kv(kc_p, table, batch, ctx), K.contiguous_kv(vc_p, table, batch, ctx)
        del kc_p, vc_p
        run, _, _ = K.folio_decode_fn(q, kh, vh, table, lens, ctx, "HND")
        q4 = q.unsqueeze(2)
        sdpa = lambda: F.scaled_dot_product_attention(q4, kc, vc, enable_gqa=hkv != 32)
        times = {("folio", 0): [], ("sdpa", 0): [], ("folio", 1): [], ("sdpa", 1): []}
        for r in range(args.rounds):
            order = [("folio", run), ("sdpa", sdpa)] if r % 2 == 0 else [("sdpa", sdpa), ("folio", run)]
            for name, fn in order:
                times[(name, r % 2)].append(K.bench(fn, args.iters)[0])
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = [med[("sdpa", o)] / med[("folio", o)] for o in (0, 1)]
        all_ratio = statistics.median(times[("sdpa", 0)] + times[("sdpa", 1)]) / statistics.median(
            times[("folio", 0)] + times[("folio", 1)])
        print(f"| 32:{hkv} | {batch} x {ctx} | {med[('folio', 0)]:.1f} / {med[('folio', 1)]:.1f} | "
              f"{med[('sdpa', 0)]:.1f} / {med[('sdpa', 1)]:.1f} | {ratio[0]:.3f} | {ratio[1]:.3f} | {all_ratio:.3f} |",
              flush=True)
        del q, kh, vh, kc, vc, run, sdpa
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
