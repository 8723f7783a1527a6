using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

public class AbortTests
{
    /// <summary>Six blocks of 4 tokens, swap mode: A runs, B gets swapped out by A's growth, C waits behind it.</summary>
    private static (EngineHarness h, Request a, Request b, Request c) ThreeStates()
    {
        var h = new EngineHarness(gpuBlocks: 6, blockSize: 4, cpuBlocks: 16, maxBatchedTokens: 64, mode: PreemptionMode.Swap);
        var p = new SamplingParams { MaxTokens = 8, Seed = 5, IgnoreEos = true };
        var a = h.Add(EngineHarness.Prompt(10, 12), p);   // 3 blocks, grows to 5
        var b = h.Add(EngineHarness.Prompt(11, 8), p);    // 2 blocks, grows to 4
        h.Step();                                          // both admitted: 5 of 6 blocks
        var c = h.Add(EngineHarness.Prompt(12, 4), p);
        for (int i = 0; i < 10 && b.Status != SequenceStatus.Swapped; i++)
            h.Step();
        Assert.Equal(SequenceStatus.Running, a.Status);
        Assert.Equal(SequenceStatus.Swapped, b.Status);
        Assert.Equal(SequenceStatus.Waiting, c.Status);   // never admitted while a request is swapped out
        return (h, a, b, c);
    }

    [Fact]
    public void Abort_OfARunningRequest_FreesItsBlocksAtOnce()
    {
        var (h, a, b, c) = ThreeStates();
        Assert.True(h.Engine.KvCache.GpuPool.NumUsedBlocks > 0);
        Assert.True(h.Engine.Abort(a.Id));
        Assert.Equal(0, h.Engine.KvCache.GpuPool.NumUsedBlocks);
        Assert.Equal(FinishReason.Abort, a.FinishReason);
        Assert.Equal(FinishReason.Abort, h.Engine.GetOutput(a).Outputs[0].FinishReason);
        Assert.False(h.Engine.Abort(a.Id));
        var updates = h.Step();
        Assert.Contains(updates, u => u.Request == a && u.RequestFinished);
        h.RunToCompletion();
        Assert.Equal(8, h.Engine.GetOutput(b).Outputs[0].TokenIds.Count);
        Assert.Equal(8, h.Engine.GetOutput(c).Outputs[0].TokenIds.Count);
    }

    [Fact]
    public void Abort_OfAWaitingRequest_RemovesItFromTheQueue()
    {
        var (h, a, b, c) = ThreeStates();
        Assert.True(h.Engine.Abort(c.Id));
        Assert.Equal(SequenceStatus.Finished, c.Status);
        Assert.Empty(h.Engine.GetOutput(c).Outputs[0].TokenIds);
        h.RunToCompletion();
        Assert.DoesNotContain(h.Fake.Records.SelectMany(s => s.Entries), e => e.RequestId == c.Id);
        Assert.Equal(8, h.Engine.GetOutput(a).Outputs[0].TokenIds.Count);
    }

    [Fact]
    public void Abort_OfASwappedRequest_FreesItsCpuBlocks()
    {
        var (h, a, b, c) = ThreeStates();
        Assert.True(h.Engine.KvCache.CpuPool!.NumUsedBlocks > 0);
        Assert.True(h.Engine.Abort(b.Id));
        Assert.Equal(0, h.Engine.KvCache.CpuPool!.NumUsedBlocks);
        Assert.Equal(FinishReason.Abort, b.FinishReason);
        h.RunToCompletion();
        var expected = EngineHarness.Alone(EngineHarness.Prompt(12, 4), new SamplingParams { MaxTokens = 8, Seed = 5, IgnoreEos = true });
        EngineHarness.AssertSameTokens(expected, h.Engine.GetOutput(c));
    }

    [Fact]
    public async Task Abort_FromAnotherThread_TakesEffectBetweenSteps()
    {
        // max_tokens far beyond what the steps before the last abort can generate: the stepping thread re-takes the
        // engine's lock at once after each step, so an abort may wait many steps (at 4,000 tokens a request
        // sometimes finished first under load, and its Abort rightly returned false).
        const int maxTokens = 60_000;
        var h = new EngineHarness(gpuBlocks: 16_384, blockSize: 4, maxSeqs: 64, record: false, verifyHistory: false);
        var p = new SamplingParams { MaxTokens = maxTokens, IgnoreEos = true };
        var requests = Enumerable.Range(0, 40).Select(i => h.Add(EngineHarness.Prompt(i, 4), p)).ToList();
        using var started = new ManualResetEventSlim();
        var aborter = Task.Run(() =>
        {
            started.Set();
            foreach (var r in requests)
            {
                Assert.True(h.Engine.Abort(r.Id));
                Thread.Yield();
            }
        });
        started.Wait();
        while (h.Engine.HasUnfinished)
        {
            h.Step();   // checks the KV invariants after every step, whatever the interleaving
            Thread.Yield();
        }
        await aborter;
        Assert.All(requests, r => Assert.Equal(FinishReason.Abort, r.FinishReason));
        Assert.All(requests, r => Assert.True(r.Sequences[0].NumGenerated < maxTokens));
        Assert.Equal(0, h.Engine.KvCache.GpuPool.NumUsedBlocks);
    }
}
