#!/usr/bin/env python3
"""Benchmark B5 on the GPU machine: Folio (the NativeAOT `folio` CLI, --device cuda) and Hugging Face transformers'
generate on the same model shape, one after the other in one call, warm-up excluded, EOS ignored.

  python3 bench/e2e.py --folio gpu-tmp/cli/folio --shape llama-1b --requests 256 --input-len 256 --output-len 256

The shapes are Folio's built-in ones (managed/Folio.Core/Models/BuiltinModels.cs) with random weights: HF gets a
LlamaConfig of the same sizes in bf16. Prompts are random token ids of the given length on both sides (a throughput
run with EOS ignored does the same work whatever the ids). HF runs `generate` on the whole batch at once (every
prompt the same length, so no padding), sampling (temperature 1, top-p 1, as Folio's bench), with its dynamic
cache and with `cache_implementation="static"`; each configuration once to warm up (with the timed run's shapes),
then timed. SDPA runs without cuDNN's backend unless --hf-cudnn-sdpa (see run_hf). Prints one JSON line per
configuration and a table.

With --sharegpt, --requests ShareGPT-like (input, output) lengths are drawn here and given to both engines (Folio
reads them with `--dataset FILE`); HF serves them in arrival-order batches of --hf-batch, left-padded, each batch
generating its longest output, and only the tokens each request asked for count (--hf-requests bounds its share of
the call's time: the first N requests).
"""
import argparse
import json
import math
import random
import subprocess
import sys
import time

SHAPES = {
    # hidden, layers, heads, kv heads, ffn, vocab, tied, rope (theta, llama3 scaling factor or None)
    "llama-1b": dict(hidden_size=2048, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                     intermediate_size=8192, vocab_size=128256, tie_word_embeddings=True, rope_theta=500000.0,
                     rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                     max_position_embeddings=131072),
    "llama-8b": dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                     intermediate_size=14336, vocab_size=128256, tie_word_embeddings=False, rope_theta=500000.0,
                     max_position_embeddings=8192),
}


def sharegpt_lengths(count: int, seed: int = 0) -> list[tuple[int, int]]:
    """ShareGPT-like (input, output) lengths: log-normal, sigma 1, means 161.31 / 337.99 (the vLLM paper's ShareGPT
    sample), clamped to [4, 1024]: the law of `folio bench --dataset sharegpt-like`, drawn here so that both engines
    get the same requests (Folio through --dataset FILE)."""
    rng = random.Random(seed)

    def one(mean):
        return int(min(1024, max(4, math.exp(math.log(mean) - 0.5 + rng.gauss(0.0, 1.0)))))
    return [(one(161.31), one(337.99)) for _ in range(count)]


def run_folio(args):
    cmd = [args.folio, "bench", "--model", args.shape, "--device", "cuda", "--input-len", str(args.input_len),
           "--output-len", str(args.output_len), "--requests", str(args.requests), "--max-num-seqs",
           str(args.max_num_seqs), "--kv-mib", "0", "--json"] + (["--dataset", args.lengths_file] if args.lengths else [])
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if out.returncode != 0:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(f"folio bench failed ({out.returncode})")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.time() - t0
    return result


