"""What issue 13's careless host found, through the Python package: one model-name rule, the reason of a
rejection, one "off" value for top_k, swap without CPU blocks refused, and priority / cache salt (ABI 1.2)."""

import os

import pytest

import folio

FAKE = "builtin:fake"


def test_builtin_names_work_without_the_prefix():
    with folio.LLM("fake", num_gpu_blocks=16, block_size=4) as llm:
        assert llm.vocab_size == 64
    with folio.LLM("tiny", num_gpu_blocks=16) as llm:
        assert llm.vocab_size == 50257
    with pytest.raises(folio.ModelLoadError, match="built-in: tiny, b8, llama-1b, llama-8b, qwen3-0.6b, fake"):
        folio.LLM("no-such-model")


def test_a_folder_wins_over_a_builtin_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("fake")  # an empty folder called fake: the folder is meant, and it has no config.json
    with pytest.raises(folio.ModelLoadError, match="config.json"):
        folio.LLM("fake")
    with folio.LLM("builtin:fake", num_gpu_blocks=16, block_size=4) as llm:
        assert llm.vocab_size == 64


def test_a_rejected_request_says_why():
    # 8 blocks of 4 tokens: 4 prompt tokens + 40 new ones can never fit.
    with folio.LLM(FAKE, num_gpu_blocks=8, block_size=4) as llm:
        [out] = llm.generate("aabbccdd", folio.SamplingParams(max_tokens=40))
        assert out.outputs[0].finish_reason == "rejected"
        assert "max_tokens (40)" in out.reject_reason and "the GPU pool has 8" in out.reject_reason
        [fits] = llm.generate("aabb", folio.SamplingParams(max_tokens=2))
        assert fits.reject_reason is None and fits.outputs[0].finish_reason == "length"
        rid = llm.add_request([1, 2, 3, 4], folio.SamplingParams(max_tokens=40))
        [end] = llm.step()
        assert (end.request_id, end.request_finished, end.finish_reason) == (rid, True, "rejected")
        assert "max_tokens (40)" in end.reject_reason
        [lone] = llm.generate([[1, 2]], [folio.SamplingParams(max_tokens=40)])  # the per-prompt path
        assert "max_tokens (40)" in lone.reject_reason


def test_top_k_off_is_zero_and_negatives_are_refused():
    assert folio.SamplingParams().top_k == 0
    with folio.LLM(FAKE, num_gpu_blocks=16, block_size=4) as llm:
        with pytest.raises(folio.InvalidArgumentError, match=r"top_k must be 0 \(off\) or positive, got -1"):
            llm.add_request("aabb", folio.SamplingParams(top_k=-1))


def test_swap_preemption_needs_cpu_blocks():
    with pytest.raises(folio.InvalidArgumentError, match="num_cpu_blocks is 0"):
        folio.LLM(FAKE, num_gpu_blocks=16, block_size=4, preemption_mode="swap")
    folio.LLM(FAKE, num_gpu_blocks=16, block_size=4, preemption_mode="swap", num_cpu_blocks=8).close()


def _finish_order(llm: folio.LLM) -> list[int]:
    order = []
    while llm.has_unfinished():
        order += [o.request_id for o in llm.step() if o.request_finished]
    return order


def test_priority_orders_requests_under_the_priority_policy():
    for policy, expected in (("priority", [1, 2, 0]), ("fcfs", [0, 1, 2])):
        with folio.LLM(FAKE, num_gpu_blocks=64, block_size=4, max_num_seqs=1, scheduling_policy=policy) as llm:
            for priority in (5, 1, 3):
                llm.add_request("aabb", folio.SamplingParams(max_tokens=2), priority=priority)
            assert _finish_order(llm) == expected
    with folio.LLM(FAKE, num_gpu_blocks=64, block_size=4, scheduling_policy="priority") as llm:
        outs = llm.generate(["aabb", "ccdd"], folio.SamplingParams(max_tokens=2), priority=[1, 0])
        assert [o.prompt for o in outs] == ["aabb", "ccdd"]  # results stay in prompt order
        with pytest.raises(ValueError, match="1 priorities for 2 prompts"):
            llm.generate(["aabb", "ccdd"], priority=[1])
    with pytest.raises(ValueError, match="scheduling_policy must be one of fcfs, priority"):
        folio.LLM(FAKE, scheduling_policy="lifo")


