"""ctypes bindings of libfolio_cuda.so (native/include/folio_cuda.h) over PyTorch tensors.

The library is found through FOLIO_CUDA_LIB (a path to the .so) or else build/cuda/libfolio_cuda.so of
this repository (scripts/build-cuda.sh builds it). Every function checks shapes, dtypes and devices and
raises ValueError naming the argument; a refusal by the library raises FolioCudaError with its message.
Kernels run on the current CUDA stream of the tensors' device.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Optional, Sequence

import torch

from . import _cuda_abi as abi

__all__ = [
    "FolioCudaError", "library", "load_library", "cache_dims", "paged_kv", "paged_attention_decode",
    "decode_workspace_size", "paged_prefill", "prefill_kernel", "PREFILL_KERNELS", "kv_write", "block_copy",
    "block_swap",
]

_DTYPES = {torch.float16: abi.DTYPE_F16, torch.bfloat16: abi.DTYPE_BF16, torch.float32: abi.DTYPE_F32}
# Cache layouts (folio_cuda.h): NHD = [num_blocks, block_size, num_kv_heads, head_dim],
# HND = [num_blocks, num_kv_heads, block_size, head_dim]. HND is the default (a block's tokens of one head are
# one contiguous run); bench/kernels.py timed the two within 1% of each other at every decode shape.
_LAYOUTS = {"NHD": abi.KV_LAYOUT_NHD, "HND": abi.KV_LAYOUT_HND}
# folio_cuda_prefill_kernel by name: "auto" lets the library choose (the sm_90a kernel where it applies).
PREFILL_KERNELS = {"auto": abi.PREFILL_KERNEL_AUTO, "sm80": abi.PREFILL_KERNEL_SM80, "sm90": abi.PREFILL_KERNEL_SM90}


class FolioCudaError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"{abi.status_name(status)}: {message}")
        self.status = status


_lib: Optional[ctypes.CDLL] = None


def _default_path() -> Path:
    return Path(__file__).resolve().parents[3] / "build" / "cuda" / "libfolio_cuda.so"


def library() -> ctypes.CDLL:
    """Loads libfolio_cuda.so once and declares its functions."""
    global _lib
    if _lib is None:
        _lib = load_library(os.environ.get("FOLIO_CUDA_LIB") or str(_default_path()))
    return _lib


def load_library(path: str) -> ctypes.CDLL:
    """A libfolio_cuda.so at `path` with its functions declared (library() loads the one this module calls);
    refused when its major version is not the one these declarations mirror."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"libfolio_cuda.so not found at {path} (set FOLIO_CUDA_LIB or run scripts/build-cuda.sh)")
    lib = abi.declare(ctypes.CDLL(path))
    version = lib.folio_cuda_version()
    if version // 10000 != abi.VERSION_MAJOR:
        raise OSError(f"{path} is libfolio_cuda {version // 10000}.{version // 100 % 100}.{version % 100}; these "
                      f"bindings need major version {abi.VERSION_MAJOR}")
    return lib


def _check(status: int) -> None:
    if status != 0:
        raise FolioCudaError(status, library().folio_cuda_last_error().decode())


def _stream(t: torch.Tensor) -> int:
    return torch.cuda.current_stream(t.device).cuda_stream


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def _cuda(name: str, t: torch.Tensor, device: Optional[torch.device] = None) -> None:
    _require(isinstance(t, torch.Tensor), f"{name} must be a torch.Tensor")
    _require(t.is_cuda, f"{name} must be a CUDA tensor (got device {t.device})")
    if device is not None:
        _require(t.device == device, f"{name} is on {t.device}, expected {device}")


def _int32(name: str, t: torch.Tensor, device: torch.device) -> None:
    _cuda(name, t, device)
    _require(t.dtype == torch.int32, f"{name} must be int32 (got {t.dtype})")
    _require(t.is_contiguous(), f"{name} must be contiguous")


