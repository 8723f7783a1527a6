using System.Text;
using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Engine;

/// <summary>Per-request output streams, the background loop, and cancellation.</summary>
public class RequestStreamTests
{
    [Fact]
    public async Task AsyncEnumeration_EndsWithAFinalOutput_AndConcatenatesToTheWholeText()
    {
        int[] prompt = EngineHarness.Prompt(40, 7);
        var p = new SamplingParams { MaxTokens = 20, Seed = 13, IgnoreEos = true, Logprobs = 2 };
        string free = EngineHarness.Alone(prompt, p).Outputs[0].Text;
        var withStop = p with { Stop = [free.Substring(17, 3)] };
        var whole = EngineHarness.Alone(prompt, withStop);   // the non-streamed reference, on its own engine

        var h = new EngineHarness();
        var stream = h.Engine.Submit(prompt, withStop);
        var outputs = new List<RequestOutput>();
        await foreach (var o in stream)
            outputs.Add(o);
        Assert.True(outputs[^1].Finished);
        Assert.All(outputs[..^1], o => Assert.False(o.Finished));
        Assert.All(outputs, o => Assert.Equal(prompt, o.PromptTokenIds));
        var pieces = outputs.SelectMany(o => o.Outputs).ToList();
        var expected = whole.Outputs[0];
        Assert.Equal(expected.Text, string.Concat(pieces.Select(c => c.Text)));
        Assert.Equal(expected.TokenIds, pieces.SelectMany(c => c.TokenIds));
        Assert.Equal(expected.Logprobs!.Select(l => l[0].TokenId), pieces.SelectMany(c => c.Logprobs!).Select(l => l[0].TokenId));
        Assert.Equal(FinishReason.Stop, pieces[^1].FinishReason);
        Assert.Equal(withStop.Stop[0], pieces[^1].StopReason);

        var final = await stream.Completion;
        Assert.True(final.Finished);
        Assert.Equal(expected.Text, final.Outputs[0].Text);
        Assert.Equal(expected.TokenIds, final.Outputs[0].TokenIds);
        Assert.Equal(withStop.Stop[0], final.Outputs[0].StopReason);
        Assert.False(h.Engine.HasUnfinished);
        Assert.Equal(0, h.Engine.KvCache.GpuPool.NumUsedBlocks);
    }

