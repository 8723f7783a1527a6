using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>
/// The hot path allocates nothing: once running, an engine step (schedule → execute → postprocess) with
/// requests arriving, being admitted (prefix-cache lookups, block allocation), decoding across block boundaries
/// and finishing allocates no managed memory. Requests are created before the measured steps (a request's own
/// buffers are made by AddRequest, outside the step).
/// </summary>
public sealed class StepAllocationTests
{
    [Theory]
    [InlineData(64, 16, false)]
    [InlineData(256, 16, true)]
    [InlineData(256, 1, true)]
    public void SteadyStepsAllocateNothing(int maxNumSeqs, int blockSize, bool prefixCaching)
    {
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = 64 * maxNumSeqs, BlockSizeTokens = blockSize, EnablePrefixCaching = prefixCaching },
            Scheduler = new SchedulerOptions { MaxNumSeqs = maxNumSeqs, MaxNumBatchedTokens = 2048, EosTokenId = 2 },
        };
        var fake = new FakeExecutor(new FakeExecutorOptions
        {
            NumGpuBlocks = options.KvCache.NumGpuBlocks, BlockSizeTokens = blockSize, VocabSize = 32000, EosTokenId = 2, SimulateKv = false,
        });
        var engine = new LlmEngine(options, fake);
        var rng = new Random(7);
        var shared = new int[48];
        for (int t = 0; t < shared.Length; t++)
            shared[t] = rng.Next(3, 32000);

        Request Add(int i)
        {
            var prompt = new int[shared.Length + rng.Next(1, 80)];
            shared.CopyTo(prompt, 0);
            for (int t = shared.Length; t < prompt.Length; t++)
                prompt[t] = rng.Next(3, 32000);
            return engine.AddRequest(prompt, new SamplingParams { MaxTokens = rng.Next(8, 60), IgnoreEos = true, Seed = i });
        }

        // Warm up: fill the engine, let requests finish and new ones be admitted, so every list has grown.
        int added = 0;
        for (int step = 0; step < 300; step++)
        {
            while (engine.GetSchedulerStats().NumWaiting < 8)
                Add(added++);
            engine.Step();
        }
        // Queue what the measured steps will admit, then measure the steps alone.
        for (int i = 0; i < 4 * maxNumSeqs; i++)
            Add(added++);
        long finishedBefore = engine.GetSchedulerStats().Steps;
        long before = GC.GetAllocatedBytesForCurrentThread();
        int finished = 0;
        for (int step = 0; step < 200; step++)
        {
            var updates = engine.Step();
            for (int i = 0; i < updates.Count; i++)
                finished += updates[i].RequestFinished ? 1 : 0;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(finished > 0, "no request finished during the measured steps: the test would not cover admission");
        Assert.Equal(200, engine.GetSchedulerStats().Steps - finishedBefore);
        Assert.Equal(0, allocated);
        engine.CheckInvariants();
    }
}