def cache_dims(k_cache: torch.Tensor, layout: str):
    """(block_size, num_kv_heads, head_dim) of a cache tensor in `layout` ("NHD" or "HND")."""
    _require(layout in _LAYOUTS, f"layout must be 'NHD' or 'HND' (got {layout!r})")
    _require(k_cache.dim() == 4, f"k_cache must be 4-D ({'[num_blocks, block_size, num_kv_heads, head_dim]' if layout == 'NHD' else '[num_blocks, num_kv_heads, block_size, head_dim]'})")
    _, a, b, head_dim = k_cache.shape
    return (a, b, head_dim) if layout == "NHD" else (b, a, head_dim)


def paged_kv(k_cache: torch.Tensor, v_cache: Optional[torch.Tensor] = None, layout: str = "HND") -> abi.folio_cuda_paged_kv:
    """The folio_cuda_paged_kv view of a layer's cache tensors (v_cache defaults to k_cache's shape alone: block moves
    read only the view's shape)."""
    _require(k_cache.dtype in _DTYPES, f"k_cache must be float16, bfloat16 or float32 (got {k_cache.dtype})")
    block_size, num_kv_heads, head_dim = cache_dims(k_cache, layout)
    return abi.folio_cuda_paged_kv(k_cache.data_ptr(), 0 if v_cache is None else v_cache.data_ptr(), k_cache.shape[0],
                                   block_size, num_kv_heads, head_dim, _LAYOUTS[layout], _DTYPES[k_cache.dtype])


def _check_cache(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, layout: str):
    block_size, num_kv_heads, head_dim = cache_dims(k_cache, layout)
    _require(v_cache.shape == k_cache.shape, f"v_cache shape {tuple(v_cache.shape)} != k_cache {tuple(k_cache.shape)}")
    for name, t in (("k_cache", k_cache), ("v_cache", v_cache)):
        _cuda(name, t, q.device)
        _require(t.dtype == q.dtype, f"{name} dtype {t.dtype} != q dtype {q.dtype}")
        _require(t.is_contiguous(), f"{name} must be contiguous")
    return block_size, num_kv_heads, head_dim


def decode_workspace_size(num_seqs: int, num_q_heads: int, num_kv_heads: int, head_dim: int,
                          max_context_len: int) -> int:
    size = ctypes.c_size_t(0)
    _check(library().folio_paged_attention_decode_workspace_size(
        num_seqs, num_q_heads, num_kv_heads, head_dim, max_context_len, ctypes.byref(size)))
    return size.value


def paged_attention_decode(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                           block_tables: torch.Tensor, context_lens: torch.Tensor, max_context_len: int,
                           scale: Optional[float] = None, out: Optional[torch.Tensor] = None,
                           workspace: Optional[torch.Tensor] = None, layout: str = "HND") -> torch.Tensor:
    """q [num_seqs, num_q_heads, head_dim] fp16/bf16; returns out of the same shape."""
    _cuda("q", q)
    _require(q.dim() == 3 and q.is_contiguous(), "q must be a contiguous [num_seqs, num_q_heads, head_dim] tensor")
    _require(q.dtype in (torch.float16, torch.bfloat16), f"q must be fp16 or bf16 (got {q.dtype})")
    block_size, num_kv_heads, head_dim = _check_cache(q, k_cache, v_cache, layout)
    num_seqs, num_q_heads, qd = q.shape
    _require(qd == head_dim, f"q head_dim {qd} != cache head_dim {head_dim}")
    _int32("block_tables", block_tables, q.device)
    _require(block_tables.dim() == 2 and block_tables.shape[0] == num_seqs,
             f"block_tables must be [num_seqs={num_seqs}, max_blocks_per_seq]")
    _int32("context_lens", context_lens, q.device)
    _require(tuple(context_lens.shape) == (num_seqs,), f"context_lens must be [num_seqs={num_seqs}]")
    if out is None:
        out = torch.empty_like(q)
    _cuda("out", out, q.device)
    _require(out.shape == q.shape and out.dtype == q.dtype and out.is_contiguous(),
             "out must be a contiguous tensor shaped and typed like q")
    need = decode_workspace_size(num_seqs, num_q_heads, num_kv_heads, head_dim, max_context_len)
    if workspace is None and need > 0:
        workspace = torch.zeros(need, dtype=torch.uint8, device=q.device)  # zero-filled before first use
    ws_ptr, ws_bytes = (0, 0) if workspace is None else (workspace.data_ptr(), workspace.numel() * workspace.element_size())
    if scale is None:
        scale = head_dim ** -0.5
    p = abi.folio_cuda_paged_attention_decode_params()
    p.struct_size, p.num_seqs, p.num_q_heads = ctypes.sizeof(p), num_seqs, num_q_heads
    p.max_blocks_per_seq, p.max_context_len, p.scale = block_tables.shape[1], max_context_len, float(scale)
    p.out, p.q, p.block_tables, p.context_lens = out.data_ptr(), q.data_ptr(), block_tables.data_ptr(), context_lens.data_ptr()
    p.workspace, p.workspace_bytes = ws_ptr, ws_bytes
    cache = paged_kv(k_cache, v_cache, layout)
    _check(library().folio_paged_attention_decode(ctypes.byref(cache), ctypes.byref(p), _stream(q)))
    return out


