using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>The fake executor must catch a wrong plan, or the stress test would prove nothing.</summary>
public class FakeExecutorTests
{
    /// <summary>Wraps the fake and damages each plan before it runs.</summary>
    private sealed class Saboteur(FakeExecutor inner, Action<StepPlan> damage) : IModelExecutor
    {
        public StepOutputs Execute(StepPlan plan)
        {
            damage(plan);
            return inner.Execute(plan);
        }
    }

    private static LlmEngine Engine(Action<StepPlan> damage, int cpuBlocks = 0)
    {
        var fake = new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 8, NumCpuBlocks = cpuBlocks, BlockSizeTokens = 4, VerifyHistory = true });
        return new LlmEngine(new EngineOptions
        {
            KvCache = new() { NumGpuBlocks = 8, BlockSizeTokens = 4, NumCpuBlocks = cpuBlocks },
            Scheduler = new SchedulerOptions { MaxNumBatchedTokens = 64 },
        }, new Saboteur(fake, damage));
    }

    private static void RunAll(LlmEngine engine)
    {
        while (engine.HasUnfinished)
            engine.Step();
    }

    [Fact]
    public void AMissingCopyOnWriteCopy_IsDetected()
    {
        var engine = Engine(plan => plan.Copies.Clear());
        engine.AddRequest([1, 2, 3, 4, 5, 6], new SamplingParams { N = 2, MaxTokens = 4, IgnoreEos = true });
        var e = Assert.Throws<InvalidOperationException>(() => RunAll(engine));
        Assert.Contains("incoherent plan", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingSwapMove_IsDetected()
    {
        // Two 2-sample requests on 8 blocks: the newer is swapped out; dropping the moves loses its K/V.
        var engine = Engine(plan => { plan.SwapOutMoves.Clear(); plan.SwapInMoves.Clear(); }, cpuBlocks: 16);
        engine.AddRequest([1, 2, 3, 4, 5, 6], new SamplingParams { N = 2, MaxTokens = 10, IgnoreEos = true });
        engine.AddRequest([7, 8, 9, 10, 11, 12], new SamplingParams { N = 2, MaxTokens = 10, IgnoreEos = true });
        var e = Assert.Throws<InvalidOperationException>(() => RunAll(engine));
        Assert.Contains("incoherent plan", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IntactPlans_RunClean()
    {
        var engine = Engine(_ => { }, cpuBlocks: 16);
        var a = engine.AddRequest([1, 2, 3, 4, 5, 6], new SamplingParams { N = 2, MaxTokens = 10, IgnoreEos = true });
        var b = engine.AddRequest([7, 8, 9, 10, 11, 12], new SamplingParams { N = 2, MaxTokens = 10, IgnoreEos = true });
        RunAll(engine);
        Assert.True(engine.GetSchedulerStats().SwapPreemptions > 0);
        Assert.All(engine.GetOutput(a).Outputs.Concat(engine.GetOutput(b).Outputs), o => Assert.Equal(10, o.TokenIds.Count));
    }

    [Fact]
    public void TheNextTokenDependsOnlyOnHistoryAndStream()
    {
        // The property itself: whatever the batch (beside other requests, prompts chunked, sequences preempted),
        // every sampled token is NextToken(hash of the sequence's tokens so far, seed, stream index).
        var h = new EngineHarness(gpuBlocks: 12, blockSize: 4, maxBatchedTokens: 8);
        var requests = new List<(int[] Prompt, SamplingParams P, Request R)>();
        for (int i = 0; i < 5; i++)
        {
            int[] prompt = EngineHarness.Prompt(60 + i, 3 + 3 * i);
            var p = new SamplingParams { N = i == 2 ? 2 : 1, MaxTokens = 9, Seed = i == 4 ? null : 100 + i, IgnoreEos = true };
            requests.Add((prompt, p, h.Add(prompt, p)));
        }
        h.RunToCompletion();
        Assert.True(h.Engine.GetSchedulerStats().Preemptions > 0);
        Assert.Contains(h.Fake.Records, s => s.Entries.Any(e => e.NumTokens > 1 && e.NumSamples == 0));   // a chunk
        int checkedTokens = 0;
        foreach (var (prompt, p, r) in requests)
        {
            foreach (var o in h.Engine.GetOutput(r).Outputs)
            {
                var tokens = new List<int>(prompt);
                foreach (int t in o.TokenIds)
                {
                    Assert.Equal(FakeExecutor.NextToken(FakeExecutor.HistoryHash(tokens.ToArray()), p.Seed ?? 7, o.Index, 1000), t);
                    tokens.Add(t);
                    checkedTokens++;
                }
            }
        }
        Assert.Equal(6 * 9, checkedTokens);
        // And it depends on each of them: the history's last token, its order, the seed and the stream.
        ulong a = FakeExecutor.HistoryHash([5, 6, 7]);
        Assert.Equal(FakeExecutor.Chain(FakeExecutor.HistoryHash([5, 6]), 7, 2), a);
        Assert.NotEqual(a, FakeExecutor.HistoryHash([5, 7, 6]));
        int differ = 0;
        for (int t = 0; t < 100; t++)
        {
            ulong x = FakeExecutor.HistoryHash([5, 6, t]), y = FakeExecutor.HistoryHash([5, 6, t + 1]);
            int next = FakeExecutor.NextToken(x, 1, 0, 1000);
            differ += (next != FakeExecutor.NextToken(y, 1, 0, 1000) ? 1 : 0) + (next != FakeExecutor.NextToken(x, 2, 0, 1000) ? 1 : 0)
                + (next != FakeExecutor.NextToken(x, 1, 1, 1000) ? 1 : 0);
        }
        Assert.InRange(differ, 290, 300);   // a collision in a vocabulary of 1000 is rare
    }

    [Fact]
    public void WithoutKvSimulation_RequestsStillRunToTheirLimits()
    {
        var fake = new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 16, BlockSizeTokens = 4, SimulateKv = false, EosTokenId = 0, VocabSize = 50 });
        var engine = new LlmEngine(new EngineOptions
        {
            KvCache = new() { NumGpuBlocks = 16, BlockSizeTokens = 4 },
            Scheduler = new SchedulerOptions { MaxNumBatchedTokens = 64, EosTokenId = 0 },
        }, fake);
        var a = engine.AddRequest([1, 2, 3, 4, 5], new SamplingParams { N = 3, MaxTokens = 7, MinTokens = 7 });
        var b = engine.AddRequest([6, 7], new SamplingParams { BeamWidth = 2, MaxTokens = 5, IgnoreEos = true });
        RunAll(engine);
        Assert.All(engine.GetOutput(a).Outputs, o => Assert.Equal(7, o.TokenIds.Count));
        Assert.All(engine.GetOutput(a).Outputs, o => Assert.DoesNotContain(0, o.TokenIds));
        Assert.Equal(2, engine.GetOutput(b).Outputs.Count);
        Assert.Equal(0, engine.KvCache.GpuPool.NumUsedBlocks);
    }
}
