using System.Diagnostics;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Xunit.Abstractions;

namespace Folio.Core.Tests.Engine;

public class StressTests(ITestOutputHelper log)
{
    private const int Vocab = 200;   // small, so EOS (id 0) ends some sequences early

    private sealed record Spec(int[] Prompt, SamplingParams Params, int AddStep, int AbortStep, int Priority);

    /// <summary>
    /// 10,000 requests (mixed lengths, shared system prompts, n ∈ {1, 2, 4}, beam searches, stop ids and strings,
    /// min_tokens) arriving over time, with random aborts, on a KV pool small enough for heavy preemption by
    /// recompute (single sequences) and swap (multi-sequence groups). Every request that was not aborted must
    /// produce exactly what it produces on an unlimited pool; the fake executor verifies every position's K/V
    /// history each step; the KV invariants and the scheduler's books hold after every step; every block is
    /// free at the end; each request finishes exactly once and the streamed tokens add up to its outputs.
    /// </summary>
    [Fact]
    [Trait("Category", "Stress")]
    public void TenThousandRequests_UnderHeavyPreemption_MatchTheUnlimitedPoolExactly()
    {
        var specs = MakeSpecs(10_000, seed: 2026);
        var sw = Stopwatch.StartNew();
        var (outputs, h, aborted) = Run(specs, gpuBlocks: 256, cpuBlocks: 4096, maxBatchedTokens: 512, maxSeqs: 128, checkEveryStep: true);
        var stressTime = sw.Elapsed;
        var stats = h.Engine.GetSchedulerStats();

        sw.Restart();
        var live = specs.Select((s, i) => (s, i)).Where(x => !aborted.Contains(x.i)).ToList();
        var refSpecs = live.Select(x => x.s with { AddStep = 0, AbortStep = -1 }).ToList();
        var (reference, refH, _) = Run(refSpecs, gpuBlocks: 60_000, cpuBlocks: 0, maxBatchedTokens: 16_384, maxSeqs: 1024, checkEveryStep: false);
        Assert.Equal(0, refH.Engine.GetSchedulerStats().Preemptions);
        log.WriteLine($"stress run {stressTime.TotalSeconds:F1} s, {h.Steps} steps; reference {sw.Elapsed.TotalSeconds:F1} s, {refH.Steps} steps");
        log.WriteLine($"preemptions {stats.Preemptions} (recompute {stats.RecomputePreemptions}, swap {stats.SwapPreemptions}), aborted {aborted.Count}");
        log.WriteLine($"fake: {h.Fake.NumTokensComputed} tokens computed (reference {refH.Fake.NumTokensComputed}), {h.Fake.NumBlockCopies} block copies, {h.Fake.NumBlocksSwappedOut} blocks swapped out");

        Assert.True(stats.RecomputePreemptions >= 200, $"recompute preemptions: {stats.RecomputePreemptions}");
        Assert.True(stats.SwapPreemptions >= 50, $"swap preemptions: {stats.SwapPreemptions}");
        Assert.Equal(0, stats.Rejected);
        Assert.True(aborted.Count >= 100, $"aborted: {aborted.Count}");
        Assert.True(h.Fake.NumBlockCopies > 0);

        for (int k = 0; k < live.Count; k++)
        {
            var got = outputs[live[k].i];
            var want = reference[k];
            Assert.True(got.Finished);
            Assert.Equal(FinishReason.None, got.FinishReason);
            Assert.Equal(want.Outputs.Count, got.Outputs.Count);
            for (int o = 0; o < want.Outputs.Count; o++)
            {
                Assert.Equal(want.Outputs[o].TokenIds, got.Outputs[o].TokenIds);
                Assert.Equal(want.Outputs[o].FinishReason, got.Outputs[o].FinishReason);
                Assert.Equal(want.Outputs[o].Text, got.Outputs[o].Text);
            }
        }
        foreach (int i in aborted)
            Assert.Equal(FinishReason.Abort, outputs[i].FinishReason);

        // The reference itself: a sample of requests run alone gives the same as the batched unlimited pool.
        var rng = new Random(5);
        for (int t = 0; t < 40; t++)
        {
            int k = rng.Next(live.Count);
            var alone = EngineHarness.Alone(live[k].s.Prompt, live[k].s.Params, Vocab);
            EngineHarness.AssertSameTokens(alone, reference[k]);
        }
    }

    /// <summary>The same checks with swap preemption for every request and the priority policy (2,000 requests).</summary>
    [Fact]
    [Trait("Category", "Stress")]
    public void SwapModeAndPriorityPolicy_MatchTheUnlimitedPoolExactly()
    {
        var specs = MakeSpecs(2_000, seed: 77);
        var (outputs, h, aborted) = Run(specs, gpuBlocks: 200, cpuBlocks: 2048, maxBatchedTokens: 384, maxSeqs: 64, checkEveryStep: true,
            mode: PreemptionMode.Swap, policy: SchedulingPolicy.Priority);
        var stats = h.Engine.GetSchedulerStats();
        log.WriteLine($"preemptions {stats.Preemptions} (recompute {stats.RecomputePreemptions}, swap {stats.SwapPreemptions}), aborted {aborted.Count}");
        Assert.True(stats.SwapPreemptions >= 100, $"swap preemptions: {stats.SwapPreemptions}");
        Assert.Equal(0, stats.Rejected);
        AssertLiveMatchUnlimitedPool(specs, outputs, aborted);
    }