def paged_prefill(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, block_tables: torch.Tensor,
                  cu_query_lens: torch.Tensor, context_lens: torch.Tensor, max_query_len: int,
                  scale: Optional[float] = None, out: Optional[torch.Tensor] = None,
                  layout: str = "HND", kernel: str = "auto") -> torch.Tensor:
    """q [num_tokens, num_q_heads, head_dim]; causal over each sequence's cached context + new tokens. kernel: "auto"
    (the library's choice), "sm80" (mma.sync) or "sm90" (wgmma; refused where it does not run)."""
    _require(kernel in PREFILL_KERNELS, f"kernel must be one of {list(PREFILL_KERNELS)} (got {kernel!r})")
    _cuda("q", q)
    _require(q.dim() == 3 and q.is_contiguous(), "q must be a contiguous [num_tokens, num_q_heads, head_dim] tensor")
    _require(q.dtype in (torch.float16, torch.bfloat16), f"q must be fp16 or bf16 (got {q.dtype})")
    block_size, num_kv_heads, head_dim = _check_cache(q, k_cache, v_cache, layout)
    _, num_q_heads, qd = q.shape
    _require(qd == head_dim, f"q head_dim {qd} != cache head_dim {head_dim}")
    _int32("cu_query_lens", cu_query_lens, q.device)
    _require(cu_query_lens.dim() == 1 and cu_query_lens.numel() >= 1, "cu_query_lens must be [num_seqs + 1]")
    num_seqs = cu_query_lens.numel() - 1
    _int32("context_lens", context_lens, q.device)
    _require(tuple(context_lens.shape) == (num_seqs,), f"context_lens must be [num_seqs={num_seqs}]")
    _int32("block_tables", block_tables, q.device)
    _require(block_tables.dim() == 2 and block_tables.shape[0] == num_seqs,
             f"block_tables must be [num_seqs={num_seqs}, max_blocks_per_seq]")
    if out is None:
        out = torch.empty_like(q)
    _cuda("out", out, q.device)
    _require(out.shape == q.shape and out.dtype == q.dtype and out.is_contiguous(),
             "out must be a contiguous tensor shaped and typed like q")
    if scale is None:
        scale = head_dim ** -0.5
    p = abi.folio_cuda_paged_prefill_params()
    p.struct_size, p.num_seqs, p.num_q_heads = ctypes.sizeof(p), num_seqs, num_q_heads
    p.max_blocks_per_seq, p.max_query_len, p.scale = block_tables.shape[1], max_query_len, float(scale)
    p.kernel = PREFILL_KERNELS[kernel]
    p.out, p.q, p.block_tables = out.data_ptr(), q.data_ptr(), block_tables.data_ptr()
    p.cu_query_lens, p.context_lens = cu_query_lens.data_ptr(), context_lens.data_ptr()
    cache = paged_kv(k_cache, v_cache, layout)
    _check(library().folio_paged_prefill(ctypes.byref(cache), ctypes.byref(p), _stream(q)))
    return out


