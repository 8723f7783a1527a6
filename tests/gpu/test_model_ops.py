"""Embedding gather, residual add + RMSNorm and SiLU-and-mul against PyTorch fp32 references: odd sizes, random
data, every output element checked, outputs poisoned with NaN before each run and guard rows around them untouched."""
import pytest
import torch

from folio import model_ops

DTYPES = [torch.float32, torch.bfloat16, torch.float16]
# Tolerance of one rounding to dtype of an fp32 result (PyTorch's own bf16/fp16 ops round at each step).
TOL = {torch.float32: (1e-5, 1e-5), torch.bfloat16: (1.6e-2, 1e-2), torch.float16: (2e-3, 2e-3)}


def guarded(rows, cols, dtype, guard=3):
    """A NaN-poisoned [rows, cols] view with `guard` sentinel rows (value 7) before and after it."""
    buf = torch.full((rows + 2 * guard, cols), 7.0, dtype=dtype, device="cuda")
    buf[guard:guard + rows] = float("nan")
    return buf, buf[guard:guard + rows]


def assert_guards(buf, rows, guard=3):
    assert torch.all(buf[:guard] == 7) and torch.all(buf[guard + rows:] == 7), "a write outside the output"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_tokens", [1, 19, 99])
@pytest.mark.parametrize("vocab,hidden", [(32000, 64), (128256, 2048), (1000, 4095)])
def test_embedding_gather_exact(vocab, hidden, num_tokens, dtype):
    table = torch.randn(vocab, hidden, device="cuda").to(dtype)
    ids = torch.randint(0, vocab, (num_tokens,), dtype=torch.int32, device="cuda")
    ids[0] = vocab - 1
    buf, out = guarded(num_tokens, hidden, dtype)
    model_ops.embedding_gather(table, ids, out=out)
    torch.cuda.synchronize()
    assert torch.equal(out.view(torch.uint8), table[ids.long()].view(torch.uint8))
    assert_guards(buf, num_tokens)


def test_embedding_gather_out_of_range_ids_give_zeros():
    table = torch.randn(100, 64, device="cuda")
    ids = torch.tensor([5, -1, 100, 2**31 - 1, 99], dtype=torch.int32, device="cuda")
    out = model_ops.embedding_gather(table, ids)
    torch.cuda.synchronize()
    assert torch.equal(out[0], table[5]) and torch.equal(out[4], table[99])
    assert torch.all(out[1:4] == 0)


def rms_norm_reference(x, weight, eps, residual):
    """Hugging Face's Llama: residual + x in dtype, then RMSNorm in fp32, rounded to dtype, times weight in dtype."""
    r = x if residual is None else (residual + x)
    h = r.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype), r


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_tokens", [1, 19, 99])
@pytest.mark.parametrize("hidden", [64, 1000, 4096, 5120])
@pytest.mark.parametrize("with_residual", [True, False])
def test_add_rms_norm(hidden, num_tokens, dtype, with_residual):
    x = torch.randn(num_tokens, hidden, device="cuda").to(dtype)
    weight = (1 + 0.1 * torch.randn(hidden, device="cuda")).to(dtype)
    residual = (3 * torch.randn(num_tokens, hidden, device="cuda")).to(dtype) if with_residual else None
    expected, expected_residual = rms_norm_reference(x, weight, 1e-5, residual)
    buf, out = guarded(num_tokens, hidden, dtype)
    model_ops.add_rms_norm(x, weight, 1e-5, residual=residual, out=out)
    torch.cuda.synchronize()
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(out.float(), expected.float(), rtol=rtol, atol=atol)
    assert_guards(buf, num_tokens)
    if with_residual:
        # residual + x is one rounding of an exact sum: bit-exact.
        assert torch.equal(residual, expected_residual)


@pytest.mark.parametrize("hidden", [1000, 2048])   # the scalar kernel, and the 16-byte vector one
def test_add_rms_norm_in_place(hidden):
    x = torch.randn(19, hidden, device="cuda", dtype=torch.bfloat16)
    weight = torch.randn(hidden, device="cuda", dtype=torch.bfloat16)
    residual = torch.randn(19, hidden, device="cuda", dtype=torch.bfloat16)
    expected, _ = rms_norm_reference(x, weight, 1e-6, residual.clone())
    model_ops.add_rms_norm(x, weight, 1e-6, residual=residual, out=x)
    torch.cuda.synchronize()
    torch.testing.assert_close(x.float(), expected.float(), rtol=1.6e-2, atol=1e-2)


