"""paged_prefill on the edges of its tiles, each kernel asked for by the call (folio_cuda_paged_prefill_params.kernel):
"sm90" is the wgmma kernel of compute capability 9.0 (128-row CTAs of two warpgroups, 128-key tiles), "sm80" the
mma.sync kernel (128-row CTAs, 64-key tiles). On other GPUs, or in a build without the sm_90a kernel, the library
refuses "sm90": each case asks it first (ops.prefill_kernel) and an "sm90" case it would refuse is skipped with the
reason, never passed. Checks every row, not only each sequence as a
whole, so that one wrong row of a long sequence cannot hide in the average."""
import pytest
import torch

from folio import ops
from paged import default_scale, guarded, guards_intact, prefill_inputs, prefill_refs, rel_err, tolerance

# (context length, new query tokens): key tiles of 64/128 +- 1, row tiles of 128 rows crossed mid-token
# (group 3), prefix hits whose new tokens start inside a tile, single new tokens deep in the context.
EDGE_CASES = [(127, 127), (128, 128), (129, 129), (255, 255), (256, 256), (257, 257), (384, 130), (1000, 17),
              (520, 1), (131, 3), (700, 640), (64, 64), (65, 2)]
ROW_TOLERANCE = 5e-2  # one row's ‖out − ref‖ / ‖ref‖ (bf16/fp16 rounding stays near 3e-3)


def use_kernel(kernel, head_dim=128, dtype=torch.bfloat16):
    """Checks that the library runs `kernel` for these arguments (skips an "sm90" case where the sm_90a kernel is
    not built or the card is not compute capability 9.0); returns it for the calls' kernel argument."""
    try:
        taken = ops.prefill_kernel(head_dim, dtype, kernel=kernel)
    except ops.FolioCudaError as e:
        if kernel != "sm90":
            raise
        pytest.skip(f"the sm_90a prefill kernel does not run here (compute capability "
                    f"{torch.cuda.get_device_capability()}): {e}")
    assert taken == kernel
    return kernel


def run_cases(cases, num_kv_heads, group, head_dim, block_size, dtype, layout, kernel):
    pool, cu, q = prefill_inputs(cases, num_kv_heads, group, head_dim, block_size, dtype, layout)
    num_tokens = q.shape[0]
    out, whole, snapshot, guard = guarded(q.shape, dtype)
    scale = default_scale(head_dim)
    ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens,
                      max(n for _, n in cases), scale=scale, out=out, layout=layout, kernel=kernel)
    torch.cuda.synchronize()
    assert guards_intact(whole, snapshot, guard, num_tokens), "prefill wrote outside its output"
    assert not torch.isnan(out).any(), "NaN in the output (an unwritten element or a read of a poisoned slot)"
    worst_seq, worst_row = 0.0, 0.0
    for a, b, ref in prefill_refs(cases, pool, cu, q, scale):
        worst_seq = max(worst_seq, rel_err(out[a:b], ref))
        diff = (out[a:b].float() - ref.float()).norm(dim=-1)
        rows = diff / ref.float().norm(dim=-1).clamp_min(1e-6)
        worst_row = max(worst_row, rows.max().item())
    assert worst_seq <= tolerance(dtype), f"relative error {worst_seq:.3e} > {tolerance(dtype):.0e}"
    assert worst_row <= ROW_TOLERANCE, f"worst row's relative error {worst_row:.3e} > {ROW_TOLERANCE:.0e}"


@pytest.mark.parametrize("kernel", ["sm80", "sm90"])
@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("group", [1, 3, 8])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_prefill_tile_edges(head_dim, group, dtype, layout, kernel):
    run_cases(EDGE_CASES, 2, group, head_dim, 16, dtype, layout, use_kernel(kernel, head_dim, dtype))


@pytest.mark.parametrize("kernel", ["sm80", "sm90"])
@pytest.mark.parametrize("block_size", [4, 8, 32, 256])
def test_prefill_long_prompt_and_prefix_hit(block_size, kernel):
    # Block sizes 4 and 256 too: many blocks per 128-key tile, and a block longer than a tile.
    # A whole 4k prompt (32 tiles of keys) and a prefix hit of 300 new tokens after 3,800 cached ones.
    run_cases([(4096, 4096), (4100, 300)], 2, 4, 128, block_size, torch.bfloat16, "HND", use_kernel(kernel))


