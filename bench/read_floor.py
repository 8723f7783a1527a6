"""read_floor.py: how fast one launch can read the bytes of the split-KV decode's batch-1 shapes, timed as
bench/kernels.py times everything (L2 flushed by a read, a GPU spin before each timed call, median of CUDA-event
times), beside the 1 GiB copy bandwidth that B6's "75% of copy bandwidth" is measured against.

  nvcc -O3 -arch=sm_90 -shared -Xcompiler -fPIC -o build/read_floor.so bench/read_floor.cu
  python3 bench/read_floor.py [--lib build/read_floor.so] [--mb 33.5]

Rows: an empty launch (the timing floor), torch's sum over the same bytes (a library reduction), and
bench/read_floor.cu's chunked read at several CTA counts and loads in flight, with / without an L2 bulk
prefetch of each CTA's chunk, through the copy engine (cp.async.bulk pieces into a shared-memory ring), and
with the decode's split merge (a counter per group of 32 CTAs, the last CTA reading the group's partials).
"""
from __future__ import annotations

import argparse
import ctypes
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernels  # noqa: E402  (bench(), the L2 flush, copy_bandwidth())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="build/read_floor.so")
    ap.add_argument("--mb", type=float, default=33.554432, help="bytes to read, in MB (GQA 1 x 8k: 33.55)")
    ap.add_argument("--iters", type=int, default=200)
    args = ap.parse_args()
    lib = ctypes.CDLL(args.lib)
    lib.read_floor.restype = ctypes.c_int
    lib.read_floor.argtypes = [ctypes.c_void_p, ctypes.c_longlong, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                               ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                               ctypes.c_void_p]
    lib.read_floor_bulk.restype = ctypes.c_int
    lib.read_floor_bulk.argtypes = [ctypes.c_void_p, ctypes.c_longlong, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                    ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    lib.empty_launch.restype = ctypes.c_int
    lib.empty_launch.argtypes = [ctypes.c_void_p]

    kernels.kernel_timing.start()
    copy_tbs = kernels.copy_bandwidth()
    nbytes = int(args.mb * 1e6) // 4096 * 4096
    src = torch.randn(nbytes // 2, dtype=torch.bfloat16, device=kernels.DEV)
    partial = torch.zeros(4096, dtype=torch.float32, device=kernels.DEV)
    counters = torch.zeros(4096, dtype=torch.int32, device=kernels.DEV)
    sink = torch.zeros(1, dtype=torch.float32, device=kernels.DEV)
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)

    def checked(rc):
        if rc != 0:
            raise RuntimeError(f"launch failed: {rc}")

    rows = []

    def row(name, fn, moved=nbytes):
        us, (lo, hi), n = kernels.bench(fn, iters=args.iters)
        tbs = moved / (us * 1e-6) / 1e12
        rows.append((name, us, lo, hi, tbs, tbs / copy_tbs))
        print(f"{name:44s} {us:7.2f} us  [{lo:.2f}, {hi:.2f}]  {tbs:5.2f} TB/s  {100 * tbs / copy_tbs:5.1f}% of copy",
              flush=True)

    print(f"{torch.cuda.get_device_name()}; copy {copy_tbs:.3f} TB/s (1 GiB, read + write); reading {nbytes / 1e6:.2f} MB")
    row("empty launch", lambda: checked(lib.empty_launch(stream)), moved=0)
    row("torch sum (bf16 -> fp32)", lambda: src.sum(dtype=torch.float32))

    def read(ctas, threads, unroll, mode):
        return lambda: checked(lib.read_floor(src.data_ptr(), nbytes, partial.data_ptr(), counters.data_ptr(), ctas,
                                              threads, unroll, 32, mode, sink.data_ptr(), stream))

    for ctas, threads in ((132, 1024), (256, 512), (264, 512), (264, 256), (528, 256)):
        for unroll in (4, 8, 16):
            for mode, tag in ((0, ""), (2, " + L2 prefetch")):
                row(f"chunked read {ctas} x {threads}, {unroll} loads/thread{tag}", read(ctas, threads, unroll, mode))
    for ctas, threads, piece, stages in ((264, 256, 16384, 4), (256, 256, 16384, 8), (264, 256, 8192, 8),
                                         (132, 512, 16384, 12), (132, 512, 32768, 4), (264, 256, 4096, 12)):
        row(f"bulk copies {ctas} x {threads}, {stages} x {piece // 1024} KB in flight",
            lambda c=ctas, t=threads, p=piece, s=stages: checked(lib.read_floor_bulk(
                src.data_ptr(), nbytes, c, t, p, s, sink.data_ptr(), stream)))
    for ctas, threads, unroll in ((256, 256, 8), (256, 512, 4), (256, 512, 8)):
        row(f"chunked read + merge {ctas} x {threads}, {unroll}, 32/group", read(ctas, threads, unroll, 1))
    torch.cuda.synchronize()
    assert float(sink.item()) == 0.0 and int(counters.sum().item()) == 0, "the probe's guards misbehaved"
    best = min((r for r in rows if r[0].startswith(("chunked", "bulk"))), key=lambda r: r[1])
    print(f"\nfastest read of {nbytes / 1e6:.2f} MB: {best[1]:.2f} us = {100 * best[5]:.1f}% of copy bandwidth ({best[0]})")


if __name__ == "__main__":
    main()
