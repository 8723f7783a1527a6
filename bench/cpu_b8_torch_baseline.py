#!/usr/bin/env python3
"""B8 baseline: PyTorch eager static batching on the CPU for benchmark B8's ~100M-parameter Llama shape
(hidden 768, 12 layers, 12 heads / 4 KV heads, FFN 2048, vocab 32000, fp32, random weights), prompt 128.

  taskset -c 0,1 python3 bench/cpu_b8_torch_baseline.py [--threads 2] [--new-tokens 32]

Prints one JSON line per batch size with decode tokens/s: (time to generate 1 + N tokens − time to generate 1
token) / N steps, i.e. prompt processing excluded, the median of 3 runs after a warm-up. HF `generate` with its
default dynamic cache, greedy, EOS ignored (min_new_tokens = max_new_tokens)."""
import argparse, json, statistics, time

import torch
import transformers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--batches", default="1,32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                                   num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048,
                                   tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    model = transformers.LlamaForCausalLM(cfg).float().eval()
    for batch in [int(b) for b in args.batches.split(",")]:
        ids = torch.randint(3, 32000, (batch, 128))

        def run(n):
            with torch.inference_mode():
                start = time.perf_counter()
                model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                               do_sample=False, pad_token_id=0)
                return time.perf_counter() - start

        run(2)  # warm-up
        prefill = statistics.median(run(1) for _ in range(3))
        full = statistics.median(run(1 + args.new_tokens) for _ in range(3))
        decode_s = (full - prefill) / args.new_tokens
        print(json.dumps({"baseline": "torch eager HF generate", "torch": torch.__version__, "threads": args.threads,
                          "batch": batch, "prompt": 128, "new_tokens": args.new_tokens,
                          "decode_tokens_per_s": round(batch / decode_s, 2), "prefill_s": round(prefill, 3)}), flush=True)


if __name__ == "__main__":
    main()