def hf_model(shape: str, attn_implementation: str | None = None):
    """HF's Llama of Folio's built-in shape `shape`, random weights, bf16, on the GPU (bench/hf_profile.py uses it too)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    extra = {"attn_implementation": attn_implementation} if attn_implementation else {}
    config = LlamaConfig(**SHAPES[shape], rms_norm_eps=1e-5, torch_dtype="bfloat16", **extra)
    with torch.device("cuda"):
        return LlamaForCausalLM(config).to(torch.bfloat16).eval()


def left_padded(lengths: list[int], vocab: int):
    """Random prompts of `lengths` tokens, left-padded with 0 to the longest, and their attention mask (what HF's
    generate takes for a batch of unequal prompts)."""
    import torch

    longest = max(lengths)
    ids = torch.zeros(len(lengths), longest, dtype=torch.long, device="cuda")
    mask = torch.zeros_like(ids)
    for r, n in enumerate(lengths):
        ids[r, longest - n:] = torch.randint(0, vocab, (n,), device="cuda")
        mask[r, longest - n:] = 1
    return ids, mask


def run_hf(args, cache_implementation):
    import torch

    torch.manual_seed(0)
    # PyTorch picks cuDNN's SDPA on Hopper when allowed; it builds an execution plan for every new sequence length and
    # batch, so a run meeting new lengths at each decode step pays for plans inside the timing (bench/hf_profile.py:
    # 53 vs 21 ms a step at batch 256). Off by default: SDPA then runs its flash kernel, HF's faster configuration.
    torch.backends.cuda.enable_cudnn_sdp(args.hf_cudnn_sdpa)
    model = hf_model(args.shape)
    vocab = SHAPES[args.shape]["vocab_size"]
    ids = torch.randint(0, vocab, (args.requests, args.input_len), device="cuda")

    def generate(batch, new_tokens, mask=None):
        kwargs = dict(do_sample=True, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=new_tokens,
                      min_new_tokens=new_tokens, pad_token_id=0, eos_token_id=None)
        if cache_implementation:
            kwargs["cache_implementation"] = cache_implementation
        with torch.no_grad():
            return model.generate(input_ids=batch, attention_mask=torch.ones_like(batch) if mask is None else mask, **kwargs)

    if cache_implementation == "generate_batch":
        return run_hf_generate_batch(args, model, ids)
    if args.lengths:
        generate(ids[: min(8, args.requests)], 8)   # warm-up: kernels, cuBLAS handles, allocator
        torch.cuda.synchronize()
        return [run_hf_padded_batches(args, vocab, generate, cache_implementation, order, int(batch))
                for order in args.hf_order.split(",") for batch in args.hf_batch.split(",")]
    generate(ids, args.output_len)   # warm-up with the timed run's shapes (every plan and allocation it needs)
    torch.cuda.synchronize()
    t0 = time.time()
    out = generate(ids, args.output_len)
    torch.cuda.synchronize()
    seconds = time.time() - t0
    produced = (out.shape[1] - args.input_len) * out.shape[0]
    del model
    torch.cuda.empty_cache()
    return [{"output_tokens_per_s": produced / seconds, "seconds": seconds, "output_tokens": produced,
             "cache": cache_implementation or "dynamic", "cudnn_sdpa": args.hf_cudnn_sdpa}]


def hf_work(args):
    """The (input, output) lengths HF runs: the first --hf-requests (arrival order is random, so a fair sample)."""
    return args.lengths[: args.hf_requests or len(args.lengths)]


def hf_batches(lengths, order: str, batch: int):
    """HF generate's batches for ShareGPT-like lengths: the requests in arrival order, or sorted by prompt length
    (what an offline HF user can do: prompt lengths are known, output lengths are not), cut into batches."""
    if order == "input":
        lengths = sorted(lengths, key=lambda io: io[0])
    elif order != "arrival":
        raise ValueError(f"--hf-order: arrival or input, not {order!r}")
    return [lengths[at: at + batch] for at in range(0, len(lengths), batch)]


def run_hf_padded_batches(args, vocab, generate, cache_implementation, order, batch_size):
    """Variable lengths as HF generate serves them: each batch's prompts left-padded to its longest, every sequence
    generating the batch's longest output (forced lengths, no EOS); only the tokens each request asked for count."""
    import torch

    torch.cuda.reset_peak_memory_stats()
    retries_before = torch.cuda.memory_stats().get("num_alloc_retries", 0)
    t0 = time.time()
    produced = steps = 0
    work = hf_work(args)
    for chunk in hf_batches(work, order, batch_size):
        batch, mask = left_padded([i for i, _ in chunk], vocab)
        generate(batch, max(o for _, o in chunk), mask)
        produced += sum(o for _, o in chunk)
        steps += max(o for _, o in chunk)
    torch.cuda.synchronize()
    seconds = time.time() - t0
    stats = torch.cuda.memory_stats()
    return {"output_tokens_per_s": produced / seconds, "seconds": seconds, "output_tokens": produced,
            "cache": cache_implementation or "dynamic", "requests": len(work),
            "batch": batch_size, "order": order, "decode_steps": steps,
            "ms_per_step": 1000 * seconds / steps,
            # the caching allocator's retries (free everything cached, then cudaMalloc again): a thrashing pool
            "alloc_retries": stats.get("num_alloc_retries", 0) - retries_before,
            "peak_gib": stats.get("allocated_bytes.all.peak", 0) / 2**30}


