"""paged_attention_decode vs an fp32 PyTorch reference over the same paged cache."""
import ctypes

import pytest
import torch

from folio import _cuda_abi, ops
from paged import attention_ref, default_scale, guarded, guards_intact, make_pool, rel_err, tolerance

ODD_LENS = [1, 15, 16, 17, 1000, 4097]


def run_decode(lens, num_kv_heads, group, head_dim, block_size, dtype, layout="NHD"):
    pool = make_pool(lens, num_kv_heads, head_dim, block_size, dtype, layout=layout)
    num_seqs = len(lens)
    q = torch.randn(num_seqs, num_kv_heads * group, head_dim, device="cuda").to(dtype)
    out, whole, snapshot, guard = guarded(q.shape, dtype)
    k_before, v_before = pool.k_cache.clone(), pool.v_cache.clone()
    scale = default_scale(head_dim)
    ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens,
                               max(lens), scale=scale, out=out, layout=layout)
    torch.cuda.synchronize()
    assert guards_intact(whole, snapshot, guard, num_seqs), "decode wrote outside its output"
    assert torch.equal(pool.k_cache.view(torch.uint8), k_before.view(torch.uint8)), "decode wrote into k_cache"
    assert torch.equal(pool.v_cache.view(torch.uint8), v_before.view(torch.uint8)), "decode wrote into v_cache"
    assert not torch.isnan(out).any(), "NaN in the output (an unwritten element or a read of a poisoned slot)"
    worst = 0.0
    for s, n in enumerate(lens):
        if n == 0:
            assert torch.count_nonzero(out[s]) == 0, "an empty context must give zeros"
            continue
        ref = attention_ref(q[s:s + 1], pool.gather(s, pool.k_cache), pool.gather(s, pool.v_cache), scale)
        worst = max(worst, rel_err(out[s:s + 1], ref))
    assert worst <= tolerance(dtype), f"relative error {worst:.3e} > {tolerance(dtype):.0e}"
    return worst


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("block_size", [8, 16, 32])
@pytest.mark.parametrize("group", [1, 4, 8])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_decode_batch19_odd_lengths(head_dim, group, block_size, dtype, layout):
    gen = torch.Generator().manual_seed(head_dim * 1000 + group * 100 + block_size)
    extra = torch.randint(1, 1200, (19 - len(ODD_LENS) * 2,), generator=gen).tolist()
    lens = ODD_LENS + ODD_LENS[::-1] + extra
    run_decode(lens, 2, group, head_dim, block_size, dtype, layout)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("group", [1, 4, 8])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_decode_batch1_long_context_uses_split_kv(head_dim, group, layout):
    # One sequence cannot fill the GPU: the launch splits the context and combines the pieces.
    assert ops.decode_workspace_size(1, 2 * group, 2, head_dim, 4097) > 0
    run_decode([4097], 2, group, head_dim, 16, torch.bfloat16, layout)


@pytest.mark.parametrize("length", [16384, 15000])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_decode_split_merge_full_group_many_splits(head_dim, length):
    # A full group (16 query heads on one KV head) over a long context: many splits (128 and 79 on an H100: whole
    # batches of sixteen, then a last batch with empty slots), merged batch by batch by the last CTA, several
    # output columns per thread.
    workspace = ops.decode_workspace_size(1, 16, 1, head_dim, length)
    num_splits = (workspace - 4) // (16 * (head_dim + 1) * 4)  # partial outputs and log-sums, then one counter
    assert num_splits >= 32, f"expected a many-way split, got {num_splits}"
    run_decode([length], 1, 16, head_dim, 16, torch.bfloat16, "HND")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_decode_batch1_single_token(dtype):
    run_decode([1], 8, 4, 128, 16, dtype)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("group", [1, 8])
def test_decode_batch99_random_lengths(group, layout):
    lens = ODD_LENS + torch.randint(1, 1500, (99 - len(ODD_LENS),)).tolist()
    run_decode(lens, 2, group, 128, 16, torch.bfloat16, layout)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
def test_decode_split_with_short_and_empty_sequences(layout):
    # Splits past a short sequence's end hold no keys; a zero-length context gives zeros.
    run_decode([8192, 3, 0, 130, 8191], 1, 8, 128, 32, torch.bfloat16, layout)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
