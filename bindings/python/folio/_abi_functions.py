"""Every function of folio.h with its ctypes result and argument types (part of the mirror that folio/_lib.py
gathers and declares on the loaded library). tests/test_abi_drift.py compares `FUNCTIONS` with the header.
"""

from __future__ import annotations

from ctypes import POINTER, c_char_p, c_float, c_int32, c_uint32, c_uint64, c_void_p

from ._abi_structs import (folio_engine_p, folio_engine_params, folio_kv_manager_p, folio_kv_manager_params,
                           folio_outputs_p, folio_request_output, folio_sampling_params, folio_scheduler_p,
                           folio_scheduler_params, folio_stats, folio_step_plan_p, folio_step_plan_view,
                           folio_stream_fn)

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
