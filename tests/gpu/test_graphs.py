"""Events and CUDA graphs of folio_cuda.h: a decode step (KV write, then paged attention) captured once and replayed
with new inputs gives exactly what the same launches give eagerly; timing events measure a replay."""
import ctypes

import pytest
import torch

from folio import _cuda_abi as abi
from folio import ops
from paged import make_pool


def check(status: int) -> None:
    if status != 0:
        raise ops.FolioCudaError(status, ops.library().folio_cuda_last_error().decode())


def step(q, key, value, slots, pool, out, ws, max_len):
    """One decode step of a layer: the new tokens' K/V into the cache, then attention over it."""
    ops.kv_write(key, value, pool.k_cache, pool.v_cache, slots, layout=pool.layout)
    ops.paged_attention_decode(q, pool.k_cache, pool.v_cache, pool.block_tables, pool.context_lens, max_len,
                               out=out, workspace=ws, layout=pool.layout)


def new_token_slots(pool, lens):
    """The slot of each sequence's last position (its new token), from its block table."""
    slots = [int(pool.block_tables[s, (n - 1) // pool.block_size]) * pool.block_size + (n - 1) % pool.block_size
             for s, n in enumerate(lens)]
    return torch.tensor(slots, dtype=torch.int64, device="cuda")


@pytest.mark.parametrize("layout", ["NHD", "HND"])
def test_captured_decode_step_replays_exactly(layout):
    lens, hkv, group, d, bs, dtype = [300, 17, 4100], 2, 4, 128, 16, torch.bfloat16
    pool = make_pool(lens, hkv, d, bs, dtype, layout=layout)
    slots = new_token_slots(pool, lens)
    q = torch.randn(len(lens), hkv * group, d, device="cuda").to(dtype)
    key = torch.randn(len(lens), hkv, d, device="cuda").to(dtype)
    value = torch.randn(len(lens), hkv, d, device="cuda").to(dtype)
    need = ops.decode_workspace_size(len(lens), hkv * group, hkv, d, max(lens))
    assert need > 0, "the long sequence should split: the workspace is part of what is captured"
    ws = torch.zeros(need, dtype=torch.uint8, device="cuda")
    out = torch.full_like(q, float("nan"))
    lib = ops.library()
    stream = torch.cuda.Stream()
    graph, exec_ = ctypes.c_void_p(), ctypes.c_void_p()
    torch.cuda.synchronize()
    with torch.cuda.stream(stream):
        check(lib.folio_cuda_stream_begin_capture(stream.cuda_stream))
        step(q, key, value, slots, pool, out, ws, max(lens))
        check(lib.folio_cuda_stream_end_capture(stream.cuda_stream, ctypes.byref(graph)))
    check(lib.folio_cuda_graph_instantiate(graph, ctypes.byref(exec_)))
    check(lib.folio_cuda_graph_destroy(graph))  # the executable graph stands alone
    stream.synchronize()
    assert torch.isnan(out).all(), "capture must record the launches, not run them"

    start, end = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.folio_cuda_event_create(1, ctypes.byref(start)))
    check(lib.folio_cuda_event_create(1, ctypes.byref(end)))
    try:
        for _ in range(3):  # new inputs each step, as a decode loop gives the same buffers new contents
            q.copy_(torch.randn_like(q, dtype=torch.float32).to(dtype))
            key.copy_(torch.randn_like(key, dtype=torch.float32).to(dtype))
            value.copy_(torch.randn_like(value, dtype=torch.float32).to(dtype))
            k_ref, v_ref = pool.k_cache.clone(), pool.v_cache.clone()
            torch.cuda.synchronize()
            check(lib.folio_cuda_event_record(start, stream.cuda_stream))
            check(lib.folio_cuda_graph_launch(exec_, stream.cuda_stream))
            check(lib.folio_cuda_event_record(end, stream.cuda_stream))
            check(lib.folio_cuda_event_synchronize(end))
            replayed, k_replayed, v_replayed = out.clone(), pool.k_cache.clone(), pool.v_cache.clone()
            # The same step eagerly, on the cache as it was before the replay.
            pool.k_cache.copy_(k_ref)
            pool.v_cache.copy_(v_ref)
            eager = torch.empty_like(out)
            step(q, key, value, slots, pool, eager, ws, max(lens))
            torch.cuda.synchronize()
            assert torch.equal(k_replayed.view(torch.uint8), pool.k_cache.view(torch.uint8))
            assert torch.equal(v_replayed.view(torch.uint8), pool.v_cache.view(torch.uint8))
            assert torch.equal(replayed, eager), "a replay differs from the same launches run eagerly"
            assert not torch.isnan(replayed).any()
            ms = ctypes.c_float()
            check(lib.folio_cuda_event_elapsed_ms(start, end, ctypes.byref(ms)))
            assert 0.0 < ms.value < 1000.0
    finally:
        check(lib.folio_cuda_event_destroy(start))
        check(lib.folio_cuda_event_destroy(end))
        check(lib.folio_cuda_graph_exec_destroy(exec_))


def test_capture_refusals():
    lib = ops.library()
    # The legacy default stream cannot be captured; ending a capture that never began is the runtime's error.
    assert lib.folio_cuda_stream_begin_capture(None) == abi.STATUS_INVALID_ARGUMENT
    stream = torch.cuda.Stream()
    graph = ctypes.c_void_p()
    assert lib.folio_cuda_stream_end_capture(stream.cuda_stream, ctypes.byref(graph)) == abi.STATUS_CUDA_ERROR
    assert lib.folio_cuda_last_error().decode().startswith("cuda_stream_end_capture:")
    # A timing-free event cannot be timed.
    a, b = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.folio_cuda_event_create(0, ctypes.byref(a)))
    check(lib.folio_cuda_event_create(0, ctypes.byref(b)))
    try:
        check(lib.folio_cuda_event_record(a, stream.cuda_stream))
        check(lib.folio_cuda_event_record(b, stream.cuda_stream))
        check(lib.folio_cuda_event_synchronize(b))
        ms = ctypes.c_float()
        assert lib.folio_cuda_event_elapsed_ms(a, b, ctypes.byref(ms)) == abi.STATUS_CUDA_ERROR
        check(lib.folio_cuda_stream_wait_event(torch.cuda.current_stream().cuda_stream, b))
    finally:
        check(lib.folio_cuda_event_destroy(a))
        check(lib.folio_cuda_event_destroy(b))