def test_decode_all_empty_with_zero_width_block_table(layout):
    # max_context_len 0 allows max_blocks_per_seq 0 with a non-null table pointer (through the C ABI; PyTorch
    # gives a zero-width tensor a null pointer, which the ABI refuses): accepted, zeros out, nothing else
    # written. That no table entry is read (load_kv_tile's table_len > 0 guard) shows only under
    # compute-sanitizer with PyTorch's allocator cache off, where the table is an allocation of its own and a
    # read at index -1 falls outside it: bench/gpu_session.sh test runs this test that way.
    pool = make_pool([5], 2, 128, 16, torch.bfloat16, layout=layout)  # any cache; no entry of it is read
    q = torch.randn(3, 8, 128, device="cuda").to(torch.bfloat16)
    out, whole, snapshot, guard = guarded(q.shape, torch.bfloat16)
    table_buf = torch.zeros(1, dtype=torch.int32, device="cuda")
    lens = torch.zeros(3, dtype=torch.int32, device="cuda")
    need = ops.decode_workspace_size(3, 8, 2, 128, 0)
    ws = torch.zeros(max(need, 16), dtype=torch.uint8, device="cuda")
    lib = ops.library()
    cache = ops.paged_kv(pool.k_cache, pool.v_cache, layout)
    params = _cuda_abi.folio_cuda_paged_attention_decode_params(
        ctypes.sizeof(_cuda_abi.folio_cuda_paged_attention_decode_params), 3, 8, 0, 0, 128 ** -0.5, out.data_ptr(),
        q.data_ptr(), table_buf.data_ptr(), lens.data_ptr(), ws.data_ptr(), ws.numel())
    status = lib.folio_paged_attention_decode(ctypes.byref(cache), ctypes.byref(params),
                                              torch.cuda.current_stream().cuda_stream)
    torch.cuda.synchronize()
    assert status == 0, lib.folio_cuda_last_error().decode()
    assert guards_intact(whole, snapshot, guard, 3), "decode wrote outside its output"
    assert torch.count_nonzero(out) == 0, "empty contexts must give zeros"


def test_decode_many_heads_no_split():
    # Enough (sequence, KV head) pairs to fill the GPU: a single pass, no workspace.
    lens = torch.randint(1, 600, (64,)).tolist()
    assert ops.decode_workspace_size(64, 32, 8, 128, max(lens)) == 0
    run_decode(lens, 8, 4, 128, 16, torch.float16)


def test_decode_rejects_bad_arguments():
    pool = make_pool([5], 2, 96, 16, torch.bfloat16)
    q = torch.randn(1, 4, 96, device="cuda", dtype=torch.bfloat16)
    with pytest.raises(ops.FolioCudaError, match="head_dim 96"):
        ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens, 5,
                                   layout="NHD")
    with pytest.raises(ValueError, match="fp16 or bf16"):
        ops.paged_attention_decode(q.float(), pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens, 5,
                                   layout="NHD")
    pool = make_pool([5], 2, 128, 12, torch.bfloat16)
    q = torch.randn(1, 4, 128, device="cuda", dtype=torch.bfloat16)
    with pytest.raises(ops.FolioCudaError, match="power of two"):
        ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens, 5,
                                   layout="NHD")
    with pytest.raises(ValueError, match="layout"):
        ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens, 5,
                                   layout="NDH")
    pool = make_pool([5], 2, 128, 16, torch.bfloat16)
    with pytest.raises(ops.FolioCudaError, match=r"max_context_len must be in \[0, 2\^30\]"):
        ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens,
                                   (1 << 30) + 1, layout="NHD")


def test_decode_workspace_reused_across_launches():
    # The split counters live in the workspace: each launch must leave them zeroed for the next one.
    pool = make_pool([5000, 77, 3000], 2, 128, 16, torch.bfloat16, layout="HND")
    need = ops.decode_workspace_size(3, 8, 2, 128, 5000)
    assert need > 0
    ws = torch.zeros(need, dtype=torch.uint8, device="cuda")
    outs = []
    for _ in range(4):
        q = torch.randn(3, 8, 128, device="cuda").to(torch.bfloat16)
        out = ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens, 5000,
                                         workspace=ws, layout="HND")
        torch.cuda.synchronize()
        for s, n in enumerate(pool.lens):
            ref = attention_ref(q[s:s + 1], pool.gather(s, pool.k_cache), pool.gather(s, pool.v_cache), 128 ** -0.5)
            assert rel_err(out[s:s + 1], ref) <= 1e-2
        outs.append(out)
    assert torch.count_nonzero(ws[-3 * 2 * 4:]) == 0, "split counters not reset"