def run_hf_generate_batch(args, model, ids):
    """HF's own continuous batching (transformers >= 4.56) on the same prompts, sampling with forced lengths; the tokens
    it returns are counted. Fixed lengths go through `generate_batch`; ShareGPT-like lengths through its manager, whose
    `add_request` takes each request's own max_new_tokens (no EOS, so every request runs to its length)."""
    import torch
    from transformers import GenerationConfig

    def config(n):
        return GenerationConfig(max_new_tokens=n, min_new_tokens=n, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                eos_token_id=None, pad_token_id=0)
    import transformers
    # Continuous batching runs on a paged attention implementation; its name changed across releases, so each known
    # one is tried (the first that the installed transformers accepts and that runs the warm-up is measured).
    errors = []
    for implementation in ("sdpa_paged", "paged|sdpa", None):
        try:
            if implementation and hasattr(model, "set_attn_implementation"):
                model.set_attn_implementation(implementation)
            with torch.no_grad():
                model.generate_batch(ids[:8].tolist(), generation_config=config(8), progress_bar=False)   # warm-up
            break
        except Exception as e:   # noqa: BLE001 -- reported with the version below when none works
            errors.append(f"{implementation}: {e!r}"[:200])
    else:
        raise RuntimeError(f"transformers {transformers.__version__}: generate_batch failed: {errors}")
    about = {"cache": "generate_batch", "transformers": transformers.__version__,
             "attn_implementation": implementation or "default", "failed_first": errors}
    if args.lengths:
        return [{**run_hf_manager(args, model, GenerationConfig(max_new_tokens=1024, do_sample=True, temperature=1.0,
                                                                top_p=1.0, top_k=0, eos_token_id=None, pad_token_id=0)),
                 **about}]
    prompts, new_tokens = ids.tolist(), args.output_len
    with torch.no_grad():
        torch.cuda.synchronize()
        t0 = time.time()
        out = model.generate_batch(prompts, generation_config=config(new_tokens), progress_bar=False)
        torch.cuda.synchronize()
    seconds = time.time() - t0
    produced = sum(len(o.generated_tokens) for o in out.values())
    return [{"output_tokens_per_s": produced / seconds, "seconds": seconds, "output_tokens": produced,
             "requests": len(prompts), **about}]


