"""folio.LLM: the engine level of libfolio, with a vLLM-like surface."""

from __future__ import annotations

import collections
import ctypes
import json
from typing import Callable, Iterable, Iterator, Sequence

from . import _lib
from .errors import NotFoundError, check, error_for
from .outputs import CompletionOutput, RequestOutput, StepOutput, read_outputs
from .sampling import SamplingParams

_DEVICES = {"cpu": _lib.DEVICE_CPU, "cuda": _lib.DEVICE_CUDA}
_PREEMPTION = {"recompute": _lib.PREEMPTION_RECOMPUTE, "swap": _lib.PREEMPTION_SWAP}
_POLICIES = {"fcfs": _lib.SCHEDULING_FCFS, "priority": _lib.SCHEDULING_PRIORITY}
_QUANTIZATIONS = {"none": _lib.QUANTIZATION_NONE, "int8": _lib.QUANTIZATION_INT8, "int4": _lib.QUANTIZATION_INT4}
_KV_CACHE_DTYPES = {"auto": _lib.KV_CACHE_DTYPE_AUTO, "fp32": _lib.KV_CACHE_DTYPE_F32, "bf16": _lib.KV_CACHE_DTYPE_BF16}
_DTYPES = {"auto": _lib.DTYPE_AUTO, "float32": _lib.DTYPE_FLOAT32, "bfloat16": _lib.DTYPE_BFLOAT16,
           "float16": _lib.DTYPE_FLOAT16}
_LOG_LEVELS = {"trace": _lib.LOG_TRACE, "debug": _lib.LOG_DEBUG, "info": _lib.LOG_INFO, "warn": _lib.LOG_WARN,
               "error": _lib.LOG_ERROR, "none": _lib.LOG_NONE}
LOG_LEVEL_NAMES = {v: k for k, v in _LOG_LEVELS.items()}


def _choice(table: dict[str, int], value: str, what: str) -> int:
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"{what} must be one of {', '.join(table)}; got {value!r}") from None