def test_cache_salt_isolates_the_prefix_cache():
    prompt = "aabbccddeeffgghh" * 2  # 16 tokens: 4 full blocks of 4
    with folio.LLM(FAKE, num_gpu_blocks=64, block_size=4) as llm:
        def hit_rate_after(salt):
            llm.generate(prompt, folio.SamplingParams(max_tokens=1), cache_salt=salt)
            return llm.stats()["prefix_hit_rate"]
        assert hit_rate_after("alice") == 0.0
        assert hit_rate_after("bob") == 0.0
        assert hit_rate_after(None) == 0.0
        assert hit_rate_after("alice") > 0.0


@pytest.mark.parametrize("quantization", ["int8", "int4"])
def test_quantized_weights_generate(quantization):
    with folio.LLM("tiny", quantization=quantization, num_threads=1) as llm:
        out = llm.generate(["The"], folio.SamplingParams(max_tokens=4, temperature=0, ignore_eos=True))
        assert len(out[0].outputs[0].token_ids) == 4


@pytest.mark.parametrize("quantization", ["int8", "int4"])
def test_quantized_batches_give_each_prompt_its_own_tokens(quantization):
    # Six prompts prefilled together make MatMuls of dozens of rows and decode six at a time: the 8-row and 4-7-row
    # tiles (emitted AVX-512 VNNI code inside this NativeAOT library where the CPU has it, the managed tiles elsewhere).
    # Every tile gives a row the bits it gets alone, so each prompt's greedy tokens in the batch equal its tokens alone.
    prompts = [f"Prompt number {i} talks about {word} and then some more words" for i, word in
               enumerate(["rivers", "stars", "engines", "gardens", "numbers", "clocks"])]
    params = folio.SamplingParams(max_tokens=6, temperature=0, ignore_eos=True)
    with folio.LLM("tiny", quantization=quantization, num_threads=2) as llm:
        together = [o.outputs[0].token_ids for o in llm.generate(prompts, params)]
        alone = [llm.generate([p], params)[0].outputs[0].token_ids for p in prompts]
    assert together == alone
    assert all(len(t) == 6 for t in together)


def test_bad_quantization_values_are_refused():
    with pytest.raises(ValueError, match="quantization must be one of none, int8, int4"):
        folio.LLM(FAKE, quantization="int2")


def test_a_bf16_kv_cache_holds_twice_the_blocks_and_generates_fp32s_greedy_tokens():
    greedy = folio.SamplingParams(max_tokens=16, temperature=0, ignore_eos=True)
    prompts = ["The quick brown fox", "Hello, I am a language model."]
    with folio.LLM("tiny", num_threads=1, kv_memory_bytes=4 << 20, kv_cache_dtype="fp32") as llm:
        expected = [r.outputs[0].token_ids for r in llm.generate(prompts, greedy)]
        fp32_blocks = llm.stats()["kv_blocks_total"]
    # Every CPU and build: the one-pass attention where AVX-512 runs, the two-pass one elsewhere (libfolio.so is
    # published for x86-64-v3).
    with folio.LLM("tiny", num_threads=1, kv_memory_bytes=4 << 20, kv_cache_dtype="bf16") as llm:
        assert llm.stats()["kv_blocks_total"] == 2 * fp32_blocks == 128  # 4 MiB: 1,024 tokens in fp32, 2,048 in bf16
        got = [r.outputs[0].token_ids for r in llm.generate(prompts, greedy)]
    assert [len(t) for t in got] == [16, 16]
    assert got == expected


def test_bad_kv_cache_dtype_values_are_refused():
    with pytest.raises(ValueError, match="kv_cache_dtype must be one of auto, fp32, bf16; got 'fp16'"):
        folio.LLM(FAKE, kv_cache_dtype="fp16")
    with pytest.raises(folio.UnsupportedError, match="kv_cache_dtype is a CPU backend option"):
        folio.LLM("tiny", device="cuda", kv_cache_dtype="bf16")
