#!/usr/bin/env python3
"""Where Hugging Face `generate` spends a decode step in bench/e2e.py's B5 setup (the baseline's own health check).

  python3 bench/hf_profile.py [--shape llama-1b] [--batch 256] [--input-len 256] [--new 32] [--padded]

--padded: the batch bench/e2e.py --sharegpt gives HF (ShareGPT-like prompts, left-padded, with the attention mask),
whose decode steps cost ~100 ms at batch 256 on llama-1b (bench/RESULTS.md) against ~14 ms unpadded: not yet explained.

Same model and sampling as bench/e2e.py (random bf16 weights, temperature 1, top-p 1, forced lengths). Times
`generate` per new token in six settings — sampling or greedy; SDPA with cuDNN's backend allowed, SDPA without it,
eager attention — after a warm-up of the same shapes, and profiles the sampling SDPA one without cuDNN with
torch.profiler: the ops with the most device time and the most host time, and device time ÷ wall
time (a step that waits on the host, or on the caching allocator, shows here).
"""
import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from e2e import SHAPES, hf_model, left_padded, sharegpt_lengths


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="llama-1b", choices=sorted(SHAPES))
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--input-len", type=int, default=256)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--padded", action="store_true",
                    help="the first --batch ShareGPT-like prompts of bench/e2e.py --sharegpt, left-padded to the longest")
    args = ap.parse_args()
    torch.manual_seed(0)
    vocab = SHAPES[args.shape]["vocab_size"]
    if args.padded:
        lengths = [i for i, _ in sharegpt_lengths(args.batch)]
        ids, mask = left_padded(lengths, vocab)
        print(f"padded batch: {args.batch} prompts of {min(lengths)}-{max(lengths)} tokens, left-padded to {max(lengths)}")
    else:
        ids = torch.randint(0, vocab, (args.batch, args.input_len), device="cuda")
        mask = torch.ones_like(ids)

    def run(model, sample, new):
        kwargs = dict(do_sample=sample, max_new_tokens=new, min_new_tokens=new, pad_token_id=0, eos_token_id=None)
        if sample:
            kwargs.update(temperature=1.0, top_p=1.0, top_k=0)
        with torch.no_grad():
            return model.generate(input_ids=ids, attention_mask=mask, **kwargs)

    # The padded batch runs only HF's fast configuration (eager attention would materialize 256 x 32 x 1024^2 scores).
    configs = (("sdpa", False),) if args.padded else (("sdpa", True), ("sdpa", False), ("eager", False))
    for attn, cudnn in configs:
        # cuDNN's SDPA builds a plan per new (batch, length): the warm-up meets every shape the timed runs will.
        torch.backends.cuda.enable_cudnn_sdp(cudnn)
        model = hf_model(args.shape, attn)
        for sample in (True, False):
            run(model, sample, args.new + 1)
            torch.cuda.synchronize()
            times = []
            for new in (1, args.new + 1):   # the difference removes the prompt's prefill
                t0 = time.time()
                run(model, sample, new)
                torch.cuda.synchronize()
                times.append(time.time() - t0)
            per_token = (times[1] - times[0]) / args.new
            print(f"{attn:5} cudnn {'on ' if cudnn else 'off'} {'sample' if sample else 'greedy'}: prefill+1 {times[0]:.3f} s, "
                  f"{1000 * per_token:.2f} ms per decode step = {args.batch / per_token:,.0f} output tok/s", flush=True)
        if attn == "sdpa" and not cudnn:
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                t0 = time.time()
                run(model, True, args.new)
                torch.cuda.synchronize()
                wall = time.time() - t0
            events = prof.key_averages()
            device_us = sum(e.self_device_time_total for e in events)
            print(f"\nprofiled sdpa (cuDNN off) sample, {args.new} new tokens: wall {wall:.3f} s, device busy {device_us / 1e6:.3f} s "
                  f"({100 * device_us / 1e6 / wall:.0f} %)")
            print(events.table(sort_by="self_device_time_total", row_limit=12, max_name_column_width=50))
            print(events.table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=50))
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
