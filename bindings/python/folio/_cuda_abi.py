"""The ctypes mirror of native/include/folio_cuda.h: constants, structs and every function, declared once and
without PyTorch, so that tests/test_cuda_abi_drift.py can compare them with the header on a machine without a GPU.

ops.py and model_ops.py (the PyTorch-facing wrappers) declare the library's functions from here. Pointer arguments
and fields are typed by what they point to (ptr(c_int32) for `const int32_t*`) but accept plain addresses
(tensor.data_ptr()), as c_void_p does.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, Structure, c_char_p, c_float, c_int32, c_int64, c_size_t, c_uint32, c_uint64, c_void_p

VERSION_MAJOR = 2
VERSION_MINOR = 3
VERSION_PATCH = 0
MAX_LOGPROBS = 20
GEMM_WORKSPACE_BYTES = 33554432  # 32 MiB
GEMM_BATCH_INVARIANT = 1  # folio_cuda_gemm_params.flags: fp32, a row's result independent of the batch

# enum folio_cuda_status: 0 is success, every error negative (the convention of folio.h).
STATUS_OK = 0
STATUS_INVALID_ARGUMENT = -1
STATUS_STRUCT_SIZE = -3
STATUS_WORKSPACE_TOO_SMALL = -6
STATUS_UNSUPPORTED = -11
STATUS_CUDA_ERROR = -20

# enum folio_cuda_kv_layout
KV_LAYOUT_NHD = 0
KV_LAYOUT_HND = 1

# enum folio_cuda_dtype
DTYPE_F16 = 0
DTYPE_BF16 = 1
DTYPE_F32 = 2

# enum folio_cuda_rope_scaling
ROPE_SCALING_NONE = 0
ROPE_SCALING_LLAMA3 = 1

# enum folio_cuda_prefill_kernel
PREFILL_KERNEL_AUTO = 0
PREFILL_KERNEL_SM80 = 80
PREFILL_KERNEL_SM90 = 90

# The header's enums by name -> the prefix of their constants above (FOLIO_CUDA_ + constant = the C name).
ENUMS = {
    "folio_cuda_status": "STATUS_",
    "folio_cuda_kv_layout": "KV_LAYOUT_",
    "folio_cuda_dtype": "DTYPE_",
    "folio_cuda_rope_scaling": "ROPE_SCALING_",
    "folio_cuda_prefill_kernel": "PREFILL_KERNEL_",
}


def enum_values(enum_name: str) -> dict[str, int]:
    """{"FOLIO_CUDA_STATUS_OK": 0, ...} for one of ENUMS."""
    prefix = ENUMS[enum_name]
    return {"FOLIO_CUDA_" + k: v for k, v in globals().items() if k.startswith(prefix) and isinstance(v, int)}


def status_name(status: int) -> str:
    for name, value in enum_values("folio_cuda_status").items():
        if value == status:
            return name
    return str(status)


_pointer_types: dict[object, type] = {}


def ptr(pointee) -> type:
    """A pointer to `pointee` (a ctypes type or None for void) that takes an address as an int, like c_void_p;
    the drift test reads the pointee back from _pointee_."""
    if pointee is None:
        return c_void_p
    if pointee not in _pointer_types:
        _pointer_types[pointee] = type(f"ptr_{pointee.__name__}", (c_void_p,), {"_pointee_": pointee})
    return _pointer_types[pointee]


_p, _i32, _i64, _u32, _f32, _sz = c_void_p, c_int32, c_int64, c_uint32, c_float, c_size_t


class folio_cuda_paged_kv(Structure):
    _fields_ = [("k_cache", _p), ("v_cache", _p), ("num_blocks", _i32), ("block_size", _i32),
                ("num_kv_heads", _i32), ("head_dim", _i32), ("layout", _i32), ("dtype", _i32)]


class folio_cuda_paged_attention_decode_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_seqs", _i32), ("num_q_heads", _i32), ("max_blocks_per_seq", _i32),
                ("max_context_len", _i32), ("scale", _f32), ("out", _p), ("q", _p), ("block_tables", ptr(_i32)),
                ("context_lens", ptr(_i32)), ("workspace", _p), ("workspace_bytes", _sz)]


class folio_cuda_paged_prefill_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_seqs", _i32), ("num_q_heads", _i32), ("max_blocks_per_seq", _i32),
                ("max_query_len", _i32), ("scale", _f32), ("kernel", _i32), ("reserved", _i32), ("out", _p),
                ("q", _p), ("block_tables", ptr(_i32)), ("cu_query_lens", ptr(_i32)), ("context_lens", ptr(_i32))]


class folio_cuda_kv_write_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_tokens", _i32), ("key", _p), ("value", _p), ("key_token_stride", _i64),
                ("value_token_stride", _i64), ("slot_mapping", ptr(_i64))]


class folio_cuda_block_move_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_caches", _i32), ("cache_ptrs", ptr(c_uint64)),
                ("host_ptrs", ptr(c_uint64)), ("pairs", ptr(_i32)), ("num_pairs", _i32), ("host_num_blocks", _i32)]


class folio_cuda_rope_config(Structure):
    _fields_ = [("struct_size", _u32), ("rotary_dim", _i32), ("theta", _f32), ("scaling", _i32), ("factor", _f32),
                ("low_freq_factor", _f32), ("high_freq_factor", _f32), ("original_max_position", _i32)]


class folio_cuda_rope_kv_write_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_tokens", _i32), ("num_q_heads", _i32), ("rotary_dim", _i32),
                ("q_out", _p), ("q", _p), ("k", _p), ("v", _p), ("q_token_stride", _i64), ("k_token_stride", _i64),
                ("v_token_stride", _i64), ("positions", ptr(_i32)), ("slot_mapping", ptr(_i64)),
                ("inv_freq", ptr(_f32))]


class folio_cuda_sample_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_rows", _i32), ("vocab_size", _i32), ("dtype", _i32), ("logits", _p),
                ("logits_row_stride", _i64), ("temperature", ptr(_f32)), ("top_k", ptr(_i32)), ("top_p", ptr(_f32)),
                ("min_p", ptr(_f32)), ("presence_penalty", ptr(_f32)), ("frequency_penalty", ptr(_f32)),
                ("repetition_penalty", ptr(_f32)), ("seeds", ptr(c_uint64)), ("draw_index", ptr(c_uint64)),
                ("prompt_tokens", ptr(_i32)), ("prompt_offsets", ptr(_i32)), ("output_tokens", ptr(_i32)),
                ("output_offsets", ptr(_i32)), ("suppressed_tokens", ptr(_i32)), ("suppressed_offsets", ptr(_i32)),
                ("valid_vocab", _i32), ("num_logprobs", _i32), ("sampled", ptr(_i32)),
                ("sampled_logprobs", ptr(_f32)), ("top_ids", ptr(_i32)), ("top_logprobs", ptr(_f32)),
                ("workspace", _p), ("workspace_bytes", _sz)]


class folio_cuda_gemm_params(Structure):
    _fields_ = [("struct_size", _u32), ("m", _i32), ("n", _i32), ("k", _i32), ("dtype", _i32), ("flags", _i32),
                ("out", _p), ("x", _p), ("weight", _p), ("bias", _p), ("workspace", _p), ("workspace_bytes", _sz)]


class folio_cuda_paged_attention_params(Structure):
    _fields_ = [("struct_size", _u32), ("num_seqs", _i32), ("num_tokens", _i32), ("num_q_heads", _i32),
                ("max_blocks_per_seq", _i32), ("window_left", _i32), ("scale", _f32), ("reserved", _i32),
                ("q_token_stride", _i64), ("out", _p), ("q", _p), ("block_tables", ptr(_i32)),
                ("cu_query_lens", ptr(_i32)), ("context_lens", ptr(_i32))]


STRUCTS = {cls.__name__: cls for cls in (
    folio_cuda_paged_kv, folio_cuda_paged_attention_decode_params, folio_cuda_paged_prefill_params,
    folio_cuda_kv_write_params, folio_cuda_block_move_params, folio_cuda_rope_config, folio_cuda_rope_kv_write_params,
    folio_cuda_sample_params, folio_cuda_gemm_params, folio_cuda_paged_attention_params)}

_kv = POINTER(folio_cuda_paged_kv)
_moves = POINTER(folio_cuda_block_move_params)

# Every function of folio_cuda.h: name -> (result type, argument types).
FUNCTIONS: dict[str, tuple[object, list[object]]] = {
    "folio_cuda_last_error": (c_char_p, []),
    "folio_cuda_version": (_i32, []),
    "folio_cuda_malloc": (_i32, [_sz, POINTER(_p)]),
    "folio_cuda_free": (_i32, [_p]),
    "folio_cuda_host_alloc": (_i32, [_sz, POINTER(_p)]),
    "folio_cuda_host_free": (_i32, [_p]),
    "folio_cuda_stream_create": (_i32, [POINTER(_p)]),
    "folio_cuda_stream_destroy": (_i32, [_p]),
    "folio_cuda_stream_synchronize": (_i32, [_p]),
    "folio_cuda_memcpy_async": (_i32, [_p, _p, _sz, _p]),
    "folio_cuda_memset_async": (_i32, [_p, _i32, _sz, _p]),
    "folio_cuda_mem_get_info": (_i32, [POINTER(_sz), POINTER(_sz)]),
    "folio_cuda_event_create": (_i32, [_i32, POINTER(_p)]),
    "folio_cuda_event_destroy": (_i32, [_p]),
    "folio_cuda_event_record": (_i32, [_p, _p]),
    "folio_cuda_event_synchronize": (_i32, [_p]),
    "folio_cuda_event_elapsed_ms": (_i32, [_p, _p, ptr(_f32)]),
    "folio_cuda_stream_wait_event": (_i32, [_p, _p]),
    "folio_cuda_stream_begin_capture": (_i32, [_p]),
    "folio_cuda_stream_end_capture": (_i32, [_p, POINTER(_p)]),
    "folio_cuda_graph_instantiate": (_i32, [_p, POINTER(_p)]),
    "folio_cuda_graph_launch": (_i32, [_p, _p]),
    "folio_cuda_graph_destroy": (_i32, [_p]),
    "folio_cuda_graph_exec_destroy": (_i32, [_p]),
    "folio_paged_attention_decode_workspace_size": (_i32, [_i32, _i32, _i32, _i32, _i32, POINTER(_sz)]),
    "folio_paged_attention_decode": (_i32, [_kv, POINTER(folio_cuda_paged_attention_decode_params), _p]),
    "folio_paged_prefill": (_i32, [_kv, POINTER(folio_cuda_paged_prefill_params), _p]),
    "folio_paged_prefill_kernel": (_i32, [_i32, _i32, _f32, _i32]),
    "folio_kv_write": (_i32, [_kv, POINTER(folio_cuda_kv_write_params), _p]),
    "folio_block_copy": (_i32, [_kv, _moves, _p]),
    "folio_block_swap_out": (_i32, [_kv, _moves, _p]),
    "folio_block_swap_in": (_i32, [_kv, _moves, _p]),
    "folio_embedding_gather": (_i32, [_p, _p, ptr(_i32), _i32, _i32, _i32, _i32, _p]),
    "folio_add_rms_norm": (_i32, [_p, _p, _p, _p, _i32, _i32, _f32, _i32, _p]),
    "folio_head_rms_norm": (_i32, [_p, _p, _i32, _i32, _i32, _i64, _f32, _i32, _p]),
    "folio_silu_and_mul": (_i32, [_p, _p, _i32, _i32, _i64, _i32, _p]),
    "folio_rope_inv_freq": (_i32, [POINTER(folio_cuda_rope_config), ptr(_f32), _i32]),
    "folio_rope_kv_write": (_i32, [_kv, POINTER(folio_cuda_rope_kv_write_params), _p]),
    "folio_sample_workspace_size": (_i32, [_i32, _i32, POINTER(_sz)]),
    "folio_sample": (_i32, [POINTER(folio_cuda_sample_params), _p]),
    "folio_cuda_blas_create": (_i32, [POINTER(_p)]),
    "folio_cuda_blas_destroy": (_i32, [_p]),
    "folio_gemm": (_i32, [_p, POINTER(folio_cuda_gemm_params), _p]),
    "folio_paged_attention": (_i32, [_kv, POINTER(folio_cuda_paged_attention_params), _p]),
}


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Sets argtypes and restype of every function of FUNCTIONS on a loaded libfolio_cuda.so."""
    for name, (res, args) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib
