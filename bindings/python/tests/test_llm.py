"""folio.LLM through libfolio.so on the built-in fake model (the scheduler's deterministic stand-in)."""

import pytest

import folio

FAKE = "builtin:fake"


@pytest.fixture
def llm():
    engine = folio.LLM(FAKE, num_gpu_blocks=256, block_size=4)
    yield engine
    engine.close()


def test_abi_version_matches_the_package():
    assert folio.abi_version() == (1, 5)


def test_tokenize_detokenize_round_trip(llm):
    ids = llm.tokenize("aabbccdd")
    assert ids == [0, 9, 18, 27]
    assert llm.detokenize(ids) == "aabbccdd"
    assert llm.tokenize("") == []
    assert llm.vocab_size == 64
    assert llm.eos_token_id == -1


def test_generate_returns_one_output_per_prompt_in_order(llm):
    params = folio.SamplingParams(max_tokens=6, temperature=0.8, seed=3, n=2)
    outs = llm.generate(["aabb", "ccddee", "hh"], params)
    assert [o.prompt for o in outs] == ["aabb", "ccddee", "hh"]
    for o in outs:
        assert [c.index for c in o.outputs] == [0, 1]
        for c in o.outputs:
            assert len(c.token_ids) == 6 and c.finish_reason == "length"
            assert c.text == llm.detokenize(c.token_ids)
    assert llm.stats()["kv_blocks_used"] == 0


def test_generate_takes_one_params_per_prompt(llm):
    outs = llm.generate(["aabb", [1, 2, 3], "hh"], [folio.SamplingParams(max_tokens=n, seed=n) for n in (3, 5, 1)])
    assert [o.prompt for o in outs] == ["aabb", [1, 2, 3], "hh"]
    assert [len(o.outputs[0].token_ids) for o in outs] == [3, 5, 1]
    # The same request alone gives the same tokens: its params travelled with it.
    assert llm.generate([1, 2, 3], folio.SamplingParams(max_tokens=5, seed=5))[0].outputs[0].token_ids == \
        outs[1].outputs[0].token_ids
    with pytest.raises(ValueError, match="2 SamplingParams for 3 prompts"):
        llm.generate(["aa", "bb", "cc"], [folio.SamplingParams(), folio.SamplingParams()])
    assert llm.stats()["kv_blocks_used"] == 0


def test_seeded_generation_is_reproducible_and_batch_independent(llm):
    params = folio.SamplingParams(max_tokens=8, seed=11)
    alone = llm.generate("abcdefgh", params)[0].outputs[0]
    batched = llm.generate(["hhgg", "abcdefgh", "aaaa"], params)[1].outputs[0]
    # Each prompt is 4 tokens, each request grows to 12 (3 blocks of 4); two run at once in 5 blocks: one is
    # preempted (the 8 blocks the test had fitted two, and it ran without a preemption).
    with folio.LLM(FAKE, num_gpu_blocks=5, block_size=4, max_num_seqs=2) as tight:
        assert [len(tight.tokenize(p)) for p in ("hhgghhgg", "abcdefgh", "aaaaaaaa")] == [4, 4, 4]
        squeezed = tight.generate(["hhgghhgg", "abcdefgh", "aaaaaaaa"], params)[1].outputs[0]
        assert tight.stats()["num_preemptions"] > 0
    assert alone.token_ids == batched.token_ids == squeezed.token_ids
    assert alone.text == batched.text == squeezed.text


def test_stream_yields_what_generate_returns(llm):
    params = folio.SamplingParams(max_tokens=7, seed=5, logprobs=3)
    whole = llm.generate("aabbcc", params)[0].outputs[0]
    pieces = list(llm.stream("aabbcc", params))
    assert pieces[-1].request_finished and pieces[-1].index == -1 and pieces[-1].finish_reason == "length"
    tokens = [t for p in pieces[:-1] for t in p.token_ids]
    assert tokens == whole.token_ids
    assert "".join(p.text for p in pieces) == whole.text
    assert [lp for p in pieces[:-1] for lp in p.logprobs] == whole.logprobs
    # The fake model's top-3 may repeat an id (a dict keeps it once); the sampled token is always first.
    assert all(1 <= len(entry) <= 3 for entry in whole.logprobs)
    assert all(t in entry for t, entry in zip(whole.token_ids, whole.logprobs))
    assert pieces[-2].cumulative_logprob == pytest.approx(whole.cumulative_logprob)


