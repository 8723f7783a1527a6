"""SamplingParams as users of vLLM know them, converted to folio_sampling_params."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Sequence

from . import _lib
from .structured_outputs import StructuredOutputsParams, fill as _fill_constraints


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    max_tokens: int = 16
    min_tokens: int = 0
    seed: int | None = None
    ignore_eos: bool = False
    logprobs: int | None = None
    stop: Sequence[str] = field(default_factory=tuple)
    stop_token_ids: Sequence[int] = field(default_factory=tuple)
    beam_width: int = 0
    length_penalty: float = 1.0
    # Token constraints (vLLM's): all off by default.
    structured_outputs: StructuredOutputsParams | None = None
    logit_bias: dict[int, float] | None = None
    allowed_token_ids: Sequence[int] | None = None
    bad_words: Sequence[str] | None = None

    def to_c(self, priority: int = 0, cache_salt: str | None = None) -> tuple[_lib.folio_sampling_params, list[object]]:
        """The C struct, and the buffers it points into (keep them alive for the call). priority and cache_salt
        are per-request options that vLLM passes beside SamplingParams (generate's priority=, the prompt's
        cache_salt); the C ABI carries them in the same struct."""
        c = _lib.init_struct(_lib.folio_sampling_params)
        c.n = self.n
        c.temperature = self.temperature
        c.top_p = self.top_p
        c.top_k = self.top_k
        c.min_p = self.min_p
        c.presence_penalty = self.presence_penalty
        c.frequency_penalty = self.frequency_penalty
        c.repetition_penalty = self.repetition_penalty
        c.max_tokens = self.max_tokens
        c.min_tokens = self.min_tokens
        c.has_seed = 0 if self.seed is None else 1
        c.seed = 0 if self.seed is None else self.seed & 0xFFFFFFFFFFFFFFFF
        c.ignore_eos = 1 if self.ignore_eos else 0
        c.logprobs = -1 if self.logprobs is None else self.logprobs
        c.beam_width = self.beam_width
        c.length_penalty = self.length_penalty
        c.priority = priority
        keep: list[object] = []
        if cache_salt:
            salt = cache_salt.encode("utf-8")
            salt_buf = ctypes.create_string_buffer(salt, len(salt))
            keep.append(salt_buf)
            c.cache_salt = ctypes.cast(salt_buf, ctypes.POINTER(ctypes.c_char))
            c.cache_salt_len = len(salt)
        if self.stop_token_ids:
            ids = (ctypes.c_int32 * len(self.stop_token_ids))(*self.stop_token_ids)
            keep.append(ids)
            c.stop_token_ids = ids
            c.num_stop_token_ids = len(self.stop_token_ids)
        if isinstance(self.stop, str):
            raise TypeError("stop is a list of strings, not a string")
        if self.stop:
            encoded = [s.encode("utf-8") for s in self.stop]
            buffers = [ctypes.create_string_buffer(b, len(b)) for b in encoded]
            ptrs = (ctypes.POINTER(ctypes.c_char) * len(buffers))(
                *[ctypes.cast(b, ctypes.POINTER(ctypes.c_char)) for b in buffers])
            lens = (ctypes.c_uint64 * len(encoded))(*[len(b) for b in encoded])
            keep += [buffers, ptrs, lens]
            c.stop = ptrs
            c.stop_lens = lens
            c.num_stop = len(encoded)
        _fill_constraints(c, keep, self.structured_outputs, self.logit_bias, self.allowed_token_ids, self.bad_words)
        return c, keep