def prefill_kernel(head_dim: int, dtype: torch.dtype, scale: Optional[float] = None, kernel: str = "auto") -> str:
    """The kernel paged_prefill runs on the current device when asked for `kernel` with these arguments: "sm90" (the
    wgmma kernel: built with nvcc >= 12 for sm_90, on compute capability 9.0) or "sm80" (mma.sync). Asking for
    "sm90" where it does not run raises FolioCudaError (UNSUPPORTED) with the reason."""
    _require(dtype in _DTYPES, f"dtype must be one of {list(_DTYPES)}; got {dtype}")
    _require(kernel in PREFILL_KERNELS, f"kernel must be one of {list(PREFILL_KERNELS)} (got {kernel!r})")
    s = head_dim ** -0.5 if scale is None else scale
    taken = library().folio_paged_prefill_kernel(PREFILL_KERNELS[kernel], head_dim, s, _DTYPES[dtype])
    if taken < 0:
        _check(taken)
    return {abi.PREFILL_KERNEL_SM80: "sm80", abi.PREFILL_KERNEL_SM90: "sm90"}[taken]


def kv_write(key: torch.Tensor, value: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
             slot_mapping: torch.Tensor, layout: str = "HND") -> None:
    """key, value [num_tokens, num_kv_heads, head_dim] (token stride free, heads contiguous) into the cache."""
    _cuda("key", key)
    dev = key.device
    for name, t in (("key", key), ("value", value)):
        _cuda(name, t, dev)
        _require(t.dim() == 3, f"{name} must be [num_tokens, num_kv_heads, head_dim]")
        _require(t.stride(2) == 1 and t.stride(1) == t.shape[2],
                 f"{name} must have contiguous heads within a token (strides {t.stride()})")
    _require(value.shape == key.shape, f"value shape {tuple(value.shape)} != key {tuple(key.shape)}")
    num_tokens, num_kv_heads, head_dim = key.shape
    block_size, cache_heads, cache_dim = cache_dims(k_cache, layout)
    for name, t in (("k_cache", k_cache), ("v_cache", v_cache)):
        _cuda(name, t, dev)
        _require(cache_heads == num_kv_heads and cache_dim == head_dim,
                 f"{name} {tuple(t.shape)} does not hold {num_kv_heads} heads of {head_dim} in layout {layout}")
        _require(t.is_contiguous(), f"{name} must be contiguous")
        _require(t.dtype == key.dtype, f"{name} dtype {t.dtype} != key dtype {key.dtype}")
    _require(value.dtype == key.dtype, f"value dtype {value.dtype} != key dtype {key.dtype}")
    _require(v_cache.shape == k_cache.shape, "v_cache must be shaped like k_cache")
    _cuda("slot_mapping", slot_mapping, dev)
    _require(slot_mapping.dtype == torch.int64 and slot_mapping.is_contiguous(),
             f"slot_mapping must be contiguous int64 (got {slot_mapping.dtype})")
    _require(tuple(slot_mapping.shape) == (num_tokens,), f"slot_mapping must be [num_tokens={num_tokens}]")
    p = abi.folio_cuda_kv_write_params()
    p.struct_size, p.num_tokens, p.key, p.value = ctypes.sizeof(p), num_tokens, key.data_ptr(), value.data_ptr()
    p.key_token_stride = key.stride(0) if num_tokens > 0 else num_kv_heads * head_dim
    p.value_token_stride = value.stride(0) if num_tokens > 0 else num_kv_heads * head_dim
    p.slot_mapping = slot_mapping.data_ptr()
    cache = paged_kv(k_cache, v_cache, layout)
    _check(library().folio_kv_write(ctypes.byref(cache), ctypes.byref(p), _stream(key)))


def _pointer_table(caches: Sequence[torch.Tensor], device: torch.device) -> torch.Tensor:
    return torch.tensor([c.data_ptr() for c in caches], dtype=torch.int64, device=device)


