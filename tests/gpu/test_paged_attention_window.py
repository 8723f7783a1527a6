"""folio_paged_attention, the general paged attention: every dtype (fp32 exact), head sizes beyond the fast
kernels', sliding windows shorter and longer than the context, decode and prefill rows in one launch, q read from a
slice of a wider (fused QKV) tensor; against an fp32 reference over the pool's NaN-poisoned blocks."""
import pytest
import torch

from folio.layers import paged_attention
from paged import attention_ref, make_pool, rel_err, tolerance

# (context length, new tokens): decode rows (1 new token), prefill chunks over a cached prefix, a whole prompt.
CASES = [(1, 1), (19, 1), (99, 5), (300, 1), (17, 17), (260, 99)]


def reference(pool, cases, q, scale, window):
    rows = []
    for s, (c, n) in enumerate(cases):
        k, v = pool.gather(s, pool.k_cache), pool.gather(s, pool.v_cache)
        for j in range(n):
            pos = c - n + j
            first = max(0, pos - window + 1) if window > 0 else 0
            rows.append(attention_ref(q[len(rows):len(rows) + 1], k[first:pos + 1], v[first:pos + 1], scale))
    return torch.cat(rows)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("head_dim,hkv,group", [(64, 2, 4), (128, 1, 1), (80, 3, 2), (256, 2, 1)])
@pytest.mark.parametrize("window", [0, 1, 7, 100, 4096])
@pytest.mark.parametrize("layout", ["NHD", "HND"])
def test_matches_reference(dtype, head_dim, hkv, group, window, layout):
    pool = make_pool([c for c, _ in CASES], hkv, head_dim, 16, dtype, layout=layout)
    qlens = [n for _, n in CASES]
    cu = torch.tensor([0] + torch.tensor(qlens).cumsum(0).tolist(), dtype=torch.int32, device="cuda")
    nq = hkv * group
    # q as the first columns of a wider row, as the fused QKV projection holds it (stride > heads × dim).
    qkv = torch.randn(sum(qlens), (nq + 2 * hkv) * head_dim, device="cuda").to(dtype)
    q = qkv[:, :nq * head_dim]
    scale = head_dim ** -0.5
    out = torch.full((sum(qlens), nq, head_dim), float("nan"), dtype=dtype, device="cuda")
    paged_attention(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens, scale=scale,
                    window_left=window, num_q_heads=nq, out=out, layout=layout)
    torch.cuda.synchronize()
    assert not torch.isnan(out).any(), "an output was not written, or a NaN block was read"
    ref = reference(pool, CASES, q.view(-1, nq, head_dim), scale, window)
    assert rel_err(out, ref) < tolerance(dtype), rel_err(out, ref)


def test_window_changes_the_result():
    """A window shorter than the context must give another answer than none (the parameter is not ignored)."""
    pool = make_pool([200], 1, 64, 16, torch.float32)
    q = torch.randn(1, 64, device="cuda")
    cu = torch.tensor([0, 1], dtype=torch.int32, device="cuda")
    a = paged_attention(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens, window_left=0)
    b = paged_attention(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens, window_left=10)
    assert not torch.allclose(a, b)
