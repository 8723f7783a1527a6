#!/usr/bin/env python3
"""Benchmark B6 and friends: Folio's CUDA kernels beside the PyTorch baselines, all in one run.

  python3 bench/kernels.py [--json FILE] [--only decode,prefill,blocks] [--iters N]

Decode grid: batch 1, 8, 64, 128, 256 x context 1k, 2k, 4k, 8k; GQA 32:8 and MHA 32:32; head_dim 128; bf16;
block 16; random block ids. Baselines in the same process: PyTorch SDPA on contiguous K/V (the unpaged
ceiling), gather-pages-then-SDPA (naive paging), FlexAttention (torch.compile) on contiguous K/V, compiled
per shape and compiled once with dynamic sizes.
Every time is the median of CUDA-event-timed launches, each preceded by a read of a buffer 5x the L2 (so no
launch finds its inputs in cache) and an untimed GPU spin (so no launch's timing includes waiting for the
CPU to enqueue it). Effective bandwidth counts the K and V bytes once.
Also: device-to-device copy bandwidth (bytes read + written), prefill TFLOP/s (8 x 4k causal) against
SDPA, block copy of 10,000 random pairs and swap of 2,000 blocks against copy / PCIe bandwidth.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings" / "python"))
from folio import ops  # noqa: E402
import kernel_timing  # noqa: E402
from kernel_timing import DEV, balanced_rounds, bench, copy_bandwidth, fmt, fmt_list  # noqa: E402,F401
from kernels_blocks import blocks_bench  # noqa: E402
from kernels_prefill import contiguous_kv, hnd_copy, prefill_bench  # noqa: E402

FLEX_MAX_ELEMENTS = 2**31  # FlexAttention's compiled kernel failed (InductorError) at K/V of >= 2^31 elements


# ------------------------------------------------------------------------------------------ decode (B6)

BLOCK_SIZE = 16
BLOCK_ORDER = "random"


def make_decode_case(batch, ctx, hq, hkv, d=128, dtype=torch.bfloat16):
    bs = BLOCK_SIZE
    nblk_seq = ctx // bs
    num_blocks = batch * nblk_seq
    k_cache = torch.empty(num_blocks, bs, hkv, d, dtype=dtype, device=DEV).normal_()
    v_cache = torch.empty(num_blocks, bs, hkv, d, dtype=dtype, device=DEV).normal_()
    order = torch.randperm(num_blocks, device=DEV) if BLOCK_ORDER == "random" else torch.arange(num_blocks, device=DEV)
    table = order.view(batch, nblk_seq).int()
    lens = torch.full((batch,), ctx, dtype=torch.int32, device=DEV)
    q = torch.empty(batch, hq, d, dtype=dtype, device=DEV).normal_()
    return q, k_cache, v_cache, table, lens


def folio_decode_fn(q, k_cache, v_cache, table, lens, ctx, layout="NHD"):
    lib = ops.library()
    batch, hq, d = q.shape
    bs, hkv, _ = ops.cache_dims(k_cache, layout)
    need = ops.decode_workspace_size(batch, hq, hkv, d, ctx)
    ws = torch.zeros(max(need, 16), dtype=torch.uint8, device=DEV)  # split counters start at zero
    out = torch.empty_like(q)
    stream = torch.cuda.current_stream().cuda_stream
    cache = ops.paged_kv(k_cache, v_cache, layout)
    params = ops.abi.folio_cuda_paged_attention_decode_params(
        ctypes.sizeof(ops.abi.folio_cuda_paged_attention_decode_params), batch, hq, table.shape[1], ctx, d ** -0.5,
        out.data_ptr(), q.data_ptr(), table.data_ptr(), lens.data_ptr(), ws.data_ptr(), ws.numel())
    args = (ctypes.byref(cache), ctypes.byref(params), stream)

    def run():
        status = lib.folio_paged_attention_decode(*args)
        if status != 0:
            raise ops.FolioCudaError(status, lib.folio_cuda_last_error().decode())
    run.keep_alive = (ws, out, cache, params)  # the raw pointers in args must outlive every launch
    return run, out, need


_flex = {}


def compile_flex(dynamic):
    """torch.compile(flex_attention, dynamic=dynamic) with room for a recompile per grid shape (dynamic=None is
    PyTorch's default: static first, dynamic sizes from the first shape change on)."""
    from torch.nn.attention.flex_attention import flex_attention
    torch._dynamo.config.cache_size_limit = 256
    if hasattr(torch._dynamo.config, "recompile_limit"):
        torch._dynamo.config.recompile_limit = 256
    return torch.compile(flex_attention, dynamic=dynamic)


def flex_fn(q4, kc, vc, dynamic=False):
    """FlexAttention compiled two ways: dynamic=False recompiles for every shape (a kernel specialised to it,
    FlexAttention's best case); dynamic=True compiles once with symbolic sizes, the kernel a server whose batch
    and context change every step runs (PyTorch's documented torch.compile(flex_attention) switches to it at
    the first shape change; bench/flex_methods.py times the three ways)."""
    key = "dynamic" if dynamic else "static"
    if key not in _flex:
        _flex[key] = compile_flex(dynamic)
    fn = _flex[key]
    gqa = q4.shape[1] != kc.shape[1]
    return lambda: fn(q4, kc, vc, enable_gqa=gqa)


def decode_grid(copy_tbs, iters, batches, ctxs, head_cfgs, layouts, baselines):
    rows = []
    flex_compile = [0.0]
    for hq, hkv in head_cfgs:
        for batch in batches:
            for ctx in ctxs:
                torch.cuda.empty_cache()
                row = decode_shape(copy_tbs, iters, batch, ctx, hq, hkv, layouts, baselines, flex_compile)
                rows.append(row)
                gc.collect()
                print(f"  decode {hq}:{hkv} B={batch:<3} L={ctx:<5} NHD {row['folio_us']:8.1f} us | HND "
                      f"{row.get('hnd_us', float('nan')):8.1f} us {row.get('hnd_tbs', float('nan')):.2f} TB/s | "
                      f"sdpa {row['sdpa_us']:8.1f} | flex {row['flex_us'] or float('nan'):8.1f} | flex dyn "
                      f"{row['flexdyn_us'] or float('nan'):8.1f} | gather "
                      f"{row['gather_us'] or float('nan'):8.1f} | err {row['rel_err_vs_sdpa']:.1e}", flush=True)
                torch.cuda.synchronize()
                torch.cuda.empty_cache()
    return rows, flex_compile[0]


def time_flex(row, key, dynamic, q4, kc, vc, iters, flex_compile):
    """row[key + "_us"]: compiled FlexAttention on the contiguous K/V, or row[key + "_error"] saying why not."""
    if kc.numel() >= FLEX_MAX_ELEMENTS:
        row[key + "_error"] = ("skipped: K/V of 2^31 elements or more; torch.compile'd FlexAttention failed with "
                               "an InductorError at every such shape in earlier runs")
        return
    fx = None
    try:
        t0 = time.time()
        fx = flex_fn(q4, kc, vc, dynamic)
        fx()
        torch.cuda.synchronize()
        flex_compile[0] += time.time() - t0
        row[key + "_us"], _, _ = bench(fx, iters)
    except Exception as exc:  # reported, not hidden
        msg = str(exc)
        row[key + "_error"] = f"{type(exc).__name__}: {msg[:150]} ... {msg[-400:]}"
    del fx


def decode_shape(copy_tbs, iters, batch, ctx, hq, hkv, layouts, baselines, flex_compile):
    """Times one grid shape; every tensor and closure it makes is freed when it returns."""
    q, kc_p, vc_p, table, lens = make_decode_case(batch, ctx, hq, hkv)
    kv_bytes = 2 * kc_p.numel() * kc_p.element_size()
    row = {"hq": hq, "hkv": hkv, "batch": batch, "ctx": ctx, "kv_bytes": kv_bytes, "flex_us": None,
           "flexdyn_us": None, "gather_us": None}
    run, out, ws = folio_decode_fn(q, kc_p, vc_p, table, lens, ctx)
    row["folio_us"], row["folio_p10_p90"], row["folio_n"] = bench(run, iters)
    row["splits_workspace_bytes"] = ws
    if "HND" in layouts:
        kh, vh = hnd_copy(kc_p), hnd_copy(vc_p)
        run_h, out_h, _ = folio_decode_fn(q, kh, vh, table, lens, ctx, "HND")
        row["hnd_us"], _, _ = bench(run_h, iters)
        run_h()
        torch.cuda.synchronize()
        out_h = out_h.float()
        del kh, vh, run_h
        torch.cuda.empty_cache()
    # Contiguous ceiling (and the correctness of this shape against it).
    kc = contiguous_kv(kc_p, table, batch, ctx)
    vc = contiguous_kv(vc_p, table, batch, ctx)
    q4 = q.unsqueeze(2)
    gqa = hq != hkv
    sdpa = lambda: F.scaled_dot_product_attention(q4, kc, vc, enable_gqa=gqa)
    row["sdpa_us"], _, _ = bench(sdpa, iters)
    ref = sdpa().squeeze(2).float()
    run()
    torch.cuda.synchronize()
    row["rel_err_vs_sdpa"] = ((out.float() - ref).norm() / ref.norm()).item()
    if "HND" in layouts:
        row["hnd_rel_err_vs_sdpa"] = ((out_h - ref).norm() / ref.norm()).item()
        row["hnd_tbs"] = kv_bytes / (row["hnd_us"] * 1e-6) / 1e12
        row["hnd_vs_sdpa"] = row["sdpa_us"] / row["hnd_us"]
    for key, dynamic in (("flex", False), ("flexdyn", True)):
        if key not in baselines:
            row[key + "_error"] = "not run (--baselines)"
            continue
        time_flex(row, key, dynamic, q4, kc, vc, iters, flex_compile)
    sdpa = None  # the closure holds the contiguous copies
    del kc, vc, sdpa
    torch.cuda.empty_cache()
    # Naive paging: gather the pages into contiguous tensors, then SDPA.
    free, _ = torch.cuda.mem_get_info()
    if "gather" not in baselines:
        row["gather_us"] = None
        row["gather_error"] = "not run (--baselines)"
    elif free > 1.15 * kv_bytes:
        def gather():
            k = kc_p[table.long()].view(batch, ctx, hkv, -1).transpose(1, 2)
            v = vc_p[table.long()].view(batch, ctx, hkv, -1).transpose(1, 2)
            return F.scaled_dot_product_attention(q4, k, v, enable_gqa=gqa)
        row["gather_us"], _, _ = bench(gather, iters)
    else:
        row["gather_us"] = None
        row["gather_error"] = "skipped: gathered copy does not fit in GPU memory"
    row["folio_tbs"] = kv_bytes / (row["folio_us"] * 1e-6) / 1e12
    row["sdpa_tbs"] = kv_bytes / (row["sdpa_us"] * 1e-6) / 1e12
    # Ratios per layout: NHD under the folio_* keys, HND under hnd_* (the default layout).
    for key in ("folio", "hnd"):
        t = row.get(key + "_us")
        if t is None:
            continue
        row[key + "_tbs"] = kv_bytes / (t * 1e-6) / 1e12
        row[key + "_vs_sdpa"] = row["sdpa_us"] / t
        row[key + "_vs_flex"] = row["flex_us"] / t if row["flex_us"] else None
        row[key + "_vs_flexdyn"] = row["flexdyn_us"] / t if row["flexdyn_us"] else None
        row[key + "_vs_gather"] = row["gather_us"] / t if row["gather_us"] else None
        row[key + "_frac_copy_bw"] = row[key + "_tbs"] / copy_tbs
    return row



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", default=None, help="write every number to this file")
    ap.add_argument("--only", default="decode,prefill,blocks")
    ap.add_argument("--iters", type=int, default=40)
    ap.add_argument("--batches", default="1,8,64,128,256")
    ap.add_argument("--ctxs", default="1024,2048,4096,8192")
    ap.add_argument("--heads", default="32:8,32:32")
    ap.add_argument("--layouts", default="NHD,HND", help="cache layouts to time (NHD always)")
    ap.add_argument("--baselines", default="sdpa,flex,flexdyn,gather")
    ap.add_argument("--block-size", type=int, default=16, help="decode grid block size (B6: 16)")
    ap.add_argument("--block-order", default="random", choices=["random", "sequential"],
                    help="physical order of each sequence's blocks (B6: random)")
    ap.add_argument("--seed", type=int, default=0,
                    help="seed of the random data and block tables (fixed, so runs and processes compare)")
    ap.add_argument("--prefill-ab", default=None, metavar="LIB",
                    help="another libfolio_cuda.so build whose prefill is timed in the same balanced rounds")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    global BLOCK_SIZE, BLOCK_ORDER
    BLOCK_SIZE, BLOCK_ORDER = args.block_size, args.block_order
    props = torch.cuda.get_device_properties(DEV)
    kernel_timing.start()
    info = {"device": props.name, "sms": props.multi_processor_count, "l2_bytes": props.L2_cache_size,
            "torch": torch.__version__, "cuda": torch.version.cuda,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "argv": sys.argv,
            "block_size": BLOCK_SIZE, "block_order": BLOCK_ORDER}
    print(f"# {info['device']} ({info['sms']} SMs, L2 {info['l2_bytes'] >> 20} MiB), torch {info['torch']}, "
          f"CUDA {info['cuda']}, {info['date']}", flush=True)
    only = set(args.only.split(","))
    copy_tbs = copy_bandwidth()
    info["copy_tbs"] = copy_tbs
    print(f"device-to-device copy: {copy_tbs:.3f} TB/s (read + write)", flush=True)
    results = {"info": info}
    if "decode" in only:
        heads = [tuple(int(x) for x in h.split(":")) for h in args.heads.split(",")]
        rows, flex_s = decode_grid(copy_tbs, args.iters, [int(b) for b in args.batches.split(",")],
                                   [int(c) for c in args.ctxs.split(",")], heads, args.layouts.split(","),
                                   args.baselines.split(","))
        results["decode"] = rows
        results["flex_compile_s"] = flex_s
    if "prefill" in only:
        results["prefill"] = prefill_bench(max(5, args.iters // 4), ab_path=args.prefill_ab)
    if "blocks" in only:
        results["blocks"] = blocks_bench(copy_tbs, args.iters)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))

    print()
    print(f"## {info['device']}, {info['date']}; copy {copy_tbs:.2f} TB/s")
    if "decode" in results:
        d = results["decode"]
        main = "hnd" if all("hnd_us" in r for r in d) else "folio"
        name = "HND" if main == "hnd" else "NHD"
        print(f"Folio = paged decode, {name} cache layout (the default); NHD column = the other layout. "
              "×X = X's time / Folio's time (above 1: Folio faster).")
        print("flex = FlexAttention compiled for each shape (its best case); flex dyn = compiled once with dynamic "
              "sizes (what a server whose shapes change every step runs).")
        print(f"| heads q:kv | batch | ctx | Folio µs | Folio TB/s | % copy BW | NHD µs | SDPA µs | SDPA TB/s | ×SDPA "
              "| gather µs | ×gather | flex µs | ×flex | flex dyn µs | ×flex dyn | err vs SDPA |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in d:
            err = r.get("hnd_rel_err_vs_sdpa", r["rel_err_vs_sdpa"]) if main == "hnd" else r["rel_err_vs_sdpa"]
            print(f"| {r['hq']}:{r['hkv']} | {r['batch']} | {r['ctx']} | {r[main + '_us']:.1f} | "
                  f"{r[main + '_tbs']:.2f} | {100 * r[main + '_frac_copy_bw']:.0f}% | {r['folio_us']:.1f} | "
                  f"{r['sdpa_us']:.1f} | {r['sdpa_tbs']:.2f} | {r[main + '_vs_sdpa']:.2f} | "
                  f"{fmt(r['gather_us'], '.1f')} | {fmt(r[main + '_vs_gather'])} | {fmt(r['flex_us'], '.1f')} | "
                  f"{fmt(r[main + '_vs_flex'])} | {fmt(r['flexdyn_us'], '.1f')} | {fmt(r[main + '_vs_flexdyn'])} | "
                  f"{err:.1e} |")
        print()
        for key, label in (("hnd", "HND"), ("folio", "NHD")):
            if not all(key + "_us" in r for r in d):
                continue
            big = [r[key + "_tbs"] for r in d if r["batch"] >= 64 and r["ctx"] >= 2048]
            small = [r[key + "_frac_copy_bw"] for r in d if r["batch"] <= 8 and r["ctx"] == 8192]
            flexed = [r[key + "_vs_flex"] for r in d if r[key + "_vs_flex"]]
            flexdyn = [r[key + "_vs_flexdyn"] for r in d if r[key + "_vs_flexdyn"]]
            print(f"targets ({label}): min TB/s at B>=64,L>=2k = {min(big, default=float('nan')):.2f} (>= 2.8); "
                  f"min ×SDPA = {min(r[key + '_vs_sdpa'] for r in d):.3f} (>= 0.97); "
                  f"min ×flex = {min(flexed, default=float('nan')):.2f} (>= 1.3; dynamic sizes "
                  f"{min(flexdyn, default=float('nan')):.2f}); "
                  f"min % copy BW at B<=8,L=8k = {100 * min(small, default=float('nan')):.0f}% (>= 75%)")
        if "flex_compile_s" in results:
            failures = sum(1 for r in d for k in ("flex_error", "flexdyn_error")
                           if r.get(k) and "not run" not in r[k] and "skipped" not in r[k])
            print(f"flex compile time {results['flex_compile_s']:.0f} s; flex failures: {failures}")
    if "prefill" in results:
        p = results["prefill"]
        print(f"prefill {p['seqs']}x{p['ctx']} causal, {p['hq']}:{p['hkv']} heads, d128: folio {p['folio_us']:.0f} µs "
              f"= {p['folio_tflops']:.0f} TFLOP/s; SDPA (GQA) {p['sdpa_gqa_tflops']:.0f}, SDPA (K/V repeated) "
              f"{p['sdpa_mha_tflops']:.0f} TFLOP/s; ratio to the faster {p['vs_sdpa']:.2f} (>= 0.8); "
              f"err {p['rel_err_vs_sdpa']:.1e}; HND layout {p['hnd_tflops']:.0f} TFLOP/s; "
              f"kernel {p['kernel']}; mma.sync kernel (sm80) {p['folio_sm80_tflops']:.0f} TFLOP/s; medians of "
              f"{p['rounds']} balanced rounds (µs per round: folio {fmt_list(p['folio_rounds_us'])}, SDPA GQA "
              f"{fmt_list(p['sdpa_gqa_rounds_us'])}, SDPA MHA {fmt_list(p['sdpa_mha_rounds_us'])}, HND "
              f"{fmt_list(p['hnd_rounds_us'])})")
        if "ab_us" in p:
            print(f"prefill A/B: {p['ab_path']} {p['ab_us']:.0f} µs = {p['ab_tflops']:.0f} TFLOP/s, ratio to SDPA "
                  f"{p['ab_tflops'] / p['sdpa_tflops']:.2f}; folio / ab time {p['folio_us'] / p['ab_us']:.3f} "
                  f"(µs per round: {fmt_list(p['ab_rounds_us'])})")
    if "blocks" in results:
        b = results["blocks"]
        print(f"block copy {b['copy_pairs']} pairs x 2 caches x {b['block_bytes']} B: {b['copy_us']:.0f} µs = "
              f"{b['copy_tbs']:.2f} TB/s = {100 * b['copy_frac']:.0f}% of copy (>= 80%)")
        print(f"swap out {b['swap_blocks']} blocks x 2 caches ({b['swap_bytes'] >> 20} MiB): {b['swap_out_gbs']:.1f} GB/s "
              f"vs memcpy D2H {b['pcie_d2h_gbs']:.1f} GB/s = {100 * b['swap_out_frac']:.0f}%; swap in "
              f"{b['swap_in_gbs']:.1f} GB/s vs H2D {b['pcie_h2d_gbs']:.1f} = {100 * b['swap_in_frac']:.0f}% (>= 80%)")


if __name__ == "__main__":
    main()