def _check_pool(name: str, caches: Sequence[torch.Tensor]):
    _require(len(caches) > 0, f"{name} must name at least one cache")
    first = caches[0]
    for i, c in enumerate(caches):
        _require(isinstance(c, torch.Tensor) and c.is_contiguous(), f"{name}[{i}] must be a contiguous tensor")
        _require(c.shape[0] == first.shape[0], f"{name}[{i}] has {c.shape[0]} blocks, {name}[0] has {first.shape[0]}")
        _require(c[0].numel() * c.element_size() == first[0].numel() * first.element_size(),
                 f"{name}[{i}] block bytes differ from {name}[0]")
    return first.shape[0], first[0].numel() * first.element_size()


def _check_pairs(pairs: torch.Tensor, device: torch.device) -> None:
    _int32("pairs", pairs, device)
    _require(pairs.dim() == 2 and pairs.shape[1] == 2, "pairs must be int32 [num_pairs, 2] = (src, dst)")


def _moves(caches: Sequence[torch.Tensor], pairs: torch.Tensor, host: Optional[Sequence[torch.Tensor]] = None):
    """folio_cuda_block_move_params over pointer tables built on the pairs' device (kept alive by the caller)."""
    p = abi.folio_cuda_block_move_params()
    tables = [_pointer_table(caches, pairs.device)] + ([] if host is None else [_pointer_table(host, pairs.device)])
    p.struct_size, p.num_caches, p.cache_ptrs = ctypes.sizeof(p), len(caches), tables[0].data_ptr()
    p.pairs, p.num_pairs = pairs.data_ptr(), pairs.shape[0]
    if host is not None:
        p.host_ptrs, p.host_num_blocks = tables[1].data_ptr(), host[0].shape[0]
    return p, tables


def block_copy(caches: Sequence[torch.Tensor], pairs: torch.Tensor, layout: str = "HND") -> None:
    """Copy-on-write: for each cache (every layer's K and V, shaped alike in `layout`), block pairs[i,1] := block
    pairs[i,0]. One launch for everything."""
    for i, c in enumerate(caches):
        _cuda(f"caches[{i}]", c)
    _check_pool("caches", caches)
    dev = caches[0].device
    _check_pairs(pairs, dev)
    p, _tables = _moves(caches, pairs)
    cache = paged_kv(caches[0], layout=layout)
    _check(library().folio_block_copy(ctypes.byref(cache), ctypes.byref(p), _stream(caches[0])))


def block_swap(src: Sequence[torch.Tensor], dst: Sequence[torch.Tensor], pairs: torch.Tensor,
               layout: str = "HND") -> None:
    """For each cache c, block pairs[i,1] of dst[c] := block pairs[i,0] of src[c]: a swap-out when src is on the GPU
    (dst in pinned host memory, tensor.pin_memory()), a swap-in when dst is. pairs lives on the GPU."""
    _require(len(src) == len(dst), f"src has {len(src)} caches, dst has {len(dst)}")
    _, src_bytes = _check_pool("src", src)
    _, dst_bytes = _check_pool("dst", dst)
    _require(src_bytes == dst_bytes, f"src block bytes {src_bytes} != dst block bytes {dst_bytes}")
    gpu = next((t.device for t in list(src) + list(dst) if t.is_cuda), None)
    _require(gpu is not None, "one side of a swap must be on the GPU")
    for name, pool in (("src", src), ("dst", dst)):
        for i, t in enumerate(pool):
            _require(t.is_cuda and t.device == gpu or (not t.is_cuda and t.is_pinned()),
                     f"{name}[{i}] must be on {gpu} or in pinned host memory")
    _check_pairs(pairs, gpu)
    swap_out = src[0].is_cuda
    gpu_pool, host_pool = (src, dst) if swap_out else (dst, src)
    p, _tables = _moves(gpu_pool, pairs, host_pool)
    cache = paged_kv(gpu_pool[0], layout=layout)
    lib = library()
    move = lib.folio_block_swap_out if swap_out else lib.folio_block_swap_in
    _check(move(ctypes.byref(cache), ctypes.byref(p), torch.cuda.current_stream(gpu).cuda_stream))
