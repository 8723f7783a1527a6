"""paged_prefill (causal, over cached prefix + new tokens) vs an fp32 PyTorch reference."""
import pytest
import torch

from folio import ops
from paged import (attention_ref, default_scale, guarded, guards_intact, make_pool, prefill_inputs, prefill_refs,
                   rel_err, tolerance)

# (context length, new query tokens): whole prompts, prefix hits, chunks, block boundaries +- 1.
CASES = [(1, 1), (15, 15), (16, 16), (17, 17), (1000, 1000), (4097, 97), (4097, 1), (33, 17), (100, 64),
         (16, 1), (17, 2), (250, 129), (65, 65), (64, 63), (1000, 1), (129, 128), (40, 39), (512, 300), (7, 3)]


def run_prefill(cases, num_kv_heads, group, head_dim, block_size, dtype, layout="NHD"):
    pool, cu, q = prefill_inputs(cases, num_kv_heads, group, head_dim, block_size, dtype, layout)
    num_tokens = q.shape[0]
    out, whole, snapshot, guard = guarded(q.shape, dtype)
    k_before = pool.k_cache.clone()
    scale = default_scale(head_dim)
    ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens,
                      max(n for _, n in cases), scale=scale, out=out, layout=layout)
    torch.cuda.synchronize()
    assert guards_intact(whole, snapshot, guard, num_tokens), "prefill wrote outside its output"
    assert torch.equal(pool.k_cache.view(torch.uint8), k_before.view(torch.uint8)), "prefill wrote into k_cache"
    assert not torch.isnan(out).any(), "NaN in the output (an unwritten element or a read of a poisoned slot)"
    worst = 0.0
    for a, b, ref in prefill_refs(cases, pool, cu, q, scale):
        worst = max(worst, rel_err(out[a:b], ref))
    assert worst <= tolerance(dtype), f"relative error {worst:.3e} > {tolerance(dtype):.0e}"
    return worst


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("block_size", [8, 16, 32])
@pytest.mark.parametrize("group", [1, 4, 8])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_prefill_batch19_mixed_chunks(head_dim, group, block_size, dtype, layout):
    run_prefill(CASES, 2, group, head_dim, block_size, dtype, layout)


def test_prefill_batch1_long_prompt():
    run_prefill([(4097, 4097)], 1, 4, 128, 16, torch.bfloat16)


def test_prefill_batch99():
    cases = []
    for i in range(99):
        c = int(torch.randint(1, 700, (1,)))
        cases.append((c, int(torch.randint(1, c + 1, (1,)))))
    run_prefill(cases, 2, 4, 128, 16, torch.bfloat16)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
def test_prefill_after_kv_write_matches_decode_for_last_token(layout):
    # The engine's flow: write the new tokens' K/V with kv_write, then prefill; the last new token's
    # output equals a decode step over the same cache.
    dtype, hkv, g, d, bs = torch.bfloat16, 2, 4, 128, 16
    ctx, new = 300, 45
    pool = make_pool([ctx], hkv, d, bs, dtype, layout=layout)
    key = torch.randn(new, hkv, d, device="cuda").to(dtype)
    value = torch.randn(new, hkv, d, device="cuda").to(dtype)
    positions = torch.arange(ctx - new, ctx, device="cuda")
    blocks = pool.block_tables[0].long()[positions // bs]
    slots = blocks * bs + positions % bs
    ops.kv_write(key, value, pool.k_cache, pool.v_cache, slots, layout=layout)
    q = torch.randn(new, hkv * g, d, device="cuda").to(dtype)
    cu = torch.tensor([0, new], dtype=torch.int32, device="cuda")
    out = ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens, new,
                            layout=layout)
    last = ops.paged_attention_decode(q[-1:].contiguous(), pool.k_cache, pool.v_cache, pool.block_tables,
                                      pool.context_lens, ctx, layout=layout)
    assert rel_err(out[-1:], last) <= 1e-2
    ref = attention_ref(q, pool.gather(0, pool.k_cache), pool.gather(0, pool.v_cache), d ** -0.5, positions)
    assert rel_err(out, ref) <= 1e-2