    /// <summary>
    /// 10,000 requests as above with no CPU swap pool: multi-sequence groups (n ∈ {2, 4}, beam search) are preempted
    /// by recompute, readmitted with each sequence over its own history, and must still produce exactly what they
    /// produce on an unlimited pool; nothing is rejected.
    /// </summary>
    [Fact]
    [Trait("Category", "Stress")]
    public void TenThousandRequests_WithoutSwapPool_GroupsResumeByRecomputeExactly()
    {
        var specs = MakeSpecs(10_000, seed: 31);
        var (outputs, h, aborted) = Run(specs, gpuBlocks: 256, cpuBlocks: 0, maxBatchedTokens: 512, maxSeqs: 128, checkEveryStep: true);
        var stats = h.Engine.GetSchedulerStats();
        log.WriteLine($"preemptions {stats.Preemptions} (recompute {stats.RecomputePreemptions}, of groups {stats.GroupRecomputePreemptions}, swap {stats.SwapPreemptions}), aborted {aborted.Count}");
        Assert.Null(h.Engine.KvCache.CpuPool);
        Assert.Equal(0, stats.SwapPreemptions);
        Assert.True(stats.GroupRecomputePreemptions >= 50, $"group recompute preemptions: {stats.GroupRecomputePreemptions}");
        Assert.Equal(0, stats.Rejected);
        Assert.True(aborted.Count >= 100, $"aborted: {aborted.Count}");
        var live = AssertLiveMatchUnlimitedPool(specs, outputs, aborted);
        Assert.Contains(live, x => x.s.Params.UseBeamSearch && outputs[x.i].Outputs.Count > 1);
        foreach (var x in live)
            Assert.Equal(FinishReason.None, outputs[x.i].FinishReason);
        foreach (int i in aborted)
            Assert.Equal(FinishReason.Abort, outputs[i].FinishReason);
    }

    /// <summary>
    /// A CPU swap pool too small for every group (2,000 requests): groups are swapped while it has room and
    /// recomputed when it is full, including groups swapped in the middle of their recompute.
    /// </summary>
    [Fact]
    [Trait("Category", "Stress")]
    public void SmallSwapPool_GroupsSwapOrRecompute_MatchTheUnlimitedPoolExactly()
    {
        var specs = MakeSpecs(2_000, seed: 404);
        var (outputs, h, aborted) = Run(specs, gpuBlocks: 160, cpuBlocks: 8, maxBatchedTokens: 256, maxSeqs: 64, checkEveryStep: true);
        var stats = h.Engine.GetSchedulerStats();
        log.WriteLine($"preemptions {stats.Preemptions} (recompute {stats.RecomputePreemptions}, of groups {stats.GroupRecomputePreemptions}, swap {stats.SwapPreemptions}), aborted {aborted.Count}");
        Assert.True(stats.SwapPreemptions >= 20, $"swap preemptions: {stats.SwapPreemptions}");
        Assert.True(stats.GroupRecomputePreemptions >= 20, $"group recompute preemptions: {stats.GroupRecomputePreemptions}");
        Assert.Equal(0, stats.Rejected);
        AssertLiveMatchUnlimitedPool(specs, outputs, aborted);
    }

    /// <summary>
    /// Runs the requests that were not aborted again, all from step 0, on a pool large enough never to preempt, and
    /// asserts each produced exactly the same tokens in the constrained run; returns them (spec, index).
    /// </summary>
    private static List<(Spec s, int i)> AssertLiveMatchUnlimitedPool(List<Spec> specs, RequestOutput[] outputs,
                                                                      HashSet<int> aborted)
    {
        var live = specs.Select((s, i) => (s, i)).Where(x => !aborted.Contains(x.i)).ToList();
        var (reference, _, _) = Run(live.Select(x => x.s with { AddStep = 0, AbortStep = -1 }).ToList(),
            gpuBlocks: 60_000, cpuBlocks: 0, maxBatchedTokens: 16_384, maxSeqs: 1024, checkEveryStep: false);
        for (int k = 0; k < live.Count; k++)
            EngineHarness.AssertSameTokens(reference[k], outputs[live[k].i]);
        return live;
    }

