"""ctypes bindings of the model-runner kernels of libfolio_cuda.so (folio_cuda.h, "Model ops" and "Sampling on
the GPU") over PyTorch tensors: embedding gather, residual add + RMSNorm, SiLU-and-mul, RoPE fused with the KV
write, and sampling. Arguments are checked here (ValueError naming the argument); the library's refusals raise
ops.FolioCudaError. Kernels run on the current CUDA stream of the tensors' device.
"""
from __future__ import annotations

import ctypes
from typing import Optional, Sequence

import torch

from . import _cuda_abi as abi
from . import ops
from .ops import _check, _cuda, _require, _stream, cache_dims

__all__ = ["embedding_gather", "add_rms_norm", "head_rms_norm", "silu_and_mul", "rope_inv_freq", "rope_kv_write", "sample",
           "SampleResult", "MAX_LOGPROBS"]

MAX_LOGPROBS = abi.MAX_LOGPROBS
_FLOAT_DTYPES = ops._DTYPES
# The header's structs (folio/_cuda_abi.py declares them and every function; ops.library() loads them).
PagedKv = abi.folio_cuda_paged_kv
RopeConfig = abi.folio_cuda_rope_config
RopeKvWriteParams = abi.folio_cuda_rope_kv_write_params
SampleParams = abi.folio_cuda_sample_params


def _lib() -> ctypes.CDLL:
    return ops.library()


def _float_tensor(name: str, t: torch.Tensor, device=None) -> int:
    _cuda(name, t, device)
    _require(t.dtype in _FLOAT_DTYPES, f"{name} must be float32, bfloat16 or float16 (got {t.dtype})")
    return _FLOAT_DTYPES[t.dtype]


