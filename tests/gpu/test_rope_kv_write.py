"""RoPE fused with the paged KV write: rotated queries and cache contents against an fp32 PyTorch reference of
transformers' rotate-half RoPE (default and Llama 3.1 frequencies), every written element checked, the rest of the
cache (sentinel values) untouched, q_out poisoned before the run."""
import math

import pytest
import torch

from folio import model_ops
from paged import from_nhd, to_nhd

TOL = {torch.float32: (2e-5, 2e-5), torch.bfloat16: (1.6e-2, 1.6e-2), torch.float16: (2e-3, 2e-3)}
LLAMA31 = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


def transformers_inv_freq(dim, theta, llama3=None):
    """transformers' default and Llama 3 rope init, in torch (fp32)."""
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if llama3 is None:
        return inv
    old = llama3["original_max_position_embeddings"]
    low_wave, high_wave = old / llama3["low_freq_factor"], old / llama3["high_freq_factor"]
    wave = 2 * math.pi / inv
    scaled = torch.where(wave > low_wave, inv / llama3["factor"], inv)
    smooth = (old / wave - llama3["low_freq_factor"]) / (llama3["high_freq_factor"] - llama3["low_freq_factor"])
    smoothed = (1 - smooth) * scaled / llama3["factor"] + smooth * scaled
    medium = ~(wave < high_wave) * ~(wave > low_wave)
    return torch.where(medium, smoothed, scaled)


def rope_reference(x, positions, inv_freq, rotary_dim):
    """x [T, H, D]: rotate_half RoPE on the first rotary_dim dims, cos/sin and products in fp64."""
    # The angle is position * inv_freq rounded to fp32, as transformers (and the kernel) form it.
    angles = (positions.float()[:, None] * inv_freq.to(x.device)[None, :]).double()
    cos, sin = torch.cos(angles)[:, None, :], torch.sin(angles)[:, None, :]
    half = rotary_dim // 2
    x = x.double()
    x1, x2 = x[..., :half], x[..., half:rotary_dim]
    out = x.clone()
    out[..., :half] = x1 * cos - x2 * sin
    out[..., half:rotary_dim] = x2 * cos + x1 * sin
    return out


@pytest.mark.parametrize("dims", [(64, 64), (128, 128), (128, 64)], ids=["d64", "d128", "d128-partial64"])
@pytest.mark.parametrize("scaling", ["default", "llama3"])
def test_inv_freq_matches_transformers(dims, scaling):
    head_dim, rot = dims
    llama3 = LLAMA31 if scaling == "llama3" else None
    theta = 500000.0 if llama3 else 10000.0
    got = model_ops.rope_inv_freq(rot, theta, llama3)
    torch.testing.assert_close(got, transformers_inv_freq(rot, theta, llama3), rtol=2e-6, atol=0)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("num_tokens", [1, 19, 99])