    private static List<Spec> MakeSpecs(int count, int seed)
    {
        var rng = new Random(seed);
        var systemPrompts = Enumerable.Range(0, 16).Select(i => EngineHarness.Prompt(9000 + i, rng.Next(16, 80), Vocab)).ToArray();
        var specs = new List<Spec>(count);
        int step = 0;
        for (int i = 0; i < count; i++)
        {
            if (rng.Next(8) == 0)
                step++;   // about eight arrivals per step
            int len = rng.Next(10) switch { < 6 => rng.Next(1, 48), < 9 => rng.Next(48, 200), _ => rng.Next(200, 520) };
            var prompt = EngineHarness.Prompt(seed * 100_000 + i, len, Vocab);
            if (rng.Next(3) == 0)
                prompt = [.. systemPrompts[rng.Next(systemPrompts.Length)], .. prompt];
            int roll = rng.Next(100);
            var p = new SamplingParams { MaxTokens = rng.Next(1, 64), Seed = rng.Next(4) == 0 ? null : rng.Next() };
            if (roll < 4)
                p = p with { BeamWidth = rng.Next(2, 5), LengthPenalty = rng.Next(2) == 0 ? 1.0f : 0.5f };
            else if (roll < 16)
                p = p with { N = 4 };
            else if (roll < 34)
                p = p with { N = 2 };
            if (rng.Next(10) == 0 && !p.UseBeamSearch)
                p = p with { Stop = [FakeTextDecoder.TextOf(rng.Next(64)).Substring(1) + FakeTextDecoder.TextOf(rng.Next(64))[0]] };
            if (rng.Next(10) == 0)
                p = p with { StopTokenIds = [rng.Next(1, Vocab)] };
            if (rng.Next(10) == 0)
                p = p with { MinTokens = rng.Next(0, p.MaxTokens + 1) };
            if (rng.Next(5) == 0)
                p = p with { IgnoreEos = true };
            int abortAt = rng.Next(33) == 0 ? step + rng.Next(0, 120) : -1;
            specs.Add(new Spec(prompt, p, step, abortAt, rng.Next(4)));
        }
        return specs;
    }

    private static (RequestOutput[] outputs, EngineHarness h, HashSet<int> aborted) Run(
        IReadOnlyList<Spec> specs, int gpuBlocks, int cpuBlocks, int maxBatchedTokens, int maxSeqs, bool checkEveryStep,
        PreemptionMode mode = PreemptionMode.Recompute, SchedulingPolicy policy = SchedulingPolicy.Fcfs)
    {
        var h = new EngineHarness(gpuBlocks: gpuBlocks, blockSize: 16, cpuBlocks: cpuBlocks, maxBatchedTokens: maxBatchedTokens,
            maxSeqs: maxSeqs, vocab: Vocab, record: false, verifyHistory: checkEveryStep, mode: mode, policy: policy);
        var requests = new Request[specs.Count];
        var aborted = new HashSet<int>();
        var abortsAt = specs.Select((s, i) => (s.AbortStep, i)).Where(x => x.AbortStep >= 0).ToLookup(x => x.AbortStep, x => x.i);
        var finishedCount = new Dictionary<long, int>();
        var streamed = new Dictionary<Sequence, int>(ReferenceEqualityComparer.Instance);
        int next = 0;
        int step = 0;
        while (next < specs.Count || h.Engine.HasUnfinished)
        {
            while (next < specs.Count && specs[next].AddStep <= step)
            {
                requests[next] = h.Engine.AddRequest(specs[next].Prompt, specs[next].Params, specs[next].Priority);
                next++;
            }
            foreach (int i in abortsAt[step])
            {
                if (requests[i] is not null && h.Engine.Abort(requests[i].Id))
                    aborted.Add(i);
            }
            var updates = h.Engine.Step();
            foreach (var u in updates)
            {
                if (u.RequestFinished)
                    finishedCount[u.Request.Id] = finishedCount.GetValueOrDefault(u.Request.Id) + 1;
                else
                    streamed[u.Sequence!] = streamed.GetValueOrDefault(u.Sequence!) + u.NumNewTokens;
            }
            if (checkEveryStep)
                h.Engine.CheckInvariants();
            step++;
            if (step > 2_000_000)
                throw new InvalidOperationException("the engine does not make progress.");
        }
        // Count the steps for the log.
        for (int s = 0; s < step; s++)
            h.CountStep();
        Assert.Equal(0, h.Engine.KvCache.GpuPool.NumUsedBlocks);
        Assert.Equal(0, h.Engine.KvCache.CpuPool?.NumUsedBlocks ?? 0);
        Assert.Empty(h.Engine.KvCache.LiveTables);
        var outputs = requests.Select(r => h.Engine.GetOutput(r)).ToArray();
        foreach (var r in requests)
        {
            Assert.True(r.IsFinished);
            Assert.Equal(1, finishedCount.GetValueOrDefault(r.Id));
            if (!r.Params.UseBeamSearch)
            {
                foreach (var s in r.Sequences)
                    Assert.Equal(s.NumGenerated, streamed.GetValueOrDefault(s));
            }
        }
        return (outputs, h, aborted);
    }
}