    [Fact]
    public async Task ReadAll_N2_GivesBothSamples()
    {
        int[] prompt = EngineHarness.Prompt(41, 5);
        var p = new SamplingParams { N = 2, MaxTokens = 6, Seed = 21, IgnoreEos = true };
        var reference = EngineHarness.Alone(prompt, p);
        var h = new EngineHarness();
        var stream = h.Engine.Submit(prompt, p);
        var outputs = stream.ReadAll().ToList();
        // One per step that sampled (6 tokens each); the last also carries the end.
        Assert.Equal(6, outputs.Count);
        Assert.All(outputs, o => Assert.Equal([0, 1], o.Outputs.Select(c => c.Index)));
        Assert.Equal([false, false, false, false, false, true], outputs.Select(o => o.Finished));
        Assert.All(outputs[^1].Outputs, c => Assert.Equal(FinishReason.Length, c.FinishReason));
        var final = await stream.Completion;   // already complete: ReadAll ran to the end
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(reference.Outputs[i].TokenIds, outputs.SelectMany(o => o.Outputs.Where(c => c.Index == i)).SelectMany(c => c.TokenIds));
            Assert.Equal(reference.Outputs[i].Text, final.Outputs[i].Text);
        }
        Assert.Equal([0, 1], final.Outputs.Select(c => c.Index));
    }

    [Fact]
    public async Task Cancelling_TheEnumeration_FreesTheBlocksAtOnce()
    {
        var h = new EngineHarness(gpuBlocks: 32, blockSize: 4);
        var other = h.Add(EngineHarness.Prompt(42, 9), new SamplingParams { MaxTokens = 30, Seed = 1, IgnoreEos = true });
        var stream = h.Engine.Submit(EngineHarness.Prompt(43, 9), new SamplingParams { MaxTokens = 30, Seed = 2, IgnoreEos = true });
        using var cts = new CancellationTokenSource();
        int seen = 0, usedBefore = 0, usedAfter = -1;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var o in stream.WithCancellation(cts.Token))
            {
                if (++seen < 3)
                    continue;
                usedBefore = h.Engine.KvCache.GpuPool.NumUsedBlocks;
                cts.Cancel();   // no step runs in between
                usedAfter = h.Engine.KvCache.GpuPool.NumUsedBlocks;
                h.Engine.CheckInvariants();
            }
        });
        // Both requests hold 3 blocks (9 prompt + 2 generated tokens); the aborted one's are back in the pool.
        Assert.Equal(6, usedBefore);
        Assert.Equal(3, usedAfter);
        Assert.Equal(FinishReason.Abort, stream.Request.FinishReason);
        Assert.False(stream.Abort());
        // Its end still goes out (to the stream and to a pulling host), then the other request runs on alone.
        var ends = h.Step().Where(d => d.RequestFinished).ToList();
        Assert.Equal(FinishReason.Abort, Assert.Single(ends).FinishReason);
        Assert.Equal(FinishReason.Abort, (await stream.Completion).FinishReason);
        h.RunToCompletion();
        Assert.Equal(30, h.Engine.GetOutput(other).Outputs[0].TokenIds.Count);
    }

    [Fact]
    public void LeavingTheEnumerationEarly_AbortsTheRequest()
    {
        var h = new EngineHarness();
        var stream = h.Engine.Submit(EngineHarness.Prompt(44, 6), new SamplingParams { MaxTokens = 40, Seed = 3, IgnoreEos = true });
        foreach (var _ in stream.ReadAll())
            break;
        Assert.Equal(FinishReason.Abort, stream.Request.FinishReason);
        Assert.Equal(0, h.Engine.KvCache.GpuPool.NumUsedBlocks);
        h.RunToCompletion();
    }

    [Fact]
    public async Task BackgroundLoop_ServesTwoConcurrentConsumers_ThenWaitsWithoutStepping()
    {
        int[] pa = EngineHarness.Prompt(45, 5), pb = EngineHarness.Prompt(46, 11);
        var p = new SamplingParams { MaxTokens = 25, Seed = 17, IgnoreEos = true };
        var h = new EngineHarness(record: false);
        using var cts = new CancellationTokenSource();
        var loop = h.Engine.RunAsync(cts.Token);
        Assert.True(h.Engine.IsLoopRunning);

        async Task<(string Text, List<int> Tokens)> Consume(int[] prompt)
        {
            var text = new StringBuilder();
            var tokens = new List<int>();
            await foreach (var o in h.Engine.Submit(prompt, p))
            {
                foreach (var c in o.Outputs)
                {
                    text.Append(c.Text);
                    tokens.AddRange(c.TokenIds);
                }
            }
            return (text.ToString(), tokens);
        }

        var results = await Task.WhenAll(Task.Run(() => Consume(pa)), Task.Run(() => Consume(pb)));
        Assert.Equal(EngineHarness.Alone(pa, p).Outputs[0].TokenIds, results[0].Tokens);
        Assert.Equal(EngineHarness.Alone(pa, p).Outputs[0].Text, results[0].Text);
        Assert.Equal(EngineHarness.Alone(pb, p).Outputs[0].TokenIds, results[1].Tokens);

        // Idle: the loop waits for work instead of stepping.
        long steps = h.Engine.GetStepTimings().Steps;
        await Task.Delay(200);
        Assert.Equal(steps, h.Engine.GetStepTimings().Steps);
        // A new request wakes it.
        var late = await h.Engine.Submit(pa, p with { MaxTokens = 3 }).Completion;
        Assert.Equal(3, late.Outputs[0].TokenIds.Count);

        cts.Cancel();
        await loop;
        Assert.False(h.Engine.IsLoopRunning);
        Assert.Equal(0, h.Engine.KvCache.GpuPool.NumUsedBlocks);
        h.Engine.CheckInvariants();
    }

    [Fact]
    public void AbortDuringAnOpenStep_FreesTheBlocksWhenTheStepCompletes()
    {
        // Level 2's order: the plan is out (its blocks may be in use by the host's model), so the abort waits for the update.
        var fake = new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 16, BlockSizeTokens = 4, VocabSize = 100 });
        var kv = new Folio.Core.KvCache.KvCacheManager(new Folio.Core.KvCache.KvCacheOptions { NumGpuBlocks = 16, BlockSizeTokens = 4 });
        var core = new EngineCore(new Folio.Core.Scheduling.SchedulerOptions(), kv);
        var r = core.AddRequest(EngineHarness.Prompt(47, 6), new SamplingParams { MaxTokens = 8, Seed = 1 });
        core.CompleteStep(fake.Execute(core.BeginStep()));
        var plan = core.BeginStep();
        Assert.True(core.Abort(r.Id));
        Assert.False(core.Abort(r.Id));
        Assert.Equal(2, kv.GpuPool.NumUsedBlocks);   // 6 prompt + 1 generated, the 8th slot being planned
        var deltas = core.CompleteStep(fake.Execute(plan));
        Assert.Equal(0, kv.GpuPool.NumUsedBlocks);
        Assert.Equal(2, deltas.Count);   // the step's token, then the end
        Assert.Equal(FinishReason.Abort, deltas[1].FinishReason);
        Assert.True(deltas[1].RequestFinished);
        Assert.False(core.HasUnfinished);
    }
}
