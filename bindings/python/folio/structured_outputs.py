"""StructuredOutputsParams as vLLM's (SamplingParams.structured_outputs), and the C arrays of the token constraints
(folio_sampling_params' ABI 1.3 fields)."""

from __future__ import annotations

import ctypes
import json as _json
from dataclasses import dataclass
from typing import Any, Sequence

from . import _lib


@dataclass
class StructuredOutputsParams:
    """Exactly one of: a JSON schema (a dict or its text), a regular expression, a list of choices, a GBNF grammar,
    or json_object=True (any JSON object). The engine checks it when the request is added (an unsupported schema
    keyword is named with its JSON path) and enforces it token by token."""
    json: str | dict[str, Any] | None = None
    regex: str | None = None
    choice: Sequence[str] | None = None
    grammar: str | None = None
    json_object: bool | None = None

    def kind_and_text(self) -> tuple[int, str | None]:
        set_fields = [name for name in ("json", "regex", "choice", "grammar", "json_object")
                      if getattr(self, name) not in (None, False)]
        if len(set_fields) != 1:
            raise ValueError("structured_outputs must set exactly one of json, regex, choice, grammar, json_object; "
                             f"{len(set_fields)} are set")
        if self.json is not None:
            return _lib.STRUCTURED_JSON, self.json if isinstance(self.json, str) else _json.dumps(self.json)
        if self.regex is not None:
            return _lib.STRUCTURED_REGEX, self.regex
        if self.choice is not None:
            if isinstance(self.choice, str):
                raise TypeError("choice is a list of strings, not a string")
            return _lib.STRUCTURED_CHOICE, None
        if self.grammar is not None:
            return _lib.STRUCTURED_GRAMMAR, self.grammar
        return _lib.STRUCTURED_JSON_OBJECT, None


def _text(s: str, keep: list[object]) -> tuple[Any, int]:
    data = s.encode("utf-8")
    buf = ctypes.create_string_buffer(data, len(data))
    keep.append(buf)
    return ctypes.cast(buf, ctypes.POINTER(ctypes.c_char)), len(data)


def _strings(items: Sequence[str], keep: list[object]) -> tuple[Any, Any, int]:
    encoded = [s.encode("utf-8") for s in items]
    buffers = [ctypes.create_string_buffer(b, len(b)) for b in encoded]
    ptrs = (ctypes.POINTER(ctypes.c_char) * len(buffers))(
        *[ctypes.cast(b, ctypes.POINTER(ctypes.c_char)) for b in buffers])
    lens = (ctypes.c_uint64 * len(encoded))(*[len(b) for b in encoded])
    keep += [buffers, ptrs, lens]
    return ptrs, lens, len(encoded)


def fill(c: _lib.folio_sampling_params, keep: list[object], structured: StructuredOutputsParams | None,
         logit_bias: dict[int, float] | None, allowed_token_ids: Sequence[int] | None,
         bad_words: Sequence[str] | None) -> None:
    """Writes the token constraints into `c`; the buffers it points into go to `keep`."""
    if structured is not None:
        kind, text = structured.kind_and_text()
        c.structured_output_kind = kind
        if text is not None:
            c.structured_output, c.structured_output_len = _text(text, keep)
        if kind == _lib.STRUCTURED_CHOICE:
            c.choices, c.choice_lens, c.num_choices = _strings(list(structured.choice or ()), keep)
    if logit_bias:
        items = list(logit_bias.items())
        ids = (ctypes.c_int32 * len(items))(*[int(k) for k, _ in items])
        values = (ctypes.c_float * len(items))(*[float(v) for _, v in items])
        keep += [ids, values]
        c.logit_bias_token_ids, c.logit_bias_values, c.num_logit_bias = ids, values, len(items)
    if allowed_token_ids is not None:
        if len(allowed_token_ids) == 0:
            raise ValueError("allowed_token_ids must not be empty (None = no restriction)")
        ids = (ctypes.c_int32 * len(allowed_token_ids))(*allowed_token_ids)
        keep.append(ids)
        c.allowed_token_ids, c.num_allowed_token_ids = ids, len(allowed_token_ids)
    if bad_words:
        if isinstance(bad_words, str):
            raise TypeError("bad_words is a list of strings, not a string")
        c.bad_words, c.bad_word_lens, c.num_bad_words = _strings(bad_words, keep)
