"""folio.h's opaque handle types, callback types and structs, mirrored for ctypes (part of the mirror that
folio/_lib.py gathers). tests/test_abi_drift.py compares `HANDLE_TYPES` and `STRUCTS` (fields, sizes, offsets)
with the header.
"""

from __future__ import annotations

from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_double, c_float, c_int32, c_int64,
                    c_uint32, c_uint64, c_void_p)


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
        ("kv_cache_dtype", c_int32),  # ABI 1.5
        ("reserved2", c_int32),  # ignored: the 1.5 struct's tail padding
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