def test_prefill_kernels_agree():
    # Same inputs through both kernels: they compute the same function (bf16 rounding apart).
    dtype, hkv, g, d = torch.bfloat16, 2, 4, 128
    cases = [(900, 900), (513, 200), (70, 1)]
    pool, cu, q = prefill_inputs(cases, hkv, g, d, 16, dtype, "HND")
    outs = {}
    for kernel in ("sm80", "sm90"):
        use_kernel(kernel, d, dtype)   # skips rather than compare the sm80 kernel with itself
        outs[kernel] = ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens,
                                         max(n for _, n in cases), layout="HND", kernel=kernel)
    torch.cuda.synchronize()
    assert rel_err(outs["sm90"], outs["sm80"]) <= 1e-2


@pytest.mark.parametrize("kernel", ["sm80", "sm90"])
def test_prefill_bad_sequence_stays_its_own(kernel):
    # An inf in one valid K slot of sequence 0 makes its rows NaN (its own bad input); the other sequences of the
    # launch must still come out right. The sm90 kernel's persistent CTAs take items in index order (sequence 0's
    # 264 items first), so a CTA that finished a NaN item of sequence 0 goes on to sequences 1 and 2.
    use_kernel(kernel)
    cases = [(4224, 4224), (600, 600), (300, 300)]
    dtype, hkv, group, d = torch.bfloat16, 2, 4, 128
    pool, cu, q = prefill_inputs(cases, hkv, group, d, 16, dtype, "NHD")
    first_block = pool.block_tables[0, 0].long()
    pool.k_cache[first_block, 0] = float("inf")  # position 0 of sequence 0, both KV heads
    scale = default_scale(d)
    out = ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens,
                            max(n for _, n in cases), scale=scale, out=torch.empty_like(q), layout="NHD",
                            kernel=kernel)
    torch.cuda.synchronize()
    refs = list(prefill_refs(cases, pool, cu, q, scale))
    assert not torch.isfinite(out[refs[0][0]:refs[0][1]].float()).all(), "the poisoned sequence should show it"
    for a, b, ref in refs[1:]:
        assert torch.isfinite(out[a:b].float()).all(), "a clean sequence got NaN/inf from another one"
        assert rel_err(out[a:b], ref) <= tolerance(dtype)


def test_prefill_kernel_query_follows_the_dispatch_rule():
    # The query the cases above rely on: "sm80" is always the mma.sync kernel, fp32, head_dim 96 and a negative
    # scale never take the sm_90a one ("auto" falls back, "sm90" is refused naming why), and on a
    # compute-capability 9.0 card a build made for sm_90 (bench/gpu_session.sh builds with
    # CMAKE_CUDA_ARCHITECTURES=90) takes it when asked, and by default.
    assert ops.prefill_kernel(128, torch.bfloat16, kernel="sm80") == "sm80"
    for head_dim, dtype, scale in ((128, torch.float32, None), (96, torch.bfloat16, None), (128, torch.bfloat16, -1.0)):
        assert ops.prefill_kernel(head_dim, dtype, scale=scale) == "sm80"
        with pytest.raises(ops.FolioCudaError, match="UNSUPPORTED.*sm_90a kernel does not apply"):
            ops.prefill_kernel(head_dim, dtype, scale=scale, kernel="sm90")
    with pytest.raises(ValueError, match="kernel must be one of"):
        ops.prefill_kernel(128, torch.bfloat16, kernel="sm100")
    if torch.cuda.get_device_capability() != (9, 0):
        pytest.skip("not a compute-capability 9.0 card: the sm_90a kernel never applies")
    assert ops.prefill_kernel(64, torch.float16, kernel="sm90") == ops.prefill_kernel(128, torch.bfloat16) == "sm90", \
        "a CC 9.0 card without the sm_90a kernel: rebuild with sm_90 among the targets (nvcc >= 12)"


def test_prefill_refuses_sm90_where_it_does_not_apply():
    # A call asking for the sm_90a kernel where it cannot run (a negative scale: on every card and build) is refused,
    # never run on the other kernel in its place; "auto" runs the same call on the mma.sync kernel.
    pool, cu, q = prefill_inputs([(40, 40)], 2, 2, 128, 16, torch.bfloat16, "HND")
    with pytest.raises(ops.FolioCudaError, match="UNSUPPORTED.*sm_90a kernel does not apply"):
        ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens, 40, scale=-0.1,
                          layout="HND", kernel="sm90")
    out = ops.paged_prefill(q, pool.k_cache, pool.v_cache, pool.block_tables, cu, pool.context_lens, 40, scale=-0.1,
                            layout="HND")
    torch.cuda.synchronize()
    assert torch.isfinite(out.float()).all()