@pytest.mark.parametrize("heads", [(32, 8), (8, 8), (28, 4)], ids=["gqa4", "mha", "gqa7"])
@pytest.mark.parametrize("dims", [(64, 64), (128, 128), (128, 64)], ids=["d64", "d128", "d128-partial64"])
@pytest.mark.parametrize("scaling", ["default", "llama3"])
def test_rope_kv_write(scaling, dims, heads, num_tokens, dtype, layout):
    head_dim, rot = dims
    hq, hkv = heads
    block_size = 16
    llama3 = LLAMA31 if scaling == "llama3" else None
    inv_freq = model_ops.rope_inv_freq(rot, 500000.0 if llama3 else 10000.0, llama3)
    # A fused QKV projection: q, k, v are slices with a token stride larger than their rows.
    width = (hq + 2 * hkv) * head_dim + 16
    qkv = torch.randn(num_tokens, width, device="cuda").to(dtype)
    q = qkv[:, :hq * head_dim].view(num_tokens, hq, head_dim)
    k = qkv[:, hq * head_dim:(hq + hkv) * head_dim].view(num_tokens, hkv, head_dim)
    v = qkv[:, (hq + hkv) * head_dim:(hq + 2 * hkv) * head_dim].view(num_tokens, hkv, head_dim)
    # Positions up to 100k (long-context angles) and distinct slots away from 3 sentinel blocks at each end.
    positions = torch.randint(0, 100_000, (num_tokens,), dtype=torch.int32, device="cuda")
    num_blocks = 6 + (num_tokens + block_size - 1) // block_size + 4
    lo, hi = 3 * block_size, (num_blocks - 3) * block_size
    slots = (torch.randperm(hi - lo, device="cuda")[:num_tokens] + lo).long()
    if num_tokens > 1:
        slots[1::5] = -1  # padding: no cache write, q still rotated
    sentinel = 7.0
    k_nhd = torch.full((num_blocks, block_size, hkv, head_dim), sentinel, dtype=dtype, device="cuda")
    v_nhd = torch.full_like(k_nhd, sentinel)
    k_cache, v_cache = from_nhd(k_nhd, layout), from_nhd(v_nhd, layout)
    q_out = torch.full((num_tokens, hq, head_dim), float("nan"), dtype=dtype, device="cuda")
    model_ops.rope_kv_write(q, k, v, k_cache, v_cache, positions, slots, inv_freq, layout=layout, rotary_dim=rot,
                            q_out=q_out)
    torch.cuda.synchronize()
    rtol, atol = TOL[dtype]
    exp_q = rope_reference(q.float(), positions, inv_freq, rot)
    torch.testing.assert_close(q_out.double(), exp_q, rtol=rtol, atol=atol)
    k_flat = to_nhd(k_cache, layout).reshape(-1, hkv, head_dim)
    v_flat = to_nhd(v_cache, layout).reshape(-1, hkv, head_dim)
    written = slots >= 0
    exp_k = rope_reference(k.float(), positions, inv_freq, rot)
    torch.testing.assert_close(k_flat[slots[written]].double(), exp_k[written], rtol=rtol, atol=atol)
    assert torch.equal(v_flat[slots[written]], v[written])  # V is copied bit for bit
    untouched = torch.ones(k_flat.shape[0], dtype=torch.bool, device="cuda")
    untouched[slots[written]] = False
    assert torch.all(k_flat[untouched] == sentinel) and torch.all(v_flat[untouched] == sentinel)


def test_rope_matches_transformers_bf16_closely():
    """transformers computes cos/sin in fp32 and rounds them to bf16 before its bf16 products; the kernel rounds
    once. They agree to a bf16 step or two."""
    t, hq, d = 99, 8, 128
    inv = model_ops.rope_inv_freq(d, 500000.0, LLAMA31)
    q = torch.randn(t, hq, d, device="cuda", dtype=torch.bfloat16)
    positions = torch.arange(t, dtype=torch.int32, device="cuda") * 97
    k_cache = torch.zeros(8, 16, hq, d, device="cuda", dtype=torch.bfloat16)
    out = model_ops.rope_kv_write(q, q, q, k_cache, k_cache.clone(), positions,
                                  torch.full((t,), -1, dtype=torch.int64, device="cuda"), inv, layout="NHD")
    freqs = positions.float()[:, None] * inv.cuda()[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(torch.bfloat16)[:, None, :], emb.sin().to(torch.bfloat16)[:, None, :]
    rotate_half = torch.cat((-q[..., d // 2:], q[..., :d // 2]), dim=-1)
    hf = q * cos + rotate_half * sin
    torch.testing.assert_close(out.float(), hf.float(), rtol=3e-2, atol=3e-2)


def test_rope_kv_write_refuses_odd_rotary_dim():
    q = torch.randn(2, 4, 64, device="cuda")
    cache = torch.zeros(4, 16, 4, 64, device="cuda")
    with pytest.raises(model_ops.ops.FolioCudaError, match="rotary_dim"):
        model_ops.rope_kv_write(q, q, q, cache, cache.clone(), torch.zeros(2, dtype=torch.int32, device="cuda"),
                                torch.zeros(2, dtype=torch.int64, device="cuda"), torch.ones(31), layout="NHD",
                                rotary_dim=63)
