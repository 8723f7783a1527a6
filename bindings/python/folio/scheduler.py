"""The scheduler level of libfolio: folio.KVCacheManager and folio.Scheduler for hosts that run their own model.

A StepPlan's arrays are memoryviews straight over libfolio's memory (format 'i' / 'q', no copy, no NumPy):
torch.frombuffer(plan.token_ids, dtype=torch.int32) or numpy.asarray(plan.slot_mapping) use them in place.
They stay valid while any of them, or the plan, is referenced.
"""

from __future__ import annotations

import ctypes
from typing import Sequence

from . import _lib
from .errors import check
from .outputs import StepOutput, read_outputs
from .sampling import SamplingParams

_PREEMPTION = {"recompute": _lib.PREEMPTION_RECOMPUTE, "swap": _lib.PREEMPTION_SWAP}
_POLICIES = {"fcfs": _lib.SCHEDULING_FCFS, "priority": _lib.SCHEDULING_PRIORITY}


def _stats(fn, handle) -> dict[str, float]:
    s = _lib.init_struct(_lib.folio_stats)
    check(fn(handle, ctypes.byref(s)))
    return {name: getattr(s, name) for name, _ in _lib.folio_stats._fields_ if name != "struct_size"}


class KVCacheManager(_lib.OwnedHandle):
    """The paged KV cache manager: a GPU block pool (and optional CPU swap pool) of fixed-size blocks."""
    _destroy = "folio_kv_manager_destroy"

    def __init__(self, num_gpu_blocks: int, block_size: int = 16, num_cpu_blocks: int = 0,
                 enable_prefix_caching: bool = True):
        p = _lib.init_struct(_lib.folio_kv_manager_params)
        p.num_gpu_blocks = num_gpu_blocks
        p.block_size_tokens = block_size
        p.num_cpu_blocks = num_cpu_blocks
        p.enable_prefix_caching = 1 if enable_prefix_caching else 0
        handle = _lib.folio_kv_manager_p()
        check(_lib.lib().folio_kv_manager_create(ctypes.byref(p), ctypes.byref(handle)))
        self._handle = handle
        self.block_size = block_size
        self.num_gpu_blocks = num_gpu_blocks
        self.num_cpu_blocks = num_cpu_blocks

    def stats(self) -> dict[str, float]:
        return _stats(_lib.lib().folio_kv_manager_get_stats, self._handle)

    def check(self) -> None:
        """Raises InternalError naming the broken invariant, if any."""
        check(_lib.lib().folio_kv_manager_check(self._handle))


class StepPlan(_lib.OwnedHandle):
    """One step's plan. Rows are the sequences of the step; pairs arrays have shape (n, 2) (empty when n is 0)."""
    _destroy = "folio_step_plan_destroy"

    def __init__(self, handle: _lib.folio_step_plan_p):
        self._handle = handle
        v = _lib.init_struct(_lib.folio_step_plan_view)
        check(_lib.lib().folio_step_plan_get(handle, ctypes.byref(v)))
        self.step_id = v.step_id
        self.block_size = v.block_size_tokens
        self.num_seqs = v.num_seqs
        self.num_tokens = v.num_tokens
        self.num_logits = v.num_logits
        self.num_sampled = v.num_sampled
        self.max_blocks_per_seq = v.max_blocks_per_seq
        self.seq_ids = self._view(v.seq_ids, v.num_seqs, ctypes.c_int64, "q")
        self.request_ids = self._view(v.request_ids, v.num_seqs, ctypes.c_int64, "q")
        self.query_start = self._view(v.query_start, v.num_seqs + 1, ctypes.c_int32, "i")
        self.context_lens = self._view(v.context_lens, v.num_seqs, ctypes.c_int32, "i")
        self.token_ids = self._view(v.token_ids, v.num_tokens, ctypes.c_int32, "i")
        self.positions = self._view(v.positions, v.num_tokens, ctypes.c_int32, "i")
        # int64, as the kernels take it (folio.ops.kv_write wants an int64 tensor)
        self.slot_mapping = self._view(v.slot_mapping_i64, v.num_tokens, ctypes.c_int64, "q")
        self.block_tables = self._view(v.block_tables, v.num_seqs * v.max_blocks_per_seq, ctypes.c_int32, "i",
                                       (v.num_seqs, v.max_blocks_per_seq))
        self.logits_token_index = self._view(v.logits_token_index, v.num_logits, ctypes.c_int32, "i")
        self.logits_seq_row = self._view(v.logits_seq_row, v.num_logits, ctypes.c_int32, "i")
        self.num_samples = self._view(v.num_samples, v.num_logits, ctypes.c_int32, "i")
        self.suppress_stop = self._view(v.suppress_stop, v.num_logits, ctypes.c_int32, "i")
        self.block_copies = self._view(v.block_copies, 2 * v.num_block_copies, ctypes.c_int32, "i",
                                       (v.num_block_copies, 2))
        self.swap_in = self._view(v.swap_in, 2 * v.num_swap_in, ctypes.c_int32, "i", (v.num_swap_in, 2))
        self.swap_out = self._view(v.swap_out, 2 * v.num_swap_out, ctypes.c_int32, "i", (v.num_swap_out, 2))

    def _view(self, pointer, count: int, ctype, fmt: str, shape: tuple[int, ...] | None = None) -> memoryview:
        if count == 0 or (shape is not None and 0 in shape):
            return memoryview(b"").cast(fmt)
        array = (ctype * count).from_address(ctypes.addressof(pointer.contents))
        array._plan = self  # the memory belongs to the plan: keep it alive while a view exists
        flat = memoryview(array).cast("B")
        return flat.cast(fmt, shape) if shape is not None else flat.cast(fmt)