def run_hf_manager(args, model, generation_config):
    """ShareGPT-like lengths through HF's continuous batching manager: every request added at once with its own
    max_new_tokens; finished outputs collected until all are in (or --hf-manager-cap seconds pass)."""
    import inspect

    import torch

    work = hf_work(args)
    vocab = SHAPES[args.shape]["vocab_size"]
    manager = model.init_continuous_batching(generation_config=generation_config)
    if "max_new_tokens" not in inspect.signature(manager.add_request).parameters:
        raise NotImplementedError("this transformers' add_request takes no per-request max_new_tokens")
    prompts = [torch.randint(0, vocab, (i,)).tolist() for i, _ in work]
    manager.start()
    try:
        torch.cuda.synchronize()
        t0 = time.time()
        for r, (prompt, (_, out)) in enumerate(zip(prompts, work)):
            manager.add_request(prompt, request_id=f"r{r}", max_new_tokens=out)
        tokens = {}
        while len(tokens) < len(work) and time.time() - t0 < args.hf_manager_cap:
            result = manager.get_result(timeout=1)
            if result is not None and getattr(result, "is_finished", lambda: True)():
                tokens[result.request_id] = len(result.generated_tokens)
        torch.cuda.synchronize()
        seconds = time.time() - t0
    finally:
        manager.stop(block=True)
    produced = sum(tokens.values())
    asked = sum(o for i, (_, o) in enumerate(work) if f"r{i}" in tokens)
    return {"output_tokens_per_s": produced / seconds, "seconds": seconds, "output_tokens": produced,
            "requests": len(work), "finished": len(tokens), "asked_of_finished": asked}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folio", required=True, help="the folio CLI (NativeAOT) to run")
    ap.add_argument("--shape", default="llama-1b", choices=sorted(SHAPES))
    ap.add_argument("--requests", type=int, default=256)
    ap.add_argument("--input-len", type=int, default=256)
    ap.add_argument("--output-len", type=int, default=256)
    ap.add_argument("--max-num-seqs", type=int, default=256)
    ap.add_argument("--sharegpt", action="store_true", help="ShareGPT-like lengths (--requests of them), both engines")
    ap.add_argument("--hf-batch", default="256", help="with --sharegpt: HF's batch sizes to try, comma-separated (padded)")
    ap.add_argument("--hf-order", default="arrival",
                    help="with --sharegpt: HF's batching orders to try, comma-separated: arrival, input (sorted by prompt length)")
    ap.add_argument("--hf-requests", type=int, default=0, help="with --sharegpt: HF runs only the first N (time)")
    ap.add_argument("--caches", default="dynamic,static",
                    help="HF configurations to run: dynamic, static (generate's caches), generate_batch")
    ap.add_argument("--hf-manager-cap", type=float, default=240, help="generate_batch on ShareGPT lengths: stop after")
    ap.add_argument("--skip-hf", action="store_true")
    ap.add_argument("--hf-cudnn-sdpa", action="store_true",
                    help="let PyTorch use cuDNN's SDPA for HF (a plan per new length: slower here; off by default)")
    ap.add_argument("--timeout", type=int, default=400)
    args = ap.parse_args()
    args.lengths = sharegpt_lengths(args.requests) if args.sharegpt else None
    if args.lengths:
        args.lengths_file = "/tmp/e2e_lengths.txt"
        with open(args.lengths_file, "w") as f:
            f.writelines(f"{i} {o}\n" for i, o in args.lengths)
    rows = []
    folio = run_folio(args)
    print(json.dumps({"engine": "folio", **folio}), flush=True)
    rows.append(("folio", folio["output_tokens_per_s"]))
    if not args.skip_hf:
        for cache in [None if c == "dynamic" else c for c in args.caches.split(",")]:
            try:
                results = run_hf(args, cache)
            except Exception as e:   # a configuration this transformers cannot run is reported, not hidden
                print(json.dumps({"engine": "hf", "cache": cache or "dynamic", "error": repr(e)[:300]}), flush=True)
                continue
            for hf in results:
                print(json.dumps({"engine": "hf", **hf}), flush=True)
                how = f", {hf['order']} order, batch {hf['batch']}" if "order" in hf else ""
                rows.append((f"hf generate ({hf['cache']} cache{how})", hf["output_tokens_per_s"]))
    best_hf = max((v for k, v in rows if k.startswith("hf")), default=0)
    print(f"\n| engine | output tok/s | vs best HF |\n|---|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:,.0f} | {value / best_hf:.2f}x |" if best_hf else f"| {name} | {value:,.0f} | |")


if __name__ == "__main__":
    main()
