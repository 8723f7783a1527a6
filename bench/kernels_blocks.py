"""bench/kernels.py's block copy and swap part: 10,000 random block pairs copied inside the device pool, 2,000
blocks swapped out to and in from pinned host memory, against the device copy and PCIe bandwidth."""
from __future__ import annotations

import ctypes

import torch

from folio import ops
from kernel_timing import DEV, bench, pcie_bandwidth


def blocks_bench(copy_tbs, iters, num_pairs=10000, num_swap=2000, pool=40000, bs=16, hkv=8, d=128):
    lib = ops.library()
    stream = torch.cuda.current_stream().cuda_stream
    caches = [torch.empty(pool, bs, hkv, d, dtype=torch.bfloat16, device=DEV).normal_() for _ in range(2)]
    block_bytes = bs * hkv * d * 2
    perm = torch.randperm(pool)
    dst = perm[:num_pairs]
    src = perm[num_pairs:][torch.randint(0, pool - num_pairs, (num_pairs,))]
    pairs = torch.stack([src, dst], 1).int().to(DEV)
    ptrs = torch.tensor([c.data_ptr() for c in caches], dtype=torch.int64, device=DEV)
    view = ops.paged_kv(caches[0], caches[1], "NHD")
    moves = ops.abi.folio_cuda_block_move_params
    copy_params = moves(ctypes.sizeof(moves), 2, ptrs.data_ptr(), 0, pairs.data_ptr(), num_pairs, 0)
    copy = lambda: lib.folio_block_copy(ctypes.byref(view), ctypes.byref(copy_params), stream)
    res = {"copy_pairs": num_pairs, "block_bytes": block_bytes, "caches": 2}
    res["copy_us"], _, _ = bench(copy, iters)
    moved = 2 * num_pairs * 2 * block_bytes  # read + write, K and V
    res["copy_tbs"] = moved / (res["copy_us"] * 1e-6) / 1e12
    res["copy_frac"] = res["copy_tbs"] / copy_tbs

    cpu_pool = num_swap + 100
    host = [torch.empty(cpu_pool, bs, hkv, d, dtype=torch.bfloat16).pin_memory() for _ in range(2)]
    hptrs = torch.tensor([h.data_ptr() for h in host], dtype=torch.int64, device=DEV)
    out_pairs = torch.stack([torch.randperm(pool)[:num_swap], torch.randperm(cpu_pool)[:num_swap]], 1).int().to(DEV)
    in_pairs = torch.stack([torch.randperm(cpu_pool)[:num_swap], torch.randperm(pool)[:num_swap]], 1).int().to(DEV)
    out_params = moves(ctypes.sizeof(moves), 2, ptrs.data_ptr(), hptrs.data_ptr(), out_pairs.data_ptr(), num_swap,
                       cpu_pool)
    in_params = moves(ctypes.sizeof(moves), 2, ptrs.data_ptr(), hptrs.data_ptr(), in_pairs.data_ptr(), num_swap,
                      cpu_pool)
    swap_out = lambda: lib.folio_block_swap_out(ctypes.byref(view), ctypes.byref(out_params), stream)
    swap_in = lambda: lib.folio_block_swap_in(ctypes.byref(view), ctypes.byref(in_params), stream)
    nbytes = num_swap * 2 * block_bytes
    res["swap_blocks"] = num_swap
    res["swap_bytes"] = nbytes
    res["swap_out_us"], _, _ = bench(swap_out, iters)
    res["swap_in_us"], _, _ = bench(swap_in, iters)
    res["pcie_d2h_gbs"], res["pcie_h2d_gbs"] = pcie_bandwidth(nbytes)
    res["swap_out_gbs"] = nbytes / (res["swap_out_us"] * 1e-6) / 1e9
    res["swap_in_gbs"] = nbytes / (res["swap_in_us"] * 1e-6) / 1e9
    res["swap_out_frac"] = res["swap_out_gbs"] / res["pcie_d2h_gbs"]
    res["swap_in_frac"] = res["swap_in_gbs"] / res["pcie_h2d_gbs"]
    return res