class Scheduler(_lib.OwnedHandle):
    """Continuous batching over a KVCacheManager: add requests as token ids, schedule() a StepPlan, run your
    model over it, and update() with the sampled tokens."""
    _destroy = "folio_scheduler_destroy"

    def __init__(self, kv: KVCacheManager, vocab_size: int, *, eos_token_id: int = -1, max_num_seqs: int = 256,
                 max_num_batched_tokens: int = 2048, preemption_mode: str = "recompute",
                 scheduling_policy: str = "fcfs"):
        if preemption_mode not in _PREEMPTION:
            raise ValueError(f"preemption_mode must be one of {', '.join(_PREEMPTION)}; got {preemption_mode!r}")
        if scheduling_policy not in _POLICIES:
            raise ValueError(f"scheduling_policy must be one of {', '.join(_POLICIES)}; got {scheduling_policy!r}")
        p = _lib.init_struct(_lib.folio_scheduler_params)
        p.vocab_size = vocab_size
        p.eos_token_id = eos_token_id
        p.max_num_seqs = max_num_seqs
        p.max_num_batched_tokens = max_num_batched_tokens
        p.preemption_mode = _PREEMPTION[preemption_mode]
        p.scheduling_policy = _POLICIES[scheduling_policy]
        handle = _lib.folio_scheduler_p()
        check(_lib.lib().folio_scheduler_create(kv._handle, ctypes.byref(p), ctypes.byref(handle)))
        self._handle = handle
        self.kv = kv

    def add_request(self, prompt_token_ids: Sequence[int], params: SamplingParams | None = None, *,
                    priority: int = 0, cache_salt: str | None = None) -> int:
        ids = (ctypes.c_int32 * max(1, len(prompt_token_ids)))(*prompt_token_ids)
        c, keep = (params or SamplingParams()).to_c(priority, cache_salt)
        rid = ctypes.c_uint64()
        check(_lib.lib().folio_scheduler_add_request(self._handle, ids, len(prompt_token_ids), ctypes.byref(c),
                                                     ctypes.byref(rid)))
        del keep
        return rid.value

    def cancel(self, request_id: int) -> None:
        check(_lib.lib().folio_scheduler_cancel(self._handle, request_id))

    def has_unfinished(self) -> bool:
        value = ctypes.c_int32()
        check(_lib.lib().folio_scheduler_has_unfinished(self._handle, ctypes.byref(value)))
        return bool(value.value)

    def schedule(self) -> StepPlan:
        handle = _lib.folio_step_plan_p()
        check(_lib.lib().folio_scheduler_schedule(self._handle, ctypes.byref(handle)))
        return StepPlan(handle)

    def update(self, plan: StepPlan, sampled_token_ids: Sequence[int],
               logprobs: Sequence[float] | None = None) -> list[StepOutput]:
        n = len(sampled_token_ids)
        ids = (ctypes.c_int32 * max(1, n))(*sampled_token_ids)
        lps = None if logprobs is None else (ctypes.c_float * max(1, n))(*logprobs)
        out = _lib.folio_outputs_p()
        check(_lib.lib().folio_scheduler_update(self._handle, plan._handle, ids, lps, n, ctypes.byref(out)))
        return read_outputs(out)

    def stats(self) -> dict[str, float]:
        return _stats(_lib.lib().folio_scheduler_get_stats, self._handle)