def test_failed_call_does_not_fail_the_next_launch():
    """A runtime call that fails (timing an event made without timing) is reported by that call alone: the next
    launch's own check must not pick up its error (it once failed the kv_write that followed)."""
    lib = ops.library()
    a, b = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.folio_cuda_event_create(0, ctypes.byref(a)))
    check(lib.folio_cuda_event_create(0, ctypes.byref(b)))
    stream = torch.cuda.current_stream().cuda_stream
    try:
        check(lib.folio_cuda_event_record(a, stream))
        check(lib.folio_cuda_event_record(b, stream))
        check(lib.folio_cuda_event_synchronize(b))
        assert lib.folio_cuda_event_elapsed_ms(a, b, ctypes.byref(ctypes.c_float())) == abi.STATUS_CUDA_ERROR
    finally:
        check(lib.folio_cuda_event_destroy(a))
        check(lib.folio_cuda_event_destroy(b))
    lens = [5, 19]
    pool = make_pool(lens, 2, 64, 8, torch.float32)
    slots = new_token_slots(pool, lens)
    key = torch.randn(len(lens), 2, 64, device="cuda")
    value = torch.randn(len(lens), 2, 64, device="cuda")
    ops.kv_write(key, value, pool.k_cache, pool.v_cache, slots, layout=pool.layout)
    torch.cuda.synchronize()
    assert torch.equal(pool.k_cache.view(-1, 2, 64)[slots], key)  # NHD: slot s is row s of the flat cache
    assert torch.equal(pool.v_cache.view(-1, 2, 64)[slots], value)
