"""ctypes bindings of the layer kernels of libfolio_cuda.so over PyTorch tensors (folio_cuda.h, "Linear layers" and
the general paged attention): `Blas` with `linear` (cuBLASLt), and `paged_attention` (every dtype, sliding window,
decode and prefill rows together). Arguments are checked here (ValueError); the library's refusals raise
ops.FolioCudaError. Kernels run on the current CUDA stream of the tensors' device.
"""
from __future__ import annotations

import ctypes
from typing import Optional

import torch

from . import _cuda_abi as abi
from . import ops
from .ops import _check, _cuda, _int32, _require, _stream, cache_dims, paged_kv

__all__ = ["Blas", "paged_attention"]


class Blas:
    """A cuBLASLt handle with its plan cache and a workspace on `device` (one per thread, as folio_cuda.h says)."""

    def __init__(self, device: torch.device | str = "cuda"):
        handle = ctypes.c_void_p()
        _check(ops.library().folio_cuda_blas_create(ctypes.byref(handle)))
        self._handle = handle
        self.workspace = torch.empty(abi.GEMM_WORKSPACE_BYTES, dtype=torch.uint8, device=device)

    def close(self) -> None:
        if self._handle:
            _check(ops.library().folio_cuda_blas_destroy(self._handle))
            self._handle = ctypes.c_void_p()

    def __enter__(self) -> "Blas":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def linear(self, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
               out: Optional[torch.Tensor] = None, use_workspace: bool = True,
               batch_invariant: bool = False) -> torch.Tensor:
        """out = x @ weight.T (+ bias): x [m, k], weight [n, k], bias [n], out [m, n], all contiguous, one dtype.
        batch_invariant (float32 only): Folio's fixed-order kernel, so a row's result is bitwise independent of m."""
        _cuda("x", x)
        _require(x.dtype in ops._DTYPES, f"x must be float32, bfloat16 or float16 (got {x.dtype})")
        _require(x.dim() == 2 and x.is_contiguous(), "x must be a contiguous [m, k] tensor")
        _cuda("weight", weight, x.device)
        _require(weight.dim() == 2 and weight.is_contiguous() and weight.shape[1] == x.shape[1],
                 f"weight must be a contiguous [n, k={x.shape[1]}] tensor")
        _require(weight.dtype == x.dtype, "weight must have x's dtype")
        if bias is not None:
            _cuda("bias", bias, x.device)
            _require(bias.shape == (weight.shape[0],) and bias.dtype == x.dtype and bias.is_contiguous(),
                     f"bias must be a contiguous [n={weight.shape[0]}] tensor of x's dtype")
        if out is None:
            out = torch.empty(x.shape[0], weight.shape[0], dtype=x.dtype, device=x.device)
        _cuda("out", out, x.device)
        _require(out.shape == (x.shape[0], weight.shape[0]) and out.dtype == x.dtype and out.is_contiguous(),
                 "out must be a contiguous [m, n] tensor of x's dtype")
        p = abi.folio_cuda_gemm_params()
        p.struct_size, p.m, p.n, p.k, p.dtype = ctypes.sizeof(p), x.shape[0], weight.shape[0], x.shape[1], ops._DTYPES[x.dtype]
        p.out, p.x, p.weight = out.data_ptr(), x.data_ptr(), weight.data_ptr()
        p.bias = 0 if bias is None else bias.data_ptr()
        p.flags = abi.GEMM_BATCH_INVARIANT if batch_invariant else 0
        if use_workspace:
            p.workspace, p.workspace_bytes = self.workspace.data_ptr(), self.workspace.numel()
        _check(ops.library().folio_gemm(self._handle, ctypes.byref(p), _stream(x)))
        return out


def paged_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, block_tables: torch.Tensor,
                    cu_query_lens: torch.Tensor, context_lens: torch.Tensor, scale: Optional[float] = None,
                    window_left: int = 0, num_q_heads: Optional[int] = None, out: Optional[torch.Tensor] = None,
                    layout: str = "NHD") -> torch.Tensor:
    """Causal attention of q's tokens over their sequences' cached K/V (written first), the last `window_left`
    positions only when > 0. q [num_tokens, >= num_q_heads * head_dim] with contiguous rows (a slice of a fused QKV
    projection works), out [num_tokens, num_q_heads, head_dim]."""
    _cuda("q", q)
    _require(q.dtype in ops._DTYPES, f"q must be float32, bfloat16 or float16 (got {q.dtype})")
    _require(q.dim() == 2 and q.stride(1) == 1, "q must be a [num_tokens, cols] tensor with contiguous rows")
    block_size, num_kv_heads, head_dim = cache_dims(k_cache, layout)
    for name, t in (("k_cache", k_cache), ("v_cache", v_cache)):
        _cuda(name, t, q.device)
        _require(t.is_contiguous() and t.dtype == q.dtype, f"{name} must be contiguous and of q's dtype")
    _require(v_cache.shape == k_cache.shape, "v_cache must be shaped like k_cache")
    num_q_heads = num_q_heads or q.shape[1] // head_dim
    _require(num_q_heads * head_dim <= q.shape[1], f"q has {q.shape[1]} columns, fewer than {num_q_heads} heads")
    _int32("cu_query_lens", cu_query_lens, q.device)
    num_seqs = cu_query_lens.numel() - 1
    _int32("context_lens", context_lens, q.device)
    _int32("block_tables", block_tables, q.device)
    _require(block_tables.dim() == 2 and block_tables.shape[0] == num_seqs and block_tables.is_contiguous(),
             f"block_tables must be a contiguous [num_seqs={num_seqs}, max_blocks_per_seq] tensor")
    if out is None:
        out = torch.empty(q.shape[0], num_q_heads, head_dim, dtype=q.dtype, device=q.device)
    _cuda("out", out, q.device)
    _require(out.shape == (q.shape[0], num_q_heads, head_dim) and out.dtype == q.dtype and out.is_contiguous(),
             "out must be a contiguous [num_tokens, num_q_heads, head_dim] tensor of q's dtype")
    p = abi.folio_cuda_paged_attention_params()
    p.struct_size, p.num_seqs, p.num_tokens, p.num_q_heads = ctypes.sizeof(p), num_seqs, q.shape[0], num_q_heads
    p.max_blocks_per_seq, p.window_left = block_tables.shape[1], window_left
    p.scale = float(head_dim ** -0.5 if scale is None else scale)
    p.q_token_stride = q.stride(0) if q.shape[0] > 0 else q.shape[1]
    p.out, p.q, p.block_tables = out.data_ptr(), q.data_ptr(), block_tables.data_ptr()
    p.cu_query_lens, p.context_lens = cu_query_lens.data_ptr(), context_lens.data_ptr()
    cache = paged_kv(k_cache, v_cache, layout)
    _check(ops.library().folio_paged_attention(ctypes.byref(cache), ctypes.byref(p), _stream(q)))
    return out