def embedding_gather(table: torch.Tensor, token_ids: torch.Tensor, out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """out[t] = table[token_ids[t]] (zeros for an id outside the table). table [vocab, hidden] contiguous."""
    _cuda("table", table)
    _require(table.dim() == 2 and table.is_contiguous(), "table must be a contiguous [vocab_size, hidden] tensor")
    _cuda("token_ids", token_ids, table.device)
    _require(token_ids.dtype == torch.int32 and token_ids.dim() == 1 and token_ids.is_contiguous(),
             "token_ids must be a contiguous int32 [num_tokens] tensor")
    if out is None:
        out = torch.empty(token_ids.shape[0], table.shape[1], dtype=table.dtype, device=table.device)
    _cuda("out", out, table.device)
    _require(out.shape == (token_ids.shape[0], table.shape[1]) and out.dtype == table.dtype and out.is_contiguous(),
             "out must be a contiguous [num_tokens, hidden] tensor of table's dtype")
    _check(_lib().folio_embedding_gather(out.data_ptr(), table.data_ptr(), token_ids.data_ptr(), token_ids.shape[0],
                                         table.shape[0], table.shape[1], table.element_size(), _stream(table)))
    return out


def add_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float, residual: Optional[torch.Tensor] = None,
                 out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """RMSNorm of x (or of residual += x, updated in place when given); x, residual, out [num_tokens, hidden]."""
    dtype = _float_tensor("x", x)
    _require(x.dim() == 2 and x.is_contiguous(), "x must be a contiguous [num_tokens, hidden] tensor")
    for name, t in (("weight", weight), ("residual", residual)):
        if t is not None:
            _float_tensor(name, t, x.device)
            _require(t.dtype == x.dtype and t.is_contiguous(), f"{name} must be contiguous and of x's dtype")
    _require(weight.shape == (x.shape[1],), f"weight must be [hidden={x.shape[1]}]")
    _require(residual is None or residual.shape == x.shape, "residual must be shaped like x")
    if out is None:
        out = torch.empty_like(x)
    _float_tensor("out", out, x.device)
    _require(out.shape == x.shape and out.dtype == x.dtype and out.is_contiguous(), "out must be shaped like x")
    _check(_lib().folio_add_rms_norm(out.data_ptr(), 0 if residual is None else residual.data_ptr(), x.data_ptr(),
                                     weight.data_ptr(), x.shape[0], x.shape[1], float(eps), dtype, _stream(x)))
    return out


def head_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm of each head of x [num_tokens, num_heads, head_dim] in place (heads contiguous; tokens may be strided,
    as a slice of a fused QKV projection), times weight [head_dim]: Qwen3's q_norm / k_norm. Returns x."""
    dtype = _float_tensor("x", x)
    _require(x.dim() == 3 and x.stride(2) == 1 and x.stride(1) == x.shape[2],
             "x must be [num_tokens, num_heads, head_dim] with each token's heads contiguous")
    _float_tensor("weight", weight, x.device)
    _require(weight.dtype == x.dtype and weight.is_contiguous() and weight.shape == (x.shape[2],),
             f"weight must be a contiguous [head_dim={x.shape[2]}] tensor of x's dtype")
    _check(_lib().folio_head_rms_norm(x.data_ptr(), weight.data_ptr(), x.shape[0], x.shape[1], x.shape[2],
                                      x.stride(0) if x.shape[0] > 1 else x.shape[1] * x.shape[2], float(eps), dtype,
                                      _stream(x)))
    return x


def silu_and_mul(x: torch.Tensor, intermediate: Optional[int] = None, out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """silu(x[:, :I]) * x[:, I:2I] for the fused gate_up projection x [num_tokens, >= 2I] (rows may be strided)."""
    dtype = _float_tensor("x", x)
    _require(x.dim() == 2 and x.stride(1) == 1, "x must be [num_tokens, 2 * intermediate] with contiguous rows")
    intermediate = x.shape[1] // 2 if intermediate is None else intermediate
    _require(0 < 2 * intermediate <= x.shape[1], f"intermediate {intermediate} does not fit x's {x.shape[1]} columns")
    if out is None:
        out = torch.empty(x.shape[0], intermediate, dtype=x.dtype, device=x.device)
    _float_tensor("out", out, x.device)
    _require(out.shape == (x.shape[0], intermediate) and out.dtype == x.dtype and out.is_contiguous(),
             "out must be a contiguous [num_tokens, intermediate] tensor of x's dtype")
    stride = x.stride(0) if x.shape[0] > 1 else x.shape[1]
    _check(_lib().folio_silu_and_mul(out.data_ptr(), x.data_ptr(), x.shape[0], intermediate, stride, dtype, _stream(x)))
    return out


def rope_inv_freq(rotary_dim: int, theta: float, llama3: Optional[dict] = None) -> torch.Tensor:
    """The fp32 inverse frequencies (CPU tensor); llama3 = {"factor", "low_freq_factor", "high_freq_factor",
    "original_max_position_embeddings"} selects Llama 3.1's scaling."""
    config = RopeConfig(ctypes.sizeof(RopeConfig), rotary_dim, theta, 0, 1.0, 1.0, 4.0, 8192)
    if llama3 is not None:
        config.scaling, config.factor = 1, llama3["factor"]
        config.low_freq_factor, config.high_freq_factor = llama3["low_freq_factor"], llama3["high_freq_factor"]
        config.original_max_position = llama3["original_max_position_embeddings"]
    out = (ctypes.c_float * (rotary_dim // 2))()
    _check(_lib().folio_rope_inv_freq(ctypes.byref(config), out, rotary_dim // 2))
    return torch.tensor(list(out), dtype=torch.float32)


def rope_kv_write(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                  positions: torch.Tensor, slot_mapping: torch.Tensor, inv_freq: torch.Tensor, layout: str = "HND",
                  rotary_dim: Optional[int] = None, q_out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Rotates q [T, Hq, D] into q_out and writes rotated k and v [T, Hkv, D] (token strides free, heads contiguous)
    into the cache slots of slot_mapping (int64); returns q_out."""
    dtype = _float_tensor("q", q)
    block_size, num_kv_heads, head_dim = cache_dims(k_cache, layout)
    for name, t, heads in (("q", q, q.shape[1] if q.dim() == 3 else 0), ("k", k, num_kv_heads), ("v", v, num_kv_heads)):
        _float_tensor(name, t, q.device)
        _require(t.dim() == 3 and t.shape[1:] == (heads, head_dim) and t.shape[0] == q.shape[0],
                 f"{name} must be [num_tokens, {heads}, {head_dim}]")
        _require(t.stride(2) == 1 and t.stride(1) == head_dim, f"{name} must have contiguous heads within a token")
        _require(t.dtype == q.dtype, f"{name} dtype {t.dtype} != q dtype {q.dtype}")
    for name, t in (("k_cache", k_cache), ("v_cache", v_cache)):
        _float_tensor(name, t, q.device)
        _require(t.dtype == q.dtype and t.is_contiguous() and t.shape == k_cache.shape,
                 f"{name} must be contiguous, of q's dtype and shaped as k_cache")
    num_tokens = q.shape[0]
    _cuda("positions", positions, q.device)
    _require(positions.dtype == torch.int32 and positions.shape == (num_tokens,) and positions.is_contiguous(),
             "positions must be a contiguous int32 [num_tokens] tensor")
    _cuda("slot_mapping", slot_mapping, q.device)
    _require(slot_mapping.dtype == torch.int64 and slot_mapping.shape == (num_tokens,) and slot_mapping.is_contiguous(),
             "slot_mapping must be a contiguous int64 [num_tokens] tensor")
    rotary_dim = head_dim if rotary_dim is None else rotary_dim
    inv_freq = inv_freq.to(device=q.device, dtype=torch.float32).contiguous()
    _require(inv_freq.shape == (rotary_dim // 2,), f"inv_freq must be [rotary_dim / 2 = {rotary_dim // 2}]")
    if q_out is None:
        q_out = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    _require(q_out.shape == q.shape and q_out.dtype == q.dtype and q_out.is_contiguous(), "q_out must be shaped like q")
    cache = ops.paged_kv(k_cache, v_cache, layout)
    stride = lambda t: t.stride(0) if num_tokens > 1 else t.shape[1] * head_dim  # noqa: E731
    params = RopeKvWriteParams(ctypes.sizeof(RopeKvWriteParams), num_tokens, q.shape[1], rotary_dim, q_out.data_ptr(),
                               q.data_ptr(), k.data_ptr(), v.data_ptr(), stride(q), stride(k), stride(v),
                               positions.data_ptr(), slot_mapping.data_ptr(), inv_freq.data_ptr())
    _check(_lib().folio_rope_kv_write(ctypes.byref(cache), ctypes.byref(params), _stream(q)))
    torch.cuda.current_stream(q.device).synchronize()  # inv_freq may be a temporary
    return q_out


class SampleResult:
    def __init__(self, sampled, sampled_logprobs, top_ids, top_logprobs):
        self.sampled, self.sampled_logprobs = sampled, sampled_logprobs
        self.top_ids, self.top_logprobs = top_ids, top_logprobs


def _csr(lists: Optional[Sequence[Sequence[int]]], rows: int, device):
    if lists is None:
        return None, None
    _require(len(lists) == rows, f"a token list per row is needed ({rows}), got {len(lists)}")
    offsets = [0]
    for ids in lists:
        offsets.append(offsets[-1] + len(ids))
    flat = [int(t) for ids in lists for t in ids]
    return (torch.tensor(flat or [0], dtype=torch.int32, device=device),
            torch.tensor(offsets, dtype=torch.int32, device=device))


def _as_int64(values):
    """uint64 values in int64's bits (the kernel reads uint64)."""
    if values is None or isinstance(values, torch.Tensor):
        return values
    return [((int(v) & (2**64 - 1)) ^ 2**63) - 2**63 for v in values]


def sample(logits: torch.Tensor, temperature=None, top_k=None, top_p=None, min_p=None, presence_penalty=None,
           frequency_penalty=None, repetition_penalty=None, seeds=None, draw_index=None, prompt_tokens=None,
           output_tokens=None, suppressed_tokens=None, valid_vocab: int = 0, num_logprobs: int = 0,
           out: Optional[SampleResult] = None) -> SampleResult:
    """folio_sample over logits [rows, vocab] (rows may be strided). Per-row parameters are sequences or tensors of
    `rows` values (None: off); token lists are per-row lists of ids. `out` gives preallocated (e.g. poisoned)
    outputs: sampled int32 [rows], sampled_logprobs f32 [rows], top_ids int32 / top_logprobs f32 [rows, k]."""
    dtype = _float_tensor("logits", logits)
    _require(logits.dim() == 2 and logits.stride(1) == 1, "logits must be [num_rows, vocab_size] with contiguous rows")
    rows, vocab = logits.shape
    dev = logits.device
    keep = []

    def per_row(name, values, torch_dtype):
        if values is None:
            return 0
        t = torch.as_tensor(values, dtype=torch_dtype, device=dev).contiguous()
        _require(t.shape == (rows,), f"{name} must have one value per row ({rows})")
        keep.append(t)
        return t.data_ptr()

    def list_ptrs(lists):
        ids, offsets = _csr(lists, rows, dev)
        if ids is None:
            return 0, 0
        keep.extend((ids, offsets))
        return ids.data_ptr(), offsets.data_ptr()

    if out is None:
        out = SampleResult(torch.empty(rows, dtype=torch.int32, device=dev), torch.empty(rows, dtype=torch.float32, device=dev),
                           torch.empty(rows, num_logprobs, dtype=torch.int32, device=dev),
                           torch.empty(rows, num_logprobs, dtype=torch.float32, device=dev))
    size = ctypes.c_size_t(0)
    _check(_lib().folio_sample_workspace_size(rows, vocab, ctypes.byref(size)))
    workspace = torch.empty(max(size.value, 1), dtype=torch.uint8, device=dev)
    p = SampleParams()
    p.struct_size, p.num_rows, p.vocab_size, p.dtype = ctypes.sizeof(SampleParams), rows, vocab, dtype
    p.logits, p.logits_row_stride = logits.data_ptr(), logits.stride(0) if rows > 1 else vocab
    p.temperature = per_row("temperature", temperature, torch.float32)
    p.top_k = per_row("top_k", top_k, torch.int32)
    p.top_p = per_row("top_p", top_p, torch.float32)
    p.min_p = per_row("min_p", min_p, torch.float32)
    p.presence_penalty = per_row("presence_penalty", presence_penalty, torch.float32)
    p.frequency_penalty = per_row("frequency_penalty", frequency_penalty, torch.float32)
    p.repetition_penalty = per_row("repetition_penalty", repetition_penalty, torch.float32)
    p.seeds = per_row("seeds", _as_int64(seeds), torch.int64)
    p.draw_index = per_row("draw_index", _as_int64(draw_index), torch.int64)
    p.prompt_tokens, p.prompt_offsets = list_ptrs(prompt_tokens)
    p.output_tokens, p.output_offsets = list_ptrs(output_tokens)
    p.suppressed_tokens, p.suppressed_offsets = list_ptrs(suppressed_tokens)
    p.valid_vocab, p.num_logprobs = valid_vocab, num_logprobs
    p.sampled, p.sampled_logprobs = out.sampled.data_ptr(), out.sampled_logprobs.data_ptr()
    p.top_ids = out.top_ids.data_ptr() if num_logprobs else 0
    p.top_logprobs = out.top_logprobs.data_ptr() if num_logprobs else 0
    p.workspace, p.workspace_bytes = workspace.data_ptr(), workspace.numel()
    _check(_lib().folio_sample(ctypes.byref(p), _stream(logits)))
    torch.cuda.current_stream(dev).synchronize()  # the temporaries above must outlive the kernel
    return out
