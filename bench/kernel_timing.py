"""Timing of CUDA work for bench/kernels.py: the median of CUDA-event-timed calls with L2 flushed before each and
the GPU kept busy until the call is enqueued, copy and PCIe bandwidth, balanced method orders, number formats."""
from __future__ import annotations

import statistics

import torch

DEV = torch.device("cuda")
L2_FLUSH = None   # set by start(): the buffer flush_l2 reads


def start():
    """Allocates the L2-flush buffer (call once, before any bench)."""
    global L2_FLUSH
    L2_FLUSH = make_l2_flush()


GPU_SLEEP_CYCLES = 200_000  # ~100 us at the H100's clocks: more than a call's CPU time before it is enqueued


def make_l2_flush():
    """The buffer flush_l2 reads: 5x the L2 (at least 256 MiB), so that what a launch reads was evicted."""
    props = torch.cuda.get_device_properties(DEV)
    return torch.ones(max(256 << 20, 5 * props.L2_cache_size) // 4, dtype=torch.int32, device=DEV)


def flush_l2():
    # Evict L2 by *reading* a buffer 5x its size: the lines left behind are clean. (Writing it, e.g. with
    # zero_(), leaves ~50 MB of dirty lines whose write-back then lands inside the next timed launch, which
    # adds ~15 us to every method at small shapes.)
    L2_FLUSH.sum(dtype=torch.int32)


def bench(fn, iters=30, warmup=3, max_ms=1500.0):
    """Median (µs) of CUDA-event-timed calls of fn, L2 flushed before each."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    # Estimate once to bound the total time of slow cases.
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    flush_l2()
    s.record()
    fn()
    e.record()
    torch.cuda.synchronize()
    est = s.elapsed_time(e)
    n = max(5, min(iters, int(max_ms / max(est, 1e-3))))
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n)]
    for a, b in events:
        flush_l2()
        # Keep the GPU busy (untimed) until fn is enqueued: without it, a CPU slower than the ~90 us flush (the
        # Python argument checks of a small call, or torch.compile's workers busy in the background) left the
        # GPU idle between a and fn, and that idle time counted (GQA 1 x 2k once read 144 us for 13, 19:01 UTC).
        torch.cuda._sleep(GPU_SLEEP_CYCLES)
        a.record()
        fn()
        b.record()
    torch.cuda.synchronize()
    times = sorted(a.elapsed_time(b) * 1000.0 for a, b in events)
    return statistics.median(times), (times[len(times) // 10], times[-1 - len(times) // 10]), n


def copy_bandwidth():
    n = 1 << 30  # 1 GiB each way
    src = torch.empty(n, dtype=torch.uint8, device=DEV).random_()
    dst = torch.empty_like(src)
    us, _, _ = bench(lambda: dst.copy_(src), iters=30)
    del src, dst
    return 2 * n / (us * 1e-6) / 1e12  # TB/s, read + write


def pcie_bandwidth(nbytes):
    host = torch.empty(nbytes, dtype=torch.uint8).pin_memory()
    gpu = torch.empty(nbytes, dtype=torch.uint8, device=DEV).random_()
    d2h, _, _ = bench(lambda: host.copy_(gpu, non_blocking=True), iters=20)
    h2d, _, _ = bench(lambda: gpu.copy_(host, non_blocking=True), iters=20)
    return nbytes / (d2h * 1e-6) / 1e9, nbytes / (h2d * 1e-6) / 1e9  # GB/s


def balanced_rounds(n):
    """Orders of n methods (a Williams design): every method in every position equally often, and every method
    right after every other equally often (n rounds for even n, 2n for odd n)."""
    first = [0] + [(i + 1) // 2 if i % 2 else n - i // 2 for i in range(1, n)]  # 0, 1, n-1, 2, n-2, ...
    rounds = [[(x + r) % n for x in first] for r in range(n)]
    return rounds + [r[::-1] for r in rounds] if n % 2 else rounds


def fmt(x, spec=".2f"):
    return "n/a" if x is None else format(x, spec)


def fmt_list(xs):
    return "/".join(f"{x:.0f}" for x in xs)
