"""kv_write (reshape-and-cache): exact bytes, negative slots skipped, nothing else touched."""
import pytest
import torch

from folio import ops
from paged import from_nhd


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("block_size", [8, 16, 32])
@pytest.mark.parametrize("num_tokens", [1, 19, 99, 1000])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_kv_write_exact(head_dim, num_tokens, block_size, dtype, layout):
    num_blocks, hkv = 3 + (num_tokens + block_size - 1) // block_size + 4, 4
    k_cache = torch.randn(num_blocks, block_size, hkv, head_dim, device="cuda").to(dtype)
    v_cache = torch.randn(num_blocks, block_size, hkv, head_dim, device="cuda").to(dtype)
    # Key/value as slices of a fused projection: token stride larger than the row.
    fused = torch.randn(num_tokens, 3 * hkv * head_dim + 8, device="cuda").to(dtype)
    key = fused[:, :hkv * head_dim].view(num_tokens, hkv, head_dim)
    value = fused[:, hkv * head_dim:2 * hkv * head_dim].view(num_tokens, hkv, head_dim)
    # Distinct slots away from the first and last 3 blocks (sentinels); every 7th token is padding.
    lo, hi = 3 * block_size, (num_blocks - 3) * block_size
    slots = (torch.randperm(hi - lo, device="cuda")[:num_tokens] + lo).long()
    slots[::7] = -1
    expected_k, expected_v = k_cache.clone(), v_cache.clone()
    keep = slots >= 0
    expected_k.view(-1, hkv, head_dim)[slots[keep]] = key[keep]
    expected_v.view(-1, hkv, head_dim)[slots[keep]] = value[keep]
    k_cache, v_cache = from_nhd(k_cache, layout), from_nhd(v_cache, layout)
    expected_k, expected_v = from_nhd(expected_k, layout), from_nhd(expected_v, layout)
    ops.kv_write(key, value, k_cache, v_cache, slots, layout=layout)
    torch.cuda.synchronize()
    assert torch.equal(k_cache.view(torch.uint8), expected_k.view(torch.uint8))
    assert torch.equal(v_cache.view(torch.uint8), expected_v.view(torch.uint8))


def test_kv_write_out_of_range_slot_is_skipped():
    k_cache = torch.randn(4, 16, 2, 64, device="cuda")
    v_cache = torch.randn(4, 16, 2, 64, device="cuda")
    before_k, before_v = k_cache.clone(), v_cache.clone()
    key = torch.randn(2, 2, 64, device="cuda")
    slots = torch.tensor([64, 10**9], dtype=torch.int64, device="cuda")
    ops.kv_write(key, key, k_cache, v_cache, slots, layout="NHD")
    torch.cuda.synchronize()
    assert torch.equal(k_cache, before_k) and torch.equal(v_cache, before_v)


def test_kv_write_rejects_wrong_dtype():
    k_cache = torch.zeros(4, 16, 2, 64, device="cuda", dtype=torch.bfloat16)
    key = torch.randn(2, 2, 64, device="cuda")
    with pytest.raises(ValueError, match="dtype"):
        ops.kv_write(key, key, k_cache, k_cache, torch.zeros(2, dtype=torch.int64, device="cuda"), layout="NHD")