class LLM(_lib.OwnedHandle):
    """An engine: a model with its paged KV cache and scheduler.

    model: one rule in every host (the folio CLI's --model too): "builtin:NAME" is a built-in model; else an
    existing folder of that name is a Hugging Face model folder; else a bare built-in name: "tiny" (the
    default), "b8", "llama-1b", "llama-8b", "fake" (the scheduler's deterministic fake model).
    scheduling_policy: "fcfs" or "priority" (then generate/add_request's priority orders requests, lower first).
    quantization: "none" (the checkpoint's precision; bf16/fp16 weights stay 16-bit), "int8" or "int4" (group-wise
    symmetric int8 or 4-bit weights, 32 per fp16 scale, quantized at load; int4 follows llama.cpp's Q4_0; CPU backend).
    kv_cache_dtype: "auto" (the backend's default, fp32 on the CPU), "fp32" or "bf16" (half the bytes: twice the tokens
    in the same kv_memory_bytes; K and V rounded to nearest even, attention computed in fp32; CPU backend, every CPU).
    device: "cpu" or "cuda" (libfolio_cuda.so beside libfolio.so, or at FOLIO_CUDA_LIB). On "cuda", dtype is what
    the model computes in: "auto" (fp16 checkpoints in fp16, others in bf16), "float32" (exact, no TF32),
    "bfloat16" or "float16"; gpu_memory_utilization (0, 1] is the share of device memory the engine may fill when
    num_gpu_blocks and kv_memory_bytes are 0 (None: 0.9).
    log_callback(level_name, message) receives the engine's log lines.
    """

    def __init__(self, model: str | None = None, *, device: str = "cpu", block_size: int | None = None,
                 num_gpu_blocks: int = 0, kv_memory_bytes: int = 0, num_cpu_blocks: int = 0,
                 max_num_seqs: int | None = None, max_num_batched_tokens: int | None = None, enable_prefix_caching: bool = True,
                 preemption_mode: str = "recompute", scheduling_policy: str = "fcfs", seed: int = 0, num_threads: int = 0, log_level: str = "warn",
                 quantization: str = "none", kv_cache_dtype: str = "auto", dtype: str = "auto", gpu_memory_utilization: float | None = None,
                 log_callback: Callable[[str, str], None] | None = None):
        lib = _lib.lib()
        p = _lib.init_struct(_lib.folio_engine_params)
        p.device = _choice(_DEVICES, device, "device")
        encoded = model.encode("utf-8") if model is not None else None
        if encoded is not None:
            buf = ctypes.create_string_buffer(encoded, len(encoded))
            p.model = ctypes.cast(buf, ctypes.POINTER(ctypes.c_char))
            p.model_len = len(encoded)
        # None keeps the library's default (folio_engine_params_init): the defaults live in one place.
        if block_size is not None:
            p.block_size_tokens = block_size
        p.num_gpu_blocks = num_gpu_blocks
        p.kv_memory_bytes = kv_memory_bytes
        p.num_cpu_blocks = num_cpu_blocks
        if max_num_seqs is not None:
            p.max_num_seqs = max_num_seqs
        if max_num_batched_tokens is not None:
            p.max_num_batched_tokens = max_num_batched_tokens
        p.enable_prefix_caching = 1 if enable_prefix_caching else 0
        p.preemption_mode = _choice(_PREEMPTION, preemption_mode, "preemption_mode")
        p.scheduling_policy = _choice(_POLICIES, scheduling_policy, "scheduling_policy")
        p.quantization = _choice(_QUANTIZATIONS, quantization, "quantization")
        p.kv_cache_dtype = _choice(_KV_CACHE_DTYPES, kv_cache_dtype, "kv_cache_dtype")
        p.dtype = _choice(_DTYPES, dtype, "dtype")
        if gpu_memory_utilization is not None:
            p.gpu_memory_utilization = gpu_memory_utilization
        p.log_level = _choice(_LOG_LEVELS, log_level, "log_level")
        p.num_threads = num_threads
        p.seed = seed & 0xFFFFFFFFFFFFFFFF
        self._log_cb = None
        if log_callback is not None:
            def on_log(level, message, length, _user):
                log_callback(LOG_LEVEL_NAMES.get(level, str(level)), ctypes.string_at(message, length).decode("utf-8", "replace"))
            self._log_cb = _lib.folio_log_fn(on_log)  # kept alive as long as the engine
            p.log_callback = self._log_cb
        handle = _lib.folio_engine_p()
        check(lib.folio_engine_create(ctypes.byref(p), ctypes.byref(handle)))
        self._handle = handle
        # Per-request output streams: each request's outputs not yet read, in order (dropped after its end is read).
        self._streams: dict[int, collections.deque[StepOutput]] = {}
        # Requests whose stream an iterator of stream()/generate() reads; step() hands out the others'.
        self._claimed: set[int] = set()
        self.model = model

    # -- lifetime (close() and collection: _lib.OwnedHandle) ---------------------------------------------------
    _destroy = "folio_engine_destroy"

    def __enter__(self) -> "LLM":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def handle(self) -> _lib.folio_engine_p:
        if self._handle is None:
            raise ValueError("this LLM was closed")
        return self._handle

    # -- vocabulary ------------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        value = ctypes.c_int32()
        check(_lib.lib().folio_engine_get_vocab_size(self.handle, ctypes.byref(value)))
        return value.value

    @property
    def eos_token_id(self) -> int:
        value = ctypes.c_int32()
        check(_lib.lib().folio_engine_get_eos_token_id(self.handle, ctypes.byref(value)))
        return value.value

    def get_default_sampling_params(self) -> SamplingParams:
        """The model's request defaults (vLLM's name): SamplingParams() with the sampling values of the model's
        generation_config.json in their place. Requests without params use these."""
        c = _lib.init_struct(_lib.folio_sampling_params)
        check(_lib.lib().folio_engine_sampling_params_init(self.handle, ctypes.byref(c)))
        return SamplingParams(temperature=c.temperature, top_p=c.top_p, top_k=c.top_k, min_p=c.min_p,
                              repetition_penalty=c.repetition_penalty, max_tokens=c.max_tokens)

    def tokenize(self, text: str, add_special_tokens: bool = True) -> list[int]:
        lib = _lib.lib()
        data = text.encode("utf-8")
        count = ctypes.c_uint64()
        status = lib.folio_engine_tokenize(self.handle, data, len(data), int(add_special_tokens), None, 0,
                                           ctypes.byref(count))
        if status not in (_lib.STATUS_OK, _lib.STATUS_BUFFER_TOO_SMALL):
            raise error_for(status)
        ids = (ctypes.c_int32 * max(1, count.value))()
        check(lib.folio_engine_tokenize(self.handle, data, len(data), int(add_special_tokens), ids, count.value,
                                        ctypes.byref(count)))
        return list(ids[:count.value])

    def detokenize(self, token_ids: Sequence[int]) -> str:
        lib = _lib.lib()
        ids = (ctypes.c_int32 * max(1, len(token_ids)))(*token_ids)
        length = ctypes.c_uint64()
        status = lib.folio_engine_detokenize(self.handle, ids, len(token_ids), None, 0, ctypes.byref(length))
        if status != _lib.STATUS_BUFFER_TOO_SMALL:
            check(status)
        buf = ctypes.create_string_buffer(length.value + 1)
        check(lib.folio_engine_detokenize(self.handle, ids, len(token_ids), buf, length.value + 1,
                                          ctypes.byref(length)))
        return buf.raw[:length.value].decode("utf-8")

    # -- chat -----------------------------------------------------------------------------------------------
    def apply_chat_template(self, messages: Sequence[dict], *, tools: Sequence[dict] | None = None,
                            documents: Sequence[dict] | None = None, add_generation_prompt: bool = True,
                            chat_template_kwargs: dict | None = None) -> str:
        """The prompt text the model's chat template (tokenizer_config.json / chat_template.jinja) makes of a
        conversation. chat_template_kwargs become template variables (e.g. {"enable_thinking": False}).
        UnsupportedError when the model has no template; InvalidArgumentError when the template refuses the input."""
        options = dict(chat_template_kwargs or {})
        options["add_generation_prompt"] = bool(add_generation_prompt)
        if documents is not None:
            options["documents"] = list(documents)
        args = [json.dumps(list(messages), ensure_ascii=False).encode("utf-8"),
                None if tools is None else json.dumps(list(tools), ensure_ascii=False).encode("utf-8"),
                json.dumps(options, ensure_ascii=False).encode("utf-8")]
        sized = []
        for a in args:
            sized += [a, 0 if a is None else len(a)]
        lib = _lib.lib()
        length = ctypes.c_uint64()
        status = lib.folio_engine_apply_chat_template(self.handle, *sized, None, 0, ctypes.byref(length))
        if status != _lib.STATUS_BUFFER_TOO_SMALL:
            check(status)
        buf = ctypes.create_string_buffer(length.value + 1)
        check(lib.folio_engine_apply_chat_template(self.handle, *sized, buf, length.value + 1, ctypes.byref(length)))
        return buf.raw[:length.value].decode("utf-8")

    def chat(self, messages: Sequence[dict] | Sequence[Sequence[dict]],
             sampling_params: SamplingParams | Sequence[SamplingParams] | None = None, *,
             add_generation_prompt: bool = True, tools: Sequence[dict] | None = None,
             documents: Sequence[dict] | None = None, chat_template_kwargs: dict | None = None) -> list[RequestOutput]:
        """vLLM's LLM.chat: one conversation (a list of {"role", "content"} dicts) or a list of them, rendered with
        the model's chat template, tokenized without added special tokens (the template writes them, as vLLM
        does) and generated to completion. One RequestOutput per conversation; its prompt is the rendered text."""
        conversations = [messages] if messages and isinstance(messages[0], dict) else list(messages)
        if not conversations:
            return []
        texts = [self.apply_chat_template(c, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt,
                                          chat_template_kwargs=chat_template_kwargs) for c in conversations]
        outputs = self.generate([self.tokenize(t, add_special_tokens=False) for t in texts], sampling_params)
        for o, text in zip(outputs, texts):
            o.prompt = text
        return outputs

    # -- requests --------------------------------------------------------------------------------------------
    def add_request(self, prompt: str | Sequence[int], params: SamplingParams | None = None, *, priority: int = 0,
                    cache_salt: str | None = None) -> int:
        """Queues a prompt (text or token ids); returns its request id. Its outputs come from step(). priority:
        lower runs first under the "priority" scheduling policy; cache_salt: shares prefix-cache blocks only with
        requests of the same salt."""
        lib = _lib.lib()
        c, keep = (params or self.get_default_sampling_params()).to_c(priority, cache_salt)
        rid = ctypes.c_uint64()
        if isinstance(prompt, str):
            data = prompt.encode("utf-8")
            check(lib.folio_engine_add_text(self.handle, data, len(data), ctypes.byref(c), ctypes.byref(rid)))
        else:
            ids = (ctypes.c_int32 * max(1, len(prompt)))(*prompt)
            check(lib.folio_engine_add_tokens(self.handle, ids, len(prompt), ctypes.byref(c), ctypes.byref(rid)))
        del keep
        self._streams[rid.value] = collections.deque()
        return rid.value

    def cancel(self, request_id: int) -> None:
        """Cancels a request (NotFoundError when unknown or finished); its end comes from the next step."""
        check(_lib.lib().folio_engine_cancel(self.handle, request_id))

    def has_unfinished(self) -> bool:
        value = ctypes.c_int32()
        check(_lib.lib().folio_engine_has_unfinished(self.handle, ctypes.byref(value)))
        return bool(value.value) or any(self._streams[rid] for rid in self._streams if rid not in self._claimed)

    def step(self) -> list[StepOutput]:
        """Runs one iteration; returns the outputs of requests that no stream()/generate() is reading (this step's,
        and any an earlier stream()/generate() produced for them meanwhile), request by request."""
        self._pump()
        out: list[StepOutput] = []
        for rid in [r for r in self._streams if r not in self._claimed]:
            out += self._take(rid)
        return out

    def _pump(self) -> None:
        """One engine step; each output goes to its request's stream."""
        handle = _lib.folio_outputs_p()
        check(_lib.lib().folio_engine_step(self.handle, ctypes.byref(handle)))
        for o in read_outputs(handle):
            self._streams.setdefault(o.request_id, collections.deque()).append(o)

    def _take(self, rid: int) -> list[StepOutput]:
        """Everything queued on a request's stream; the stream goes once its end is taken."""
        queue = self._streams[rid]
        out = list(queue)
        queue.clear()
        if out and out[-1].request_finished:
            del self._streams[rid]
        return out

    def _run(self, rids: list[int]) -> Iterator[StepOutput]:
        """The run-to-completion loop (stream() and generate() both read through it): yields the requests' outputs
        as they come until each has ended, stepping the engine while none is waiting."""
        open_ids = list(rids)
        self._claimed.update(open_ids)
        try:
            while open_ids:
                for rid in list(open_ids):
                    for o in self._take(rid):
                        yield o
                        if o.request_finished:
                            open_ids.remove(rid)
                if open_ids:
                    self._pump()
        finally:
            self._claimed.difference_update(rids)

    def stream(self, prompt: str | Sequence[int], params: SamplingParams | None = None) -> Iterator[StepOutput]:
        """Adds one request and yields its incremental outputs until it finishes (the last has request_finished).
        Other requests' outputs produced meanwhile stay on their own streams (for step()). Closing the iterator
        early cancels the request."""
        rid = self.add_request(prompt, params)
        finished = False
        outputs = self._run([rid])
        try:
            for o in outputs:
                finished = o.request_finished
                yield o
        finally:
            outputs.close()   # releases the claim on the request's stream now, not when collected
            if not finished and self._handle is not None:
                try:
                    self.cancel(rid)   # nobody reads the rest; its end still comes, to step()
                except NotFoundError:
                    pass   # it ended meanwhile

    def generate(self, prompts: str | Sequence[int] | Iterable[str] | Iterable[Sequence[int]],
                 params: SamplingParams | Sequence[SamplingParams] | None = None, *,
                 priority: Sequence[int] | None = None,
                 cache_salt: str | Sequence[str | None] | None = None) -> list[RequestOutput]:
        """Runs the prompts (texts, or token-id lists) to completion (blocking); one RequestOutput per prompt, in
        order. params: one SamplingParams for every prompt, or one per prompt (as vLLM takes them). priority:
        one per prompt (vLLM's generate(priority=...)); cache_salt: one for all prompts or one per prompt."""
        if isinstance(prompts, str):
            prompt_list: list = [prompts]
        elif isinstance(prompts, (list, tuple)) and prompts and all(isinstance(t, int) for t in prompts):
            prompt_list = [list(prompts)]
        else:
            prompt_list = [p if isinstance(p, str) else list(p) for p in prompts]
        n_prompts = len(prompt_list)
        if priority is not None and len(priority) != n_prompts:
            raise ValueError(f"{len(priority)} priorities for {n_prompts} prompts: give one per prompt")
        salts = [cache_salt] * n_prompts if cache_salt is None or isinstance(cache_salt, str) else list(cache_salt)
        if len(salts) != n_prompts:
            raise ValueError(f"{len(salts)} cache salts for {n_prompts} prompts: give one for all, or one per prompt")
        priorities = list(priority) if priority is not None else [0] * n_prompts
        if isinstance(params, (list, tuple)):
            if len(params) != n_prompts:
                raise ValueError(f"{len(params)} SamplingParams for {n_prompts} prompts: "
                                 "give one for all, or one per prompt")
            param_list = list(params)
        else:
            param_list = [params] * len(prompt_list)
        ids = [self.add_request(p, q, priority=pr, cache_salt=salt)
               for p, q, pr, salt in zip(prompt_list, param_list, priorities, salts)]
        # The prompt's ids as the engine got them (a text prompt is tokenized as add_request does: with special tokens).
        results = {rid: RequestOutput(request_id=rid, prompt=p, prompt_token_ids=self.tokenize(p) if isinstance(p, str)
                                      else list(p)) for rid, p in zip(ids, prompt_list)}
        sequences: dict[tuple[int, int], CompletionOutput] = {}
        for o in self._run(ids):
            if o.request_finished:
                if o.reject_reason is not None:
                    results[o.request_id].reject_reason = o.reject_reason
                mine = [c for (rid, _), c in sequences.items() if rid == o.request_id]
                if not mine:   # rejected, or aborted before its first token
                    sequences[(o.request_id, 0)] = CompletionOutput(0, "", [], 0.0, None, o.finish_reason)
                elif o.finish_reason in ("abort", "rejected"):
                    for c in mine:   # a request that ended as a whole reports that for each output
                        c.finish_reason = o.finish_reason
                continue
            c = sequences.setdefault((o.request_id, o.index), CompletionOutput(o.index, "", [], 0.0, None, None))
            c.token_ids += o.token_ids
            c.text += o.text
            c.cumulative_logprob = o.cumulative_logprob
            if o.logprobs is not None:
                c.logprobs = (c.logprobs or []) + o.logprobs
            c.finish_reason = o.finish_reason
        for (rid, _), c in sorted(sequences.items()):
            results[rid].outputs.append(c)
        return [results[rid] for rid in ids]

    def stats(self) -> dict[str, float]:
        s = _lib.init_struct(_lib.folio_stats)
        check(_lib.lib().folio_engine_get_stats(self.handle, ctypes.byref(s)))
        return {name: getattr(s, name) for name, _ in _lib.folio_stats._fields_ if name != "struct_size"}
