"""Output records, shaped like vLLM's RequestOutput / CompletionOutput."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from . import _lib

FINISH_REASONS = {
    _lib.FINISH_NONE: None,
    _lib.FINISH_STOP: "stop",
    _lib.FINISH_LENGTH: "length",
    _lib.FINISH_ABORT: "abort",
    _lib.FINISH_REJECTED: "rejected",
}


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float
    logprobs: list[dict[int, float]] | None
    finish_reason: str | None


@dataclass
class RequestOutput:
    request_id: int
    prompt: str | list[int]
    outputs: list[CompletionOutput] = field(default_factory=list)
    finished: bool = True
    reject_reason: str | None = None  # why the request was refused (finish_reason "rejected"), else None
    prompt_token_ids: list[int] = field(default_factory=list)


@dataclass
class StepOutput:
    """One incremental output of folio_engine_step / folio_scheduler_update: new tokens of one sequence, or
    (request_finished, index -1) the end of a request."""
    request_id: int
    index: int
    token_ids: list[int]
    text: str
    cumulative_logprob: float
    logprobs: list[dict[int, float]] | None
    finish_reason: str | None
    request_finished: bool
    reject_reason: str | None = None  # on a "rejected" output: why the request can never be served


def _top(o: _lib.folio_request_output) -> list[dict[int, float]] | None:
    k = o.num_top_logprobs
    if k <= 0 or not o.top_token_ids:
        return None
    result = []
    for t in range(o.num_tokens):
        entry = {}
        for j in range(k):
            token = o.top_token_ids[t * k + j]
            if token >= 0:
                entry[token] = o.top_logprobs[t * k + j]
        result.append(entry)
    return result


def read_outputs(handle: _lib.folio_outputs_p) -> list[StepOutput]:
    """Copies every record of a folio_outputs into Python objects, then destroys it."""
    from .errors import check
    lib = _lib.lib()
    try:
        count = ctypes.c_uint64()
        check(lib.folio_outputs_count(handle, ctypes.byref(count)))
        result = []
        for i in range(count.value):
            o = _lib.init_struct(_lib.folio_request_output)
            check(lib.folio_outputs_get(handle, i, ctypes.byref(o)))
            result.append(StepOutput(
                request_id=o.request_id,
                index=o.seq_index,
                token_ids=list(o.token_ids[:o.num_tokens]) if o.num_tokens else [],
                text=ctypes.string_at(o.text, o.text_len).decode("utf-8") if o.text_len else "",
                cumulative_logprob=o.cumulative_logprob,
                logprobs=_top(o),
                finish_reason=FINISH_REASONS.get(o.finish_reason, str(o.finish_reason)),
                request_finished=bool(o.request_finished),
                reject_reason=(ctypes.string_at(o.reject_reason, o.reject_reason_len).decode("utf-8")
                               if o.finish_reason == _lib.FINISH_REJECTED and o.reject_reason else None),
            ))
        return result
    finally:
        lib.folio_outputs_destroy(handle)