def test_stream_keeps_other_requests_outputs_for_step(llm):
    other = llm.add_request("hhhh", folio.SamplingParams(max_tokens=3, seed=1))
    list(llm.stream("aa", folio.SamplingParams(max_tokens=5, seed=2)))
    seen = []
    while llm.has_unfinished():
        seen += [o for o in llm.step() if o.request_id == other]
    assert sum(len(o.token_ids) for o in seen) == 3
    assert [o.request_finished for o in seen].count(True) == 1


def test_cancel_ends_a_request_once_with_abort(llm):
    rid = llm.add_request([1, 2, 3], folio.SamplingParams(max_tokens=50))
    llm.step()
    llm.cancel(rid)
    with pytest.raises(folio.NotFoundError):
        llm.cancel(rid)
    ends = []
    while llm.has_unfinished():
        ends += [o for o in llm.step() if o.request_id == rid and o.request_finished]
    assert [e.finish_reason for e in ends] == ["abort"]
    assert llm.stats()["kv_blocks_used"] == 0


def test_errors_map_to_the_hierarchy(llm):
    with pytest.raises(folio.InvalidArgumentError, match="top_p"):
        llm.add_request("aabb", folio.SamplingParams(top_p=2.0))
    with pytest.raises(folio.InvalidArgumentError, match="max_tokens"):
        llm.add_request("aabb", folio.SamplingParams(max_tokens=-1))
    with pytest.raises(folio.InvalidArgumentError, match="n must be"):
        llm.generate("aabb", folio.SamplingParams(n=0))
    with pytest.raises(folio.TokenOutOfRangeError, match="64"):
        llm.add_request([1, 64])
    with pytest.raises(folio.TokenOutOfRangeError):
        llm.detokenize([-1])
    with pytest.raises(folio.InvalidArgumentError, match="a..h"):
        llm.tokenize("xyz!")
    with pytest.raises(folio.ModelLoadError, match="does not exist"):
        folio.LLM("/nonexistent/model/folder")
    with pytest.raises(folio.InvalidArgumentError, match="builtin:fake runs no model"):
        folio.LLM(FAKE, device="cuda")
    with pytest.raises(folio.InvalidArgumentError, match="dtype"):
        folio.LLM(FAKE, dtype="float32")   # the CPU computes in fp32 and takes only "auto"
    with pytest.raises(ValueError, match="dtype must be one of"):
        folio.LLM(FAKE, dtype="float64")
    with pytest.raises(folio.InvalidArgumentError, match="block_size_tokens"):
        folio.LLM(FAKE, block_size=0)
    assert issubclass(folio.InvalidArgumentError, folio.FolioError)
    assert folio.NotFoundError.status == -7


def test_log_callback_receives_engine_messages():
    lines = []
    with folio.LLM(FAKE, num_gpu_blocks=4, block_size=4, log_level="info",
                   log_callback=lambda level, msg: lines.append((level, msg))) as llm:
        rid = llm.add_request("aabb", folio.SamplingParams(max_tokens=1000))  # can never fit: rejected
        ends = [o for o in llm.step() if o.request_id == rid]
    assert any(level == "info" and "engine created" in msg for level, msg in lines)
    assert any(level == "warn" and "rejected" in msg for level, msg in lines)
    assert [(e.finish_reason, e.request_finished) for e in ends] == [("rejected", True)]


def test_closed_engine_is_refused():
    llm = folio.LLM(FAKE, num_gpu_blocks=8)
    llm.close()
    llm.close()
    with pytest.raises(ValueError):
        llm.generate("aa")


def test_streamed_text_never_shows_what_a_stop_string_trims(llm):
    params = folio.SamplingParams(max_tokens=12, seed=9)
    full = llm.generate("aabb", params)[0].outputs[0].text   # 24 characters, 2 per token
    stop = full[9:12]   # starts inside token 4 and ends inside token 6: matched only two tokens later
    params.stop = [stop]
    final = llm.generate("aabb", params)[0].outputs[0]
    assert final.finish_reason == "stop" and final.text == full[:full.index(stop)]
    pieces = list(llm.stream("aabb", params))
    assert "".join(p.text for p in pieces) == final.text
    assert pieces[-1].finish_reason == "stop"


