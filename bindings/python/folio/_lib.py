"""The ctypes mirror of native/include/folio.h: constants, structs and every function, declared once.

tests/test_abi_drift.py parses folio.h with libclang and fails when anything here drifts from it.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int32, c_int64,
                    c_uint32, c_uint64, c_void_p)
from pathlib import Path

ABI_VERSION_MAJOR = 1
ABI_VERSION_MINOR = 4
MAX_STRUCT_SIZE = 4096

# enum folio_status
STATUS_OK = 0
STATUS_INVALID_ARGUMENT = -1
STATUS_INVALID_HANDLE = -2
STATUS_STRUCT_SIZE = -3
STATUS_INVALID_UTF8 = -4
STATUS_TOKEN_OUT_OF_RANGE = -5
STATUS_BUFFER_TOO_SMALL = -6
STATUS_NOT_FOUND = -7
STATUS_MODEL_LOAD = -8
STATUS_REQUEST_REJECTED = -9
STATUS_INVALID_STATE = -10
STATUS_UNSUPPORTED = -11
STATUS_INTERNAL = -100

# enum folio_finish_reason
FINISH_NONE = 0
FINISH_STOP = 1
FINISH_LENGTH = 2
FINISH_ABORT = 3
FINISH_REJECTED = 4

# enum folio_log_level
LOG_TRACE = 0
LOG_DEBUG = 1
LOG_INFO = 2
LOG_WARN = 3
LOG_ERROR = 4
LOG_NONE = 5

# enum folio_device
DEVICE_CPU = 0
DEVICE_CUDA = 1

# enum folio_preemption_mode
PREEMPTION_RECOMPUTE = 0
PREEMPTION_SWAP = 1

# enum folio_scheduling_policy (ABI 1.2)
SCHEDULING_FCFS = 0
SCHEDULING_PRIORITY = 1

# enum folio_structured_output (ABI 1.3)
STRUCTURED_NONE = 0
STRUCTURED_JSON = 1
STRUCTURED_REGEX = 2
STRUCTURED_CHOICE = 3
STRUCTURED_GRAMMAR = 4
STRUCTURED_JSON_OBJECT = 5
# enum folio_quantization (ABI 1.3)
QUANTIZATION_NONE = 0
QUANTIZATION_INT8 = 1
QUANTIZATION_INT4 = 2  # ABI 1.4
# enum folio_dtype (ABI 1.4)
DTYPE_AUTO = 0
DTYPE_FLOAT32 = 1
DTYPE_BFLOAT16 = 2
DTYPE_FLOAT16 = 3

# The header's enums by name, for the drift test: {"folio_status": {"FOLIO_STATUS_OK": 0, ...}, ...}.
ENUMS = {
    "folio_status": "STATUS_",
    "folio_finish_reason": "FINISH_",
    "folio_log_level": "LOG_",
    "folio_device": "DEVICE_",
    "folio_preemption_mode": "PREEMPTION_",
    "folio_scheduling_policy": "SCHEDULING_",
    "folio_structured_output": "STRUCTURED_",
    "folio_quantization": "QUANTIZATION_",
    "folio_dtype": "DTYPE_",
}


def enum_values(enum_name: str) -> dict[str, int]:
    prefix = ENUMS[enum_name]
    return {"FOLIO_" + k: v for k, v in globals().items() if k.startswith(prefix) and isinstance(v, int)}


# Opaque handles: distinct c_void_p subclasses so a handle of one type cannot be passed as another by mistake.
class folio_engine_p(c_void_p):
    pass


class folio_kv_manager_p(c_void_p):
    pass


class folio_scheduler_p(c_void_p):
    pass


class folio_step_plan_p(c_void_p):
    pass


class folio_outputs_p(c_void_p):
    pass


HANDLE_TYPES = {
    "folio_engine": folio_engine_p,
    "folio_kv_manager": folio_kv_manager_p,
    "folio_scheduler": folio_scheduler_p,
    "folio_step_plan": folio_step_plan_p,
    "folio_outputs": folio_outputs_p,
}

folio_log_fn = CFUNCTYPE(None, c_int32, POINTER(c_char), c_uint64, c_void_p)


class folio_engine_params(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("device", c_int32),
        ("model", POINTER(c_char)),
        ("model_len", c_uint64),
        ("block_size_tokens", c_int32),
        ("num_gpu_blocks", c_int32),
        ("kv_memory_bytes", c_uint64),
        ("num_cpu_blocks", c_int32),
        ("max_num_seqs", c_int32),
        ("max_num_batched_tokens", c_int32),
        ("enable_prefix_caching", c_int32),
        ("preemption_mode", c_int32),
        ("log_level", c_int32),
        ("log_callback", folio_log_fn),
        ("log_user_data", c_void_p),
        ("num_threads", c_int32),
        ("seed", c_uint64),
        ("scheduling_policy", c_int32),  # ABI 1.2
        ("reserved0", c_int32),  # ignored: the 1.2 struct's tail padding
        ("quantization", c_int32),  # ABI 1.3
        ("reserved1", c_int32),  # ignored: the 1.3 struct's tail padding
        ("dtype", c_int32),  # ABI 1.4
        ("gpu_memory_utilization", c_float),
    ]


class folio_sampling_params(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("n", c_int32),
        ("max_tokens", c_int32),
        ("min_tokens", c_int32),
        ("temperature", c_float),
        ("top_p", c_float),
        ("top_k", c_int32),
        ("min_p", c_float),
        ("presence_penalty", c_float),
        ("frequency_penalty", c_float),
        ("repetition_penalty", c_float),
        ("has_seed", c_int32),
        ("seed", c_uint64),
        ("ignore_eos", c_int32),
        ("logprobs", c_int32),
        ("stop_token_ids", POINTER(c_int32)),
        ("num_stop_token_ids", c_uint64),
        ("stop", POINTER(POINTER(c_char))),
        ("stop_lens", POINTER(c_uint64)),
        ("num_stop", c_uint64),
        ("beam_width", c_int32),
        ("length_penalty", c_float),
        ("priority", c_int32),  # ABI 1.2
        ("reserved0", c_int32),
        ("cache_salt", POINTER(c_char)),
        ("cache_salt_len", c_uint64),
        ("structured_output_kind", c_int32),  # ABI 1.3
        ("reserved1", c_int32),
        ("structured_output", POINTER(c_char)),
        ("structured_output_len", c_uint64),
        ("choices", POINTER(POINTER(c_char))),
        ("choice_lens", POINTER(c_uint64)),
        ("num_choices", c_uint64),
        ("logit_bias_token_ids", POINTER(c_int32)),
        ("logit_bias_values", POINTER(c_float)),
        ("num_logit_bias", c_uint64),
        ("allowed_token_ids", POINTER(c_int32)),
        ("num_allowed_token_ids", c_uint64),
        ("bad_words", POINTER(POINTER(c_char))),
        ("bad_word_lens", POINTER(c_uint64)),
        ("num_bad_words", c_uint64),
    ]


class folio_request_output(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("finish_reason", c_int32),
        ("request_id", c_uint64),
        ("seq_index", c_int32),
        ("request_finished", c_int32),
        ("token_ids", POINTER(c_int32)),
        ("num_tokens", c_uint64),
        ("cumulative_logprob", c_double),
        ("num_top_logprobs", c_int32),
        ("reserved0", c_int32),
        ("top_token_ids", POINTER(c_int32)),
        ("top_logprobs", POINTER(c_float)),
        ("text", POINTER(c_char)),
        ("text_len", c_uint64),
        ("num_prompt_tokens", c_uint64),
        ("reject_reason", POINTER(c_char)),  # ABI 1.2
        ("reject_reason_len", c_uint64),
    ]


folio_stream_fn = CFUNCTYPE(None, POINTER(folio_request_output), c_void_p)


class folio_stats(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("block_size_tokens", c_int32),
        ("kv_blocks_total", c_int64),
        ("kv_blocks_used", c_int64),
        ("kv_blocks_free", c_int64),
        ("kv_blocks_cached", c_int64),
        ("kv_blocks_shared", c_int64),
        ("cpu_blocks_used", c_int64),
        ("kv_utilization_pct", c_double),
        ("prefix_hit_rate", c_double),
        ("num_preemptions", c_int64),
        ("num_running", c_int64),
        ("num_waiting", c_int64),
        ("num_swapped", c_int64),
        ("num_steps", c_int64),
        ("num_prompt_tokens", c_int64),
        ("num_generated_tokens", c_int64),
        ("generated_tokens_per_s", c_double),
    ]


class folio_kv_manager_params(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("num_gpu_blocks", c_int32),
        ("block_size_tokens", c_int32),
        ("num_cpu_blocks", c_int32),
        ("enable_prefix_caching", c_int32),
    ]


class folio_scheduler_params(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("max_num_seqs", c_int32),
        ("max_num_batched_tokens", c_int32),
        ("preemption_mode", c_int32),
        ("vocab_size", c_int32),
        ("eos_token_id", c_int32),
        ("scheduling_policy", c_int32),  # ABI 1.2
    ]


class folio_step_plan_view(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("block_size_tokens", c_int32),
        ("step_id", c_uint64),
        ("num_seqs", c_int64),
        ("seq_ids", POINTER(c_int64)),
        ("request_ids", POINTER(c_int64)),
        ("query_start", POINTER(c_int32)),
        ("context_lens", POINTER(c_int32)),
        ("num_tokens", c_int64),
        ("token_ids", POINTER(c_int32)),
        ("positions", POINTER(c_int32)),
        ("slot_mapping", POINTER(c_int32)),
        ("max_blocks_per_seq", c_int32),
        ("reserved0", c_int32),
        ("block_tables", POINTER(c_int32)),
        ("num_logits", c_int64),
        ("logits_token_index", POINTER(c_int32)),
        ("logits_seq_row", POINTER(c_int32)),
        ("num_samples", POINTER(c_int32)),
        ("suppress_stop", POINTER(c_int32)),
        ("num_sampled", c_int64),
        ("num_block_copies", c_int64),
        ("block_copies", POINTER(c_int32)),
        ("num_swap_in", c_int64),
        ("swap_in", POINTER(c_int32)),
        ("num_swap_out", c_int64),
        ("swap_out", POINTER(c_int32)),
        ("slot_mapping_i64", POINTER(c_int64)),  # ABI 1.2
    ]


STRUCTS = {
    cls.__name__: cls
    for cls in (folio_engine_params, folio_sampling_params, folio_request_output, folio_stats,
                folio_kv_manager_params, folio_scheduler_params, folio_step_plan_view)
}

_i32, _u32, _u64, _p = c_int32, c_uint32, c_uint64, POINTER

# Every function of folio.h: name -> (result type, argument types). Declared once; the drift test compares.
FUNCTIONS: dict[str, tuple[object, list[object]]] = {
    "folio_abi_version": (_u32, []),
    "folio_last_error": (c_char_p, []),
    "folio_status_name": (c_char_p, [_i32]),
    "folio_engine_params_init": (_i32, [_p(folio_engine_params)]),
    "folio_sampling_params_init": (_i32, [_p(folio_sampling_params)]),
    "folio_kv_manager_params_init": (_i32, [_p(folio_kv_manager_params)]),
    "folio_scheduler_params_init": (_i32, [_p(folio_scheduler_params)]),
    "folio_engine_create": (_i32, [_p(folio_engine_params), _p(folio_engine_p)]),
    "folio_engine_destroy": (None, [folio_engine_p]),
    "folio_engine_get_vocab_size": (_i32, [folio_engine_p, _p(_i32)]),
    "folio_engine_get_eos_token_id": (_i32, [folio_engine_p, _p(_i32)]),
    "folio_engine_sampling_params_init": (_i32, [folio_engine_p, _p(folio_sampling_params)]),
    "folio_engine_tokenize": (_i32, [folio_engine_p, c_char_p, _u64, _i32, _p(_i32), _u64, _p(_u64)]),
    "folio_engine_detokenize": (_i32, [folio_engine_p, _p(_i32), _u64, c_char_p, _u64, _p(_u64)]),
    "folio_engine_apply_chat_template": (_i32, [folio_engine_p, c_char_p, _u64, c_char_p, _u64, c_char_p, _u64,
                                                c_char_p, _u64, _p(_u64)]),
    "folio_engine_add_text": (_i32, [folio_engine_p, c_char_p, _u64, _p(folio_sampling_params), _p(_u64)]),
    "folio_engine_add_tokens": (_i32, [folio_engine_p, _p(_i32), _u64, _p(folio_sampling_params), _p(_u64)]),
    "folio_engine_cancel": (_i32, [folio_engine_p, _u64]),
    "folio_engine_step": (_i32, [folio_engine_p, _p(folio_outputs_p)]),
    "folio_engine_has_unfinished": (_i32, [folio_engine_p, _p(_i32)]),
    "folio_engine_set_stream_callback": (_i32, [folio_engine_p, folio_stream_fn, c_void_p]),
    "folio_engine_generate": (_i32, [folio_engine_p, _p(c_char_p), _p(_u64), _u64, _p(folio_sampling_params),
                                     _p(folio_outputs_p)]),
    "folio_engine_get_stats": (_i32, [folio_engine_p, _p(folio_stats)]),
    "folio_outputs_count": (_i32, [folio_outputs_p, _p(_u64)]),
    "folio_outputs_get": (_i32, [folio_outputs_p, _u64, _p(folio_request_output)]),
    "folio_outputs_destroy": (None, [folio_outputs_p]),
    "folio_kv_manager_create": (_i32, [_p(folio_kv_manager_params), _p(folio_kv_manager_p)]),
    "folio_kv_manager_destroy": (None, [folio_kv_manager_p]),
    "folio_kv_manager_get_stats": (_i32, [folio_kv_manager_p, _p(folio_stats)]),
    "folio_kv_manager_check": (_i32, [folio_kv_manager_p]),
    "folio_scheduler_create": (_i32, [folio_kv_manager_p, _p(folio_scheduler_params), _p(folio_scheduler_p)]),
    "folio_scheduler_destroy": (None, [folio_scheduler_p]),
    "folio_scheduler_add_request": (_i32, [folio_scheduler_p, _p(_i32), _u64, _p(folio_sampling_params),
                                           _p(_u64)]),
    "folio_scheduler_cancel": (_i32, [folio_scheduler_p, _u64]),
    "folio_scheduler_has_unfinished": (_i32, [folio_scheduler_p, _p(_i32)]),
    "folio_scheduler_schedule": (_i32, [folio_scheduler_p, _p(folio_step_plan_p)]),
    "folio_step_plan_get": (_i32, [folio_step_plan_p, _p(folio_step_plan_view)]),
    "folio_step_plan_destroy": (None, [folio_step_plan_p]),
    "folio_scheduler_update": (_i32, [folio_scheduler_p, folio_step_plan_p, _p(_i32), _p(c_float), _u64,
                                      _p(folio_outputs_p)]),
    "folio_scheduler_get_stats": (_i32, [folio_scheduler_p, _p(folio_stats)]),
}


class LibraryNotFound(OSError):
    pass


def library_path() -> Path:
    """FOLIO_LIB when set, else libfolio.so.1 / libfolio.so next to this package."""
    env = os.environ.get("FOLIO_LIB")
    if env:
        path = Path(env)
        if not path.is_file():
            raise LibraryNotFound(f"FOLIO_LIB={env} is not a file")
        return path
    here = Path(__file__).resolve().parent
    for name in ("libfolio.so.1", "libfolio.so"):
        if (here / name).is_file():
            return here / name
    raise LibraryNotFound(
        f"libfolio.so not found in {here} and FOLIO_LIB is not set; publish it with "
        "scripts/publish-libfolio.sh and set FOLIO_LIB=/path/to/libfolio.so")


_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """The loaded library with every function declared; checks the ABI major version once."""
    global _lib
    if _lib is None:
        handle = ctypes.CDLL(str(library_path()))
        for name, (restype, argtypes) in FUNCTIONS.items():
            fn = getattr(handle, name)
            fn.restype = restype
            fn.argtypes = argtypes
        version = handle.folio_abi_version()
        if version >> 16 != ABI_VERSION_MAJOR:
            raise ImportError(
                f"{library_path()} implements ABI {version >> 16}.{version & 0xFFFF}, this package needs "
                f"{ABI_VERSION_MAJOR}.x")
        _lib = handle
    return _lib


def init_struct(cls):
    """A params/out struct with struct_size set (out-structs) — params also get their library defaults."""
    value = cls()
    value.struct_size = ctypes.sizeof(cls)
    init = {
        folio_engine_params: "folio_engine_params_init",
        folio_sampling_params: "folio_sampling_params_init",
        folio_kv_manager_params: "folio_kv_manager_params_init",
        folio_scheduler_params: "folio_scheduler_params_init",
    }.get(cls)
    if init is not None:
        from .errors import check
        check(getattr(lib(), init)(ctypes.byref(value)))
    return value


class OwnedHandle:
    """A library handle the object owns (in `_handle`): close() destroys it once with the `_destroy` function
    (a folio_*_destroy name); the object closes itself when collected."""
    _destroy: str

    def close(self) -> None:
        if getattr(self, "_handle", None) is not None:
            getattr(lib(), self._destroy)(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass
