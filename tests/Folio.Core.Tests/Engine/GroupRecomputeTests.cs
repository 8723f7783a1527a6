using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>Multi-sequence groups preempted with no CPU swap pool: recomputed, never rejected.</summary>
public class GroupRecomputeTests
{
    [Fact]
    public void ParallelSamplingGroup_PreemptedWithoutSwap_ResumesByRecompute()
    {
        var h = new EngineHarness(gpuBlocks: 12, blockSize: 4, cpuBlocks: 0, maxBatchedTokens: 64, mode: PreemptionMode.Recompute);
        var p = new SamplingParams { N = 2, MaxTokens = 12, Seed = 1, IgnoreEos = true };
        int[] pa = EngineHarness.Prompt(40, 6), pb = EngineHarness.Prompt(41, 6);
        var a = h.Add(pa, p);
        var b = h.Add(pb, p);
        h.RunToCompletion();
        var stats = h.Engine.GetSchedulerStats();
        Assert.Equal(0, stats.Rejected);
        Assert.Equal(0, stats.SwapPreemptions);
        Assert.True(stats.RecomputePreemptions >= 1, $"recomputes {stats.RecomputePreemptions}");
        Assert.True(b.NumPreemptions >= 1);
        Assert.Equal(1, stats.GroupRecomputePreemptions);
        Assert.Equal(2, b.Sequences.Count);
        // The forked child (sample 1) was prefilled again over its own history: more than one token in a step.
        // After the fork, b's sequences were prefilled again over their own histories (more than one token in a step).
        Assert.Contains(h.Fake.Records, r => r.StepIndex > 1 && r.Entries.Any(e => e.RequestId == b.Id && e.NumTokens > 1));
        Assert.Empty(h.Engine.KvCache.LiveTables);
        EngineHarness.AssertSameTokens(EngineHarness.Alone(pa, p), h.Engine.GetOutput(a));
        EngineHarness.AssertSameTokens(EngineHarness.Alone(pb, p), h.Engine.GetOutput(b));
    }

    [Theory]
    [InlineData(64, true, true)]
    [InlineData(64, true, false)]   // no prefix cache: every sequence recomputes its whole history
    [InlineData(5, true, true)]     // the group's recompute is chunked over several steps
    [InlineData(5, true, false)]
    [InlineData(40, false, true)]   // chunked prefill off: each sequence's history is computed whole
    public void BeamSearchAndParallelSampling_PreemptedWithoutSwap_MatchTheUnlimitedPool(int maxBatchedTokens, bool chunked, bool prefixCaching)
    {
        var h = new EngineHarness(gpuBlocks: 14, blockSize: 4, cpuBlocks: 0, maxBatchedTokens: maxBatchedTokens, chunkedPrefill: chunked,
            prefixCaching: prefixCaching);
        var ps = new[]
        {
            new SamplingParams { BeamWidth = 3, MaxTokens = 10, LengthPenalty = 1.0f },
            new SamplingParams { N = 4, MaxTokens = 10, Seed = 3 },
            new SamplingParams { BeamWidth = 2, MaxTokens = 12, LengthPenalty = 0.5f, IgnoreEos = true },
            new SamplingParams { N = 2, MaxTokens = 14, Seed = 9, IgnoreEos = true },
        };
        var prompts = new[] { EngineHarness.Prompt(60, 9), EngineHarness.Prompt(61, 5), EngineHarness.Prompt(62, 8), EngineHarness.Prompt(63, 11) };
        var rs = prompts.Select((pr, i) => h.Add(pr, ps[i])).ToArray();
        h.RunToCompletion();
        var stats = h.Engine.GetSchedulerStats();
        Assert.Equal(0, stats.Rejected);
        Assert.Equal(0, stats.SwapPreemptions);
        Assert.True(stats.RecomputePreemptions >= 1, $"recomputes {stats.RecomputePreemptions}");
        Assert.True(stats.GroupRecomputePreemptions >= 1, $"group recomputes {stats.GroupRecomputePreemptions}");
        Assert.Empty(h.Engine.KvCache.LiveTables);
        for (int i = 0; i < rs.Length; i++)
        {
            var want = EngineHarness.Alone(prompts[i], ps[i]);
            var got = h.Engine.GetOutput(rs[i]);
            EngineHarness.AssertSameTokens(want, got);
            // Beams kept their cumulative log-probabilities through the recompute: same scores, bit for bit.
            for (int o = 0; o < want.Outputs.Count; o++)
            {
                Assert.Equal(want.Outputs[o].CumulativeLogProb, got.Outputs[o].CumulativeLogProb);
                Assert.Equal(want.Outputs[o].BeamScore, got.Outputs[o].BeamScore);
                Assert.Equal(want.Outputs[o].Text, got.Outputs[o].Text);
            }
        }
    }
}