def test_beam_search_reports_the_beams_best_first(llm):
    params = folio.SamplingParams(max_tokens=5, beam_width=3, temperature=0.0)
    out = llm.generate("aabbcc", params)[0]
    assert [c.index for c in out.outputs] == [0, 1, 2]
    assert all(len(c.token_ids) == 5 for c in out.outputs)
    assert len({tuple(c.token_ids) for c in out.outputs}) == 3
    streamed = list(llm.stream("aabbcc", params))
    assert [(o.index, o.token_ids) for o in streamed[:-1]] == [(c.index, c.token_ids) for c in out.outputs]
    assert streamed[-1].request_finished
    with pytest.raises(folio.InvalidArgumentError, match="n must be 1"):
        llm.add_request("aabb", folio.SamplingParams(beam_width=2, n=2))
    with pytest.raises(folio.InvalidArgumentError, match="beam_width"):
        llm.add_request("aabb", folio.SamplingParams(beam_width=-1))
    kv = folio.KVCacheManager(16, block_size=4)
    with pytest.raises(folio.InvalidArgumentError, match="engine level"):
        folio.Scheduler(kv, 64).add_request([1, 2], folio.SamplingParams(beam_width=2, max_tokens=2))


def test_two_streams_read_alternately_each_get_only_their_own_outputs(llm):
    # Before per-request streams this never ended: each iterator parked the other's outputs in a backlog that only
    # step() read, so the second iterator stepped forever waiting for outputs already produced.
    params = folio.SamplingParams(max_tokens=6, seed=4)
    alone_a = llm.generate("aabb", params)[0].outputs[0]
    alone_b = llm.generate("ccdd", params)[0].outputs[0]
    a, b = llm.stream("aabb", params), llm.stream("ccdd", params)
    got = {"a": [], "b": []}
    for name, it in [("a", a), ("b", b)] * 20:
        o = next(it, None)
        if o is not None:
            got[name].append(o)
    ids = {o.request_id for o in got["a"]}, {o.request_id for o in got["b"]}
    assert len(ids[0]) == 1 and len(ids[1]) == 1 and ids[0] != ids[1]
    assert [t for o in got["a"] for t in o.token_ids] == alone_a.token_ids
    assert [t for o in got["b"] for t in o.token_ids] == alone_b.token_ids
    assert got["a"][-1].request_finished and got["b"][-1].request_finished
    assert not llm.has_unfinished() and llm.step() == []


def test_closing_a_stream_early_cancels_its_request(llm):
    it = llm.stream("aabb", folio.SamplingParams(max_tokens=200, seed=1))
    first = next(it)
    it.close()
    assert llm.stats()["kv_blocks_used"] == 0
    ends = []
    while llm.has_unfinished():
        ends += [o for o in llm.step() if o.request_finished]
    assert [(e.request_id, e.finish_reason) for e in ends] == [(first.request_id, "abort")]


def test_streamed_text_is_held_back_only_where_a_stop_string_could_begin(llm):
    # "zz" can never match (the fake model writes a..h), so every piece is its token's whole text; the rule before
    # (hold back the longest stop's length - 1) held one character back at every step.
    params = folio.SamplingParams(max_tokens=8, seed=6, stop=["zz"])
    pieces = list(llm.stream("aabb", params))[:-1]
    assert [p.text for p in pieces] == [llm.detokenize(p.token_ids) for p in pieces]


def test_beam_search_outputs_carry_their_text(llm):
    # Beams were never detokenized: their text was "" (generate and stream alike).
    out = llm.generate("aabbcc", folio.SamplingParams(max_tokens=5, beam_width=3, temperature=0.0))[0]
    assert all(c.text == llm.detokenize(c.token_ids) and len(c.text) == 10 for c in out.outputs)


def test_generate_reports_the_prompt_token_ids(llm):
    outs = llm.generate(["aabb", [1, 2, 3]], folio.SamplingParams(max_tokens=2, seed=1))
    assert outs[0].prompt_token_ids == [0, 9] and outs[1].prompt_token_ids == [1, 2, 3]


def test_a_request_cancelled_during_generate_keeps_its_tokens():
    # The loop before this change replaced the output of a request whose end said "abort" with an empty one, so a
    # request cancelled (from another thread) while generate() ran came back with no tokens.
    import threading
    import time
    with folio.LLM(FAKE, num_gpu_blocks=4096, block_size=16) as llm:
        statuses = []

        def cancel_soon():
            time.sleep(0.05)
            statuses.append(llm.cancel(0))   # the engine's first request has id 0

        canceller = threading.Thread(target=cancel_soon)
        canceller.start()
        out = llm.generate([[1, 2, 3]], folio.SamplingParams(max_tokens=60000, seed=1, ignore_eos=True))[0].outputs[0]
        canceller.join()
        assert statuses == [None]
        assert out.finish_reason == "abort"
        assert 0 < len(out.token_ids) < 60000
        assert out.text == llm.detokenize(out.token_ids)
        assert llm.stats()["kv_blocks_used"] == 0
