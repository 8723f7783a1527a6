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
        ulong h = FakeExecutor.HistoryHash([5, 6, 7]);
        Assert.Equal(FakeExecutor.Chain(FakeExecutor.HistoryHash([5, 6]), 7, 2), h);
        Assert.Equal(FakeExecutor.NextToken(h, 1, 0, 1000), FakeExecutor.NextToken(h, 1, 0, 1000));
        Assert.NotEqual(FakeExecutor.HistoryHash([5, 6, 7]), FakeExecutor.HistoryHash([5, 7, 6]));
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
