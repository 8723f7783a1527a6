"""folio_gemm (cuBLASLt): out = x . weight^T (+ bias) against a float64 reference on random data, odd shapes, every
output element written (NaN poison) and the memory around it untouched. fp32 must be true fp32 (TF32 would miss
the 1e-5 bound by two orders of magnitude)."""
import ctypes

import pytest
import torch

from folio import _cuda_abi as abi
from folio import ops
from folio.layers import Blas
from paged import guarded, guards_intact, rel_err

SHAPES = [(1, 17, 64), (19, 4099, 136), (99, 1000, 1000), (256, 32000, 64), (7, 128256, 128)]


@pytest.fixture(scope="module")
def blas():
    with Blas() as b:
        yield b


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_linear_matches_float64(blas, dtype, m, n, k, with_bias):
    x = torch.randn(m, k, device="cuda").to(dtype)
    w = (torch.randn(n, k, device="cuda") / k ** 0.5).to(dtype)
    bias = torch.randn(n, device="cuda").to(dtype) if with_bias else None
    out, whole, snapshot, guard = guarded((m, n), dtype)
    blas.linear(x, w, bias, out=out)
    torch.cuda.synchronize()
    assert not torch.isnan(out).any(), "an output element was not written"
    assert guards_intact(whole, snapshot, guard, m), "memory around the output was written"
    ref = x.double() @ w.double().T + (bias.double() if with_bias else 0)
    # fp32: fp32 accumulation over k terms; 16-bit: one rounding of each output to the dtype.
    bound = 1e-5 if dtype == torch.float32 else 8e-3
    assert rel_err(out, ref) < bound, (dtype, m, n, k, rel_err(out, ref))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_no_workspace_and_repeated_shapes(blas, dtype):
    """The plan cache keys on the shape: interleaved shapes, with and without a workspace, each give their own
    right answer."""
    for m, n, k in [(5, 300, 72), (33, 300, 72), (5, 300, 72), (5, 72, 300)] * 2:
        for use_ws in (True, False):
            x = torch.randn(m, k, device="cuda").to(dtype)
            w = torch.randn(n, k, device="cuda").to(dtype)
            out = blas.linear(x, w, use_workspace=use_ws)
            ref = x.double() @ w.double().T
            assert rel_err(out, ref) < (1e-5 if dtype == torch.float32 else 8e-3)


def test_zero_rows_and_refusals(blas):
    lib = ops.library()
    x = torch.randn(0, 8, device="cuda")
    w = torch.randn(4, 8, device="cuda")
    assert blas.linear(x, w).shape == (0, 4)
    p = abi.folio_cuda_gemm_params()
    p.struct_size, p.m, p.n, p.k, p.dtype = ctypes.sizeof(p), 2, 4, 8, abi.DTYPE_F32
    assert lib.folio_gemm(None, ctypes.byref(p), None) == abi.STATUS_INVALID_ARGUMENT  # no handle
    assert lib.folio_gemm(blas._handle, ctypes.byref(p), None) == abi.STATUS_INVALID_ARGUMENT  # null pointers
    assert "non-null" in lib.folio_cuda_last_error().decode()
    p.dtype = 7
    assert lib.folio_gemm(blas._handle, ctypes.byref(p), None) == abi.STATUS_INVALID_ARGUMENT
    p.dtype, p.struct_size = abi.DTYPE_F32, 8
    assert lib.folio_gemm(blas._handle, ctypes.byref(p), None) == abi.STATUS_STRUCT_SIZE
    assert lib.folio_cuda_blas_destroy(None) == abi.STATUS_OK


@pytest.mark.parametrize("m,n,k", SHAPES + [(130, 2050, 33)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_batch_invariant_matches_float64(blas, m, n, k, with_bias):
    x = torch.randn(m, k, device="cuda")
    w = torch.randn(n, k, device="cuda") / k ** 0.5
    bias = torch.randn(n, device="cuda") if with_bias else None
    out, whole, snapshot, guard = guarded((m, n), torch.float32)
    blas.linear(x, w, bias, out=out, batch_invariant=True)
    torch.cuda.synchronize()
    assert not torch.isnan(out).any(), "an output element was not written"
    assert guards_intact(whole, snapshot, guard, m), "memory around the output was written"
    ref = x.double() @ w.double().T + (bias.double() if with_bias else 0)
    assert rel_err(out, ref) < 1e-5, (m, n, k, rel_err(out, ref))


def test_batch_invariant_rows_do_not_depend_on_the_batch(blas):
    """Every row of a 200-row product equals, bit for bit, the same row computed alone, in a batch of 7 at another
    offset and in the whole batch reversed: the fixed k order makes a row's sum independent of m and of its place.
    (cuBLASLt gives no such promise; this is what the engine's fp32 mode needs for exactness under load.)"""
    torch.manual_seed(3)
    n, k = 1000, 777
    x = torch.randn(200, k, device="cuda")
    w = torch.randn(n, k, device="cuda") / k ** 0.5
    bias = torch.randn(n, device="cuda")
    whole = blas.linear(x, w, bias, batch_invariant=True)
    reversed_rows = blas.linear(x.flip(0).contiguous(), w, bias, batch_invariant=True).flip(0)
    assert torch.equal(whole, reversed_rows)
    for r in (0, 1, 63, 64, 65, 127, 199):
        alone = blas.linear(x[r:r + 1].contiguous(), w, bias, batch_invariant=True)
        assert torch.equal(alone[0], whole[r]), f"row {r} alone differs"
        lo = max(0, r - 3)
        seven = blas.linear(x[lo:lo + 7].contiguous(), w, bias, batch_invariant=True)
        assert torch.equal(seven[r - lo], whole[r]), f"row {r} in a batch of 7 differs"


def test_batch_invariant_refuses_16_bit(blas):
    x = torch.randn(3, 8, device="cuda").to(torch.bfloat16)
    w = torch.randn(4, 8, device="cuda").to(torch.bfloat16)
    with pytest.raises(Exception, match="BATCH_INVARIANT needs dtype F32"):
        blas.linear(x, w, batch_invariant=True)
    p = abi.folio_cuda_gemm_params()
    p.struct_size, p.m, p.n, p.k, p.dtype, p.flags = ctypes.sizeof(p), 2, 4, 8, abi.DTYPE_F32, 6
    assert ops.library().folio_gemm(blas._handle, ctypes.byref(p), None) == abi.STATUS_INVALID_ARGUMENT
    assert "unknown flags" in ops.library().folio_cuda_last_error().decode()