def test_add_rms_norm_rejects_aliased_residual():
    x = torch.randn(4, 64, device="cuda")
    with pytest.raises(model_ops.ops.FolioCudaError, match="alias"):
        model_ops.add_rms_norm(x, torch.ones(64, device="cuda"), 1e-5, residual=x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_tokens", [1, 19, 99])
@pytest.mark.parametrize("intermediate", [64, 1000, 1001, 8192, 14336])
def test_silu_and_mul(intermediate, num_tokens, dtype):
    # The fused gate_up projection as a strided slice (row stride past 2 * intermediate).
    fused = torch.randn(num_tokens, 2 * intermediate + 24, device="cuda").mul(3).to(dtype)
    x = fused[:, :2 * intermediate]
    gate, up = x[:, :intermediate].float(), x[:, intermediate:].float()
    expected = torch.nn.functional.silu(gate) * up
    buf, out = guarded(num_tokens, intermediate, dtype)
    model_ops.silu_and_mul(x, out=out)
    torch.cuda.synchronize()
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(out.float(), expected, rtol=2 * rtol, atol=2 * atol)
    assert_guards(buf, num_tokens)
    if dtype == torch.bfloat16:
        # PyTorch's own bf16 ops (silu rounded, then the product rounded) agree to two bf16 steps at most.
        torch_bf16 = torch.nn.functional.silu(x[:, :intermediate]) * x[:, intermediate:]
        torch.testing.assert_close(out.float(), torch_bf16.float(), rtol=1.6e-2, atol=1.6e-2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_silu_and_mul_vector_and_scalar_paths_agree_bit_for_bit(dtype):
    # Row stride 2 * 4096 + 24 takes the 16-byte path, + 25 the strided one: the same values give the same bits.
    rows, inter = 19, 4096
    values = torch.randn(rows, 2 * inter, device="cuda").mul(3).to(dtype)
    outs = []
    for pad in (24, 25):
        fused = torch.zeros(rows, 2 * inter + pad, device="cuda", dtype=dtype)
        fused[:, :2 * inter] = values
        out = torch.empty(rows, inter, device="cuda", dtype=dtype)
        model_ops.silu_and_mul(fused[:, :2 * inter], out=out)
        outs.append(out)
    torch.cuda.synchronize()
    assert torch.equal(outs[0], outs[1])


def test_zero_tokens_is_a_no_op():
    x = torch.empty(0, 128, device="cuda")
    assert model_ops.silu_and_mul(x).shape == (0, 64)
    assert model_ops.add_rms_norm(x, torch.ones(128, device="cuda"), 1e-5).shape == (0, 128)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_tokens", [1, 19, 99])
@pytest.mark.parametrize("heads,kv_heads,head_dim", [(16, 8, 128), (4, 2, 24), (5, 1, 250), (3, 3, 1000)])
def test_head_rms_norm_on_a_fused_qkv(heads, kv_heads, head_dim, num_tokens, dtype):
    """Qwen3's q_norm / k_norm: transformers' Qwen3RMSNorm on each head (fp32 math, rounded to dtype before the
    weight), run in place on the query heads and on the key heads of a fused QKV row; the value heads and the
    bytes between rows (a padded stride) untouched."""
    stride = (heads + 2 * kv_heads) * head_dim + 8
    qkv = (3 * torch.randn(num_tokens, stride, device="cuda")).to(dtype)
    before = qkv.clone()
    q_weight = (1 + 0.1 * torch.randn(head_dim, device="cuda")).to(dtype)
    k_weight = (1 + 0.1 * torch.randn(head_dim, device="cuda")).to(dtype)

    def reference(x, weight):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6)
        return weight * h.to(dtype)

    q = qkv[:, :heads * head_dim].unflatten(1, (heads, head_dim))
    k = qkv[:, heads * head_dim:(heads + kv_heads) * head_dim].unflatten(1, (kv_heads, head_dim))
    expected_q, expected_k = reference(q, q_weight), reference(k, k_weight)
    model_ops.head_rms_norm(q, q_weight, 1e-6)
    model_ops.head_rms_norm(k, k_weight, 1e-6)
    torch.cuda.synchronize()
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(q.float(), expected_q.float(), rtol=rtol, atol=atol)
    torch.testing.assert_close(k.float(), expected_k.float(), rtol=rtol, atol=atol)
    assert torch.equal(qkv[:, (heads + kv_heads) * head_dim:], before[:, (heads + kv_heads) * head_dim:])


def test_head_rms_norm_refuses_bad_shapes():
    x = torch.randn(4, 2 * 1026, device="cuda").unflatten(1, (2, 1026))
    with pytest.raises(model_ops.ops.FolioCudaError, match="head_dim"):
        model_ops.head_rms_norm(x, torch.ones(1026, device="cuda"), 1e-6)
    with pytest.raises(ValueError):
        model_ops.head_rms_norm(torch.randn(4, 64, device="cuda"), torch.ones(64, device="cuda"), 1e-6)
