"""Helpers for the GPU tests: a paged KV pool with sentinel blocks and NaN poison, and fp32 references."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SENTINEL_BLOCKS = 3  # at each end of the pool, never in a block table, filled with NaN
SPARE_BLOCKS = 5     # unused blocks scattered in the pool, NaN too


@dataclass
class Pool:
    k_cache: torch.Tensor
    v_cache: torch.Tensor
    block_tables: torch.Tensor  # int32 [num_seqs, max_blocks]
    context_lens: torch.Tensor  # int32 [num_seqs]
    lens: list
    block_size: int
    layout: str = "NHD"

    def gather(self, seq: int, cache: torch.Tensor) -> torch.Tensor:
        """[len, num_kv_heads, head_dim] fp32 of sequence `seq`, in position order."""
        n = self.lens[seq]
        nb = (n + self.block_size - 1) // self.block_size
        ids = self.block_tables[seq, :nb].long()
        nhd = to_nhd(cache, self.layout)
        return nhd[ids].reshape(-1, nhd.shape[2], nhd.shape[3])[:n].float()


def to_nhd(cache: torch.Tensor, layout: str) -> torch.Tensor:
    return cache if layout == "NHD" else cache.permute(0, 2, 1, 3)


def from_nhd(cache: torch.Tensor, layout: str) -> torch.Tensor:
    return cache if layout == "NHD" else cache.permute(0, 2, 1, 3).contiguous()


def make_pool(lens, num_kv_heads, head_dim, block_size, dtype, device="cuda", layout="NHD") -> Pool:
    """Random K/V for sequences of the given lengths in randomly permuted, non-contiguous blocks.
    Sentinel blocks, spare blocks, the slots past each sequence's length and the unused block-table
    entries (which point at sentinel block 0) all hold NaN, so reading any of them poisons the output."""
    blocks = [(n + block_size - 1) // block_size for n in lens]
    used = sum(blocks)
    inner = used + SPARE_BLOCKS
    total = inner + 2 * SENTINEL_BLOCKS
    shape = (total, block_size, num_kv_heads, head_dim)
    k = torch.full(shape, float("nan"), dtype=dtype, device=device)
    v = torch.full(shape, float("nan"), dtype=dtype, device=device)
    ids = torch.randperm(inner, device=device)[:used] + SENTINEL_BLOCKS
    max_blocks = max(blocks + [1]) + 2
    tables = torch.zeros(len(lens), max_blocks, dtype=torch.int32, device=device)  # 0 = a NaN sentinel
    at = 0
    for s, (n, nb) in enumerate(zip(lens, blocks)):
        if nb == 0:
            continue
        mine = ids[at:at + nb]
        at += nb
        tables[s, :nb] = mine.int()
        flat_k = torch.randn(nb * block_size, num_kv_heads, head_dim, device=device)
        flat_v = torch.randn(nb * block_size, num_kv_heads, head_dim, device=device)
        flat_k[n:] = float("nan")
        flat_v[n:] = float("nan")
        k[mine.long()] = flat_k.view(nb, block_size, num_kv_heads, head_dim).to(dtype)
        v[mine.long()] = flat_v.view(nb, block_size, num_kv_heads, head_dim).to(dtype)
    lens_t = torch.tensor(lens, dtype=torch.int32, device=device)
    return Pool(from_nhd(k, layout), from_nhd(v, layout), tables, lens_t, list(lens), block_size, layout)


def attention_ref(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, q_positions=None) -> torch.Tensor:
    """fp32 attention of q [nq, Hq, D] over k, v [n, Hkv, D]; causal when q_positions (keys <= position)."""
    hq, hkv = q.shape[1], k.shape[1]
    g = hq // hkv
    k = k.float().repeat_interleave(g, dim=1)  # query head j uses KV head j // g
    v = v.float().repeat_interleave(g, dim=1)
    scores = torch.einsum("qhd,khd->hqk", q.float(), k) * scale
    if q_positions is not None:
        keys = torch.arange(k.shape[0], device=q.device)
        mask = keys[None, :] > q_positions[:, None]
        scores = scores.masked_fill(mask[None], float("-inf"))
    p = torch.softmax(scores, dim=-1)
    return torch.einsum("hqk,khd->qhd", p, v)


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    out = out.float()
    ref = ref.float()
    denom = ref.norm().item()
    num = (out - ref).norm().item()
    return num / denom if denom > 0 else num


def guarded(shape, dtype, guard_rows=7, device="cuda"):
    """A NaN-poisoned buffer with guard rows on both sides; returns (view, whole, guard copy)."""
    rows = shape[0]
    whole = torch.empty((rows + 2 * guard_rows,) + tuple(shape[1:]), dtype=dtype, device=device)
    whole.view(torch.uint8 if dtype.itemsize == 1 else torch.int16 if dtype.itemsize == 2 else torch.int32).random_()
    whole[guard_rows:guard_rows + rows] = float("nan")
    snapshot = whole.clone()
    return whole[guard_rows:guard_rows + rows], whole, snapshot, guard_rows


def guards_intact(whole, snapshot, guard_rows, rows) -> bool:
    before = torch.equal(whole[:guard_rows].view(torch.uint8), snapshot[:guard_rows].view(torch.uint8))
    after = torch.equal(whole[guard_rows + rows:].view(torch.uint8), snapshot[guard_rows + rows:].view(torch.uint8))
    return before and after


def tolerance(dtype) -> float:
    return 1e-5 if dtype == torch.float32 else 1e-2


def default_scale(head_dim: int) -> float:
    return 1.0 / math.sqrt(head_dim)


def prefill_inputs(cases, num_kv_heads, group, head_dim, block_size, dtype, layout="NHD"):
    """For (context length, new query tokens) cases: the pool holding every context, cu_query_lens and random
    queries for the new tokens (num_kv_heads * group query heads)."""
    qlens = [n for _, n in cases]
    pool = make_pool([c for c, _ in cases], num_kv_heads, head_dim, block_size, dtype, layout=layout)
    cu = torch.tensor([0] + torch.tensor(qlens).cumsum(0).tolist(), dtype=torch.int32, device="cuda")
    q = torch.randn(sum(qlens), num_kv_heads * group, head_dim, device="cuda").to(dtype)
    return pool, cu, q


def prefill_refs(cases, pool, cu, q, scale):
    """Per sequence: its rows a..b of the output and the fp32 reference attention of its new tokens."""
    for s, (c, n) in enumerate(cases):
        a, b = cu[s].item(), cu[s + 1].item()
        positions = torch.arange(c - n, c, device="cuda")
        yield a, b, attention_ref(q[a:b], pool.gather(s, pool.k_cache), pool.gather(s, pool.v_cache), scale, positions)
