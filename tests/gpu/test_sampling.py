"""folio_sample against an independent reference of the CPU sampler's semantics (sampling_reference.py): greedy
tokens, log-probabilities and top logprobs after penalties exactly or to fp32 tolerance; the draw's distribution
over 100k draws (chi-square) for each filter; the draw itself reproduced from a Python Philox; a seeded row's token
the same whatever the batch around it. Outputs are poisoned before each run and every one is checked."""
import numpy as np
import pytest
import torch

from folio import model_ops
import sampling_reference as ref

DTYPES = [torch.float32, torch.bfloat16]


def poisoned(rows, k):
    return model_ops.SampleResult(torch.full((rows,), -7, dtype=torch.int32, device="cuda"),
                                  torch.full((rows,), float("nan"), device="cuda"),
                                  torch.full((rows, k), -7, dtype=torch.int32, device="cuda"),
                                  torch.full((rows, k), float("nan"), device="cuda"))


def random_lists(rows, vocab, max_len, gen):
    return [torch.randint(0, vocab, (int(torch.randint(0, max_len + 1, (1,), generator=gen)),), generator=gen).tolist()
            for _ in range(rows)]


def test_philox_known_answers():
    # Random123's known-answer vectors for Philox-4x32-10.
    assert ref.philox4x32_10([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    assert ref.philox4x32_10([ref.M32] * 4, [ref.M32] * 2) == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    assert ref.philox4x32_10([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]) == \
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 19, 99])
@pytest.mark.parametrize("vocab", [32000, 128256])
def test_greedy_logprobs_and_penalties(vocab, rows, dtype):
    gen = torch.Generator().manual_seed(vocab + rows)
    logits = (3 * torch.randn(rows, vocab + 5, device="cuda")).to(dtype)[:, :vocab]  # strided rows
    prompt = random_lists(rows, vocab, 300, gen)
    output = [ids + ids[: len(ids) // 3] for ids in random_lists(rows, vocab, 200, gen)]  # repeats: counts > 1
    suppressed = random_lists(rows, vocab, 3, gen)
    rep = (1 + torch.rand(rows, generator=gen)).tolist()
    presence = (torch.rand(rows, generator=gen) - 0.3).tolist()
    frequency = (torch.rand(rows, generator=gen) * 0.8).tolist()
    for r in range(0, rows, 4):  # some rows without penalties
        rep[r], presence[r], frequency[r] = 1.0, 0.0, 0.0
    valid = vocab - 7
    k = 20
    out = poisoned(rows, k)
    model_ops.sample(logits, repetition_penalty=rep, presence_penalty=presence, frequency_penalty=frequency,
                     prompt_tokens=prompt, output_tokens=output, suppressed_tokens=suppressed, valid_vocab=valid,
                     num_logprobs=k, out=out)
    for r in range(rows):
        w = ref.prepare(logits[r], prompt[r], output[r], suppressed[r], rep[r], presence[r], frequency[r], valid)
        lp = ref.log_softmax(w)
        order = np.lexsort((np.arange(vocab), -w))[:k].tolist()  # value descending, ties to the lower id
        assert out.sampled[r].item() == order[0], f"row {r}: greedy token"
        assert out.top_ids[r].tolist() == order, f"row {r}: top ids"
        np.testing.assert_allclose(out.top_logprobs[r].cpu().numpy(), lp[order], rtol=1e-5, atol=2e-5)
        np.testing.assert_allclose(out.sampled_logprobs[r].item(), lp[order[0]], rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("case", [
    dict(temperature=1.0),
    dict(temperature=0.7, top_k=7),
    dict(temperature=1.3, top_p=0.8),
    dict(temperature=0.9, min_p=0.08),
    dict(temperature=1.1, top_k=20, top_p=0.9, min_p=0.02),
    dict(temperature=2.0, top_p=0.05),
], ids=["plain", "top_k", "top_p", "min_p", "all", "tiny_top_p"])
def test_draw_distribution(case):
    """100k draws of one row (seeds 0..N-1) follow the filtered softmax: a chi-square test at p = 1e-5, and no draw
    outside the kept set."""
    vocab, n = 50, 100_000
    row = 1.5 * torch.randn(vocab, device="cuda")
    logits = row.expand(n, vocab)  # row stride 0 is refused: materialise
    logits = logits.contiguous()
    params = {key: [value] * n for key, value in case.items()}
    out = model_ops.sample(logits, seeds=list(range(n)), draw_index=[3] * n, **params)
    counts = np.bincount(out.sampled.cpu().numpy(), minlength=vocab)
    w = ref.prepare(row)
    probs = ref.kept_distribution(w, case["temperature"], case.get("top_k", 0), case.get("top_p", 1.0),
                                  case.get("min_p", 0.0))
    assert counts[probs == 0].sum() == 0, f"draws outside the kept set: {np.nonzero(counts * (probs == 0))}"
    kept = probs > 0
    if kept.sum() == 1:
        assert counts[kept][0] == n
        return
    expected = probs[kept] * n
    stat = float(((counts[kept] - expected) ** 2 / expected).sum())
    assert stat < ref.chi2_critical(kept.sum() - 1), f"chi-square {stat:.1f} with {kept.sum() - 1} dof"


def test_large_vocab_filters_keep_the_right_set():
    """top-k over 128256 ids by radix selection: every draw among the k largest logits, all of them reachable."""
    vocab, n, k = 128256, 2000, 5
    row = torch.randn(vocab, device="cuda")  # fp32: no ties at the k-th value
    logits = row.expand(n, vocab).contiguous()
    out = model_ops.sample(logits, temperature=[5.0] * n, top_k=[k] * n, seeds=list(range(n)))
    top = set(torch.topk(row.float(), k).indices.tolist())
    drawn = set(out.sampled.tolist())
    assert drawn == top


def test_draw_is_the_documented_function():
    """Token = argmax(d + Gumbel(Philox(seed, draw_index, id))): reproduced in Python, id for id."""
    vocab, rows = 64, 40
    logits = torch.randn(rows, vocab, device="cuda")
    seeds = [(2**64 - 1) - 977 * r for r in range(rows)]  # high bits set too
    draws = [r * 2**33 + 5 for r in range(rows)]
    out = model_ops.sample(logits, temperature=[0.8] * rows, seeds=seeds, draw_index=draws)
    for r in range(rows):
        w = ref.prepare(logits[r])
        d = ((w - w.max()) * (np.float32(1) / np.float32(0.8))).astype(np.float32)
        expected = int(np.argmax(d + ref.gumbel(vocab, seeds[r], draws[r])))
        assert out.sampled[r].item() == expected, f"row {r}"


@pytest.mark.parametrize("vocab", [32000, 128256])
def test_seeded_row_does_not_depend_on_the_batch(vocab):
    rows = 99
    gen = torch.Generator().manual_seed(vocab)
    logits = torch.randn(rows, vocab, device="cuda", dtype=torch.bfloat16)
    params = dict(temperature=(0.5 + torch.rand(rows, generator=gen)).tolist(),
                  top_k=torch.randint(0, 100, (rows,), generator=gen).tolist(),
                  top_p=(0.5 + 0.5 * torch.rand(rows, generator=gen)).tolist(),
                  min_p=(0.05 * torch.rand(rows, generator=gen)).tolist(),
                  seeds=torch.randint(0, 2**62, (rows,), generator=gen).tolist(),
                  draw_index=torch.randint(0, 1000, (rows,), generator=gen).tolist())
    full = model_ops.sample(logits, num_logprobs=3, **params).sampled.tolist()
    again = model_ops.sample(logits, num_logprobs=3, **params).sampled.tolist()
    assert full == again, "the same batch twice"
    perm = torch.randperm(rows, generator=gen).tolist()
    shuffled = model_ops.sample(logits[perm].contiguous(), **{k: [v[i] for i in perm] for k, v in params.items()})
    assert [full[i] for i in perm] == shuffled.sampled.tolist(), "the batch reordered"
    for r in (0, 17, 98):
        alone = model_ops.sample(logits[r:r + 1].contiguous(), **{k: v[r:r + 1] for k, v in params.items()})
        assert alone.sampled.item() == full[r], f"row {r} alone"
    # A different draw index gives a different draw somewhere (the counter is used).
    shifted = model_ops.sample(logits, **{**params, "draw_index": [d + 1 for d in params["draw_index"]]})
    assert shifted.sampled.tolist() != full


def test_all_suppressed_row_and_zero_temperature_rows():
    logits = torch.randn(3, 10, device="cuda")
    out = model_ops.sample(logits, temperature=[0.0, 1.0, 0.0], suppressed_tokens=[list(range(10)), [], [3]],
                           num_logprobs=2)
    assert out.sampled[0].item() == 0 and out.sampled_logprobs[0].item() == float("-inf")
    assert 0 <= out.sampled[1].item() < 10
    expected = logits[2].clone()
    expected[3] = float("-inf")
    assert out.sampled[2].item() == int(torch.argmax(expected))


def test_sample_refuses_too_many_logprobs():
    with pytest.raises(model_ops.ops.FolioCudaError, match="num_logprobs"):
        model_ops.sample(torch.randn(2, 100, device="cuda"), num_logprobs=model_ops.MAX_LOGPROBS + 1)
