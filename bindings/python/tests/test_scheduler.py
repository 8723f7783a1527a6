"""folio.KVCacheManager + folio.Scheduler driven by a host-side toy model over the plan's memoryviews."""

import pytest

import folio

VOCAB = 97
START = 0x6A09E667F3BCC908
MASK = (1 << 64) - 1


def mix(prev, token, pos):
    x = prev ^ ((token * 0x9E3779B97F4A7C15) & MASK) ^ ((pos << 29) & MASK)
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & MASK
    return x ^ (x >> 33)


def expected_next(tokens):
    v = START
    for p, t in enumerate(tokens):
        v = mix(v, t, p)
    return v % VOCAB


class ToyModel:
    """One value per KV slot, read back through the block tables: a wrong plan changes the tokens."""

    def __init__(self, kv):
        self.bs = kv.block_size
        self.gpu = [0] * (kv.num_gpu_blocks * self.bs)
        self.cpu = [0] * (max(1, kv.num_cpu_blocks) * self.bs)

    def _move(self, dst, src, pairs):
        for s, d in (pairs.tolist() if len(pairs) else []):
            dst[d * self.bs:(d + 1) * self.bs] = src[s * self.bs:(s + 1) * self.bs]

    def run(self, plan):
        self._move(self.cpu, self.gpu, plan.swap_out)
        self._move(self.gpu, self.cpu, plan.swap_in)
        self._move(self.gpu, self.gpu, plan.block_copies)
        tables = plan.block_tables.tolist() if plan.num_seqs else []
        last = []
        for row in range(plan.num_seqs):
            value = 0
            for t in range(plan.query_start[row], plan.query_start[row + 1]):
                pos = plan.positions[t]
                prev = START
                if pos > 0:
                    p = pos - 1
                    prev = self.gpu[tables[row][p // self.bs] * self.bs + p % self.bs]
                value = mix(prev, plan.token_ids[t], pos)
                self.gpu[plan.slot_mapping[t]] = value
            last.append(value)
        sampled = []
        for i in range(plan.num_logits):
            for k in range(plan.num_samples[i]):
                sampled.append((last[plan.logits_seq_row[i]] + k * 7919) % VOCAB)
        return sampled


@pytest.mark.parametrize("mode,cpu_blocks", [("recompute", 0), ("swap", 32)])
def test_host_model_gets_exactly_the_unpaged_tokens(mode, cpu_blocks):
    kv = folio.KVCacheManager(24, block_size=4, num_cpu_blocks=cpu_blocks)
    sched = folio.Scheduler(kv, VOCAB, max_num_seqs=8, max_num_batched_tokens=32, preemption_mode=mode)
    model = ToyModel(kv)
    prompts = {}
    generated = {}
    ends = {}
    reasons = {}
    for i in range(60):
        prompt = [(i * 7 + j * 3) % VOCAB for j in range(1 + i % 23)]
        rid = sched.add_request(prompt, folio.SamplingParams(max_tokens=1 + i % 9, n=2 if i % 11 == 0 else 1))
        prompts[rid] = prompt
        generated[rid] = []
    steps = 0
    while sched.has_unfinished():
        plan = sched.schedule()
        assert plan.query_start[plan.num_seqs] == plan.num_tokens
        for o in sched.update(plan, model.run(plan)):
            if o.request_finished:
                ends[o.request_id] = ends.get(o.request_id, 0) + 1
                reasons[o.request_id] = o.finish_reason
            elif o.index == 0:
                history = prompts[o.request_id] + generated[o.request_id]
                assert o.token_ids == [expected_next(history)]
                generated[o.request_id] += o.token_ids
        kv.check()
        steps += 1
    assert ends == {rid: 1 for rid in prompts}
    stats = sched.stats()
    assert stats["kv_blocks_used"] == 0 and stats["num_preemptions"] > 0
    # Every request runs to max_tokens, forked (n = 2) groups included: in recompute mode a preempted group is
    # recomputed (each sample's history prefilled again), never dropped as "rejected".
    forked = {r for r in prompts if r % 11 == 0}
    assert len(forked) == 6
    for r in prompts:
        assert (reasons[r], len(generated[r])) == ("length", 1 + r % 9), (mode, r, reasons[r])


def test_plan_views_are_zero_copy_and_outlive_the_plan_object():
    kv = folio.KVCacheManager(8, block_size=4)
    sched = folio.Scheduler(kv, VOCAB)
    sched.add_request([5, 6, 7, 8, 9], folio.SamplingParams(max_tokens=2))
    plan = sched.schedule()
    tokens, slots, tables = plan.token_ids, plan.slot_mapping, plan.block_tables
    assert tokens.format == "i" and tables.shape == (1, 2)
    sampled = [3] * plan.num_sampled
    outs = sched.update(plan, sampled)
    del plan  # the views keep the plan's memory alive
    assert tokens.tolist() == [5, 6, 7, 8, 9]
    assert slots.tolist() == [tables[0, 0] * 4 + i for i in range(4)] + [tables[0, 1] * 4]
    assert outs[0].token_ids == [3]


def test_scheduler_errors():
    kv = folio.KVCacheManager(4, block_size=4)
    with pytest.raises(folio.InvalidArgumentError, match="vocab_size"):
        folio.Scheduler(kv, 0)
    sched = folio.Scheduler(kv, VOCAB)
    with pytest.raises(folio.InvalidStateError):
        folio.Scheduler(kv, VOCAB)
    with pytest.raises(folio.RequestRejectedError, match="KV blocks"):
        sched.add_request(list(range(40)))
    with pytest.raises(folio.TokenOutOfRangeError):
        sched.add_request([VOCAB])
    sched.add_request([1, 2], folio.SamplingParams(max_tokens=2))
    plan = sched.schedule()
    with pytest.raises(folio.InvalidStateError):
        sched.schedule()
    with pytest.raises(folio.InvalidArgumentError, match="num_sampled"):
        sched.update(plan, [])
    sched.update(plan, [1] * plan.num_sampled)
    with pytest.raises(folio.InvalidStateError):
        sched.update(plan, [1] * plan.num_sampled)
