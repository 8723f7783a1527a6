using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>
/// <see cref="OutputDeltas"/> stores the commonest delta (one new token of a plan row's sequence, no text, not finished)
/// as the row's number and reads it back from the plan: what it gives must equal what the sequence holds, and it must
/// be gone once the next step's plan is made.
/// </summary>
public class OutputDeltasTests
{
    [Fact]
    public void EveryDelta_DescribesItsSequence_AndTheLastStepsDeltasAreClearedBeforeTheNextPlan()
    {
        var fake = new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 64, BlockSizeTokens = 4, VocabSize = 100 });
        var kv = new KvCacheManager(new KvCacheOptions { NumGpuBlocks = 64, BlockSizeTokens = 4 });
        var core = new EngineCore(new SchedulerOptions(), kv);
        // One request per kind of row: a single sequence (row deltas), n = 2 (a fork without a row of its own in the
        // step its prompt completes, then rows), and one that ends by max_tokens (its last delta is finished).
        var single = core.AddRequest(EngineHarness.Prompt(11, 5), new SamplingParams { MaxTokens = 6, Seed = 1, IgnoreEos = true });
        var pair = core.AddRequest(EngineHarness.Prompt(12, 7), new SamplingParams { MaxTokens = 4, N = 2, Seed = 2, IgnoreEos = true });
        var shortOne = core.AddRequest(EngineHarness.Prompt(13, 3), new SamplingParams { MaxTokens = 2, Seed = 3, IgnoreEos = true });
        var seen = new Dictionary<(long, int), List<int>>();
        int tokenDeltas = 0, finishedDeltas = 0;
        while (core.HasUnfinished)
        {
            var plan = core.BeginStep();
            Assert.Empty(core.Outputs.Deltas);   // the last step's named rows of the plan just rewritten
            var deltas = core.CompleteStep(fake.Execute(plan));
            foreach (var d in deltas)
            {
                if (d.RequestFinished)
                    continue;
                var seq = d.Sequence!;
                Assert.Same(seq.Request, d.Request);
                Assert.Equal(seq.Index, d.Index);
                Assert.Equal(seq.GeneratedTokens.Slice(d.FirstNewToken, d.NumNewTokens).ToArray(), d.NewTokenIds.ToArray());
                Assert.Equal(seq.IsFinished ? seq.FinishReason : FinishReason.None, d.FinishReason);
                Assert.Equal("", d.Text);
                var tokens = seen.TryGetValue((d.Request.Id, d.Index), out var list) ? list : seen[(d.Request.Id, d.Index)] = [];
                Assert.Equal(tokens.Count, d.FirstNewToken);   // deltas of a sequence follow each other without gaps
                tokens.AddRange(d.NewTokenIds.ToArray());
                tokenDeltas++;
                if (d.FinishReason != FinishReason.None)
                    finishedDeltas++;
            }
        }
        Assert.Equal(single.Group.Sequences[0].GeneratedTokens.ToArray(), seen[(single.Id, 0)]);
        Assert.Equal(pair.Group.Sequences[1].GeneratedTokens.ToArray(), seen[(pair.Id, 1)]);
        Assert.Equal(2, seen[(shortOne.Id, 0)].Count);
        Assert.True(tokenDeltas > 8);
        Assert.Equal(4, finishedDeltas);   // each sequence's last delta
    }
}
