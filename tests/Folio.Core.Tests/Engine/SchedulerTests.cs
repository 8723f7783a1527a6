using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

public class SchedulerTests
{
    [Fact]
    public void ChunkedPrefill_SplitsALongPromptAcrossSeveralSteps()
    {
        var h = new EngineHarness(maxBatchedTokens: 32);
        int[] prompt = EngineHarness.Prompt(1, 100);
        var p = new SamplingParams { MaxTokens = 5, Seed = 3 };
        var r = h.Add(prompt, p);
        h.RunToCompletion();

        var steps = h.Fake.Records.Select(s => s.Entries.Single()).ToList();
        Assert.Equal([0, 32, 64, 96, 100, 101, 102, 103], steps.Select(e => e.StartPosition));
        Assert.Equal([32, 32, 32, 4, 1, 1, 1, 1], steps.Select(e => e.NumTokens));
        Assert.Equal([0, 0, 0, 1, 1, 1, 1, 1], steps.Select(e => e.NumSamples));
        EngineHarness.AssertSameTokens(EngineHarness.Alone(prompt, p), h.Engine.GetOutput(r));
        Assert.Equal(5, h.Engine.GetOutput(r).Outputs[0].TokenIds.Count);
    }

    [Fact]
    public void PrefixHit_CoveringTheWholePrompt_StillComputesTheLastToken()
    {
        var h = new EngineHarness(blockSize: 4);
        int[] prompt = EngineHarness.Prompt(2, 16);   // exactly 4 full blocks
        var p = new SamplingParams { MaxTokens = 3, Seed = 1 };
        var first = h.Add(prompt, p);
        h.RunToCompletion();
        int before = h.Fake.Records.Count;
        var second = h.Add(prompt, p);
        h.RunToCompletion();

        // All 4 blocks are cached, but a step never has zero query tokens: the last block is recomputed.
        var e = h.Fake.Records[before].Entries.Single();
        Assert.Equal(12, e.StartPosition);
        Assert.Equal(4, e.NumTokens);
        Assert.Equal(1, e.NumSamples);
        Assert.Equal(h.Engine.GetOutput(first).Outputs[0].TokenIds, h.Engine.GetOutput(second).Outputs[0].TokenIds);
        Assert.True(h.Engine.GetKvStats().PrefixHitTokens >= 12);
    }

    [Fact]
    public void RequestsArrivingTogether_ShareTheirCommonPrefix_InTheirFirstStep()
    {
        // B7's case: a batch of requests with one preamble. The first computes it; those admitted after it in the
        // same step hit its blocks (written by the same forward pass before any row attends).
        var h = new EngineHarness(blockSize: 4);
        int[] shared = EngineHarness.Prompt(4, 12);   // 3 full blocks
        var p = new SamplingParams { MaxTokens = 4, Seed = 5 };
        int[][] prompts = [[.. shared, 1, 2, 3], [.. shared, 4, 5, 6, 7, 8], [.. shared, 9]];
        var ids = prompts.Select(q => h.Add(q, p)).ToList();
        h.Step();

        var first = h.Fake.Records[0].Entries;
        Assert.Equal([0, 12, 12], first.Select(e => e.StartPosition));
        Assert.Equal([15, 5, 1], first.Select(e => e.NumTokens));
        Assert.Equal(24, h.Engine.GetKvStats().PrefixHitTokens);
        h.RunToCompletion();
        for (int i = 0; i < prompts.Length; i++)
            EngineHarness.AssertSameTokens(EngineHarness.Alone(prompts[i], p), h.Engine.GetOutput(ids[i]));
    }

    [Fact]
    public void AChunkedPrompt_OffersTheBlocksItsChunkFills_ToRequestsAdmittedBehindIt()
    {
        // The blocks a prompt's later chunk fills are hits for a request admitted behind it in that step (only what
        // this step or an earlier one computes is ever in the table, so nothing unwritten can be hit).
        var h = new EngineHarness(blockSize: 4, maxBatchedTokens: 12);
        int[] shared = EngineHarness.Prompt(6, 16);
        var p = new SamplingParams { MaxTokens = 3, Seed = 7 };
        var a = h.Add([.. shared, 1, 2], p);
        h.Step();   // a: tokens 0..11 (blocks 0..2 full)
        var b = h.Add([.. shared, 3], p);
        h.Step();   // a: tokens 12..17 fill block 3; b, admitted behind it, hits blocks 0..3

        var second = h.Fake.Records[1].Entries;
        Assert.Equal([(12, 6), (16, 1)], second.Select(e => (e.StartPosition, e.NumTokens)));
        h.RunToCompletion();
        EngineHarness.AssertSameTokens(EngineHarness.Alone([.. shared, 1, 2], p), h.Engine.GetOutput(a));
        EngineHarness.AssertSameTokens(EngineHarness.Alone([.. shared, 3], p), h.Engine.GetOutput(b));
    }

    [Fact]
    public void Preemption_RightAfterAPrefixHit_RecomputesAndMatchesTheReference()
    {
        // nano-vllm's bug: an out-of-bounds access when a request preempted right after its prefix hit comes back.
        var h = new EngineHarness(gpuBlocks: 5, blockSize: 4, maxBatchedTokens: 64);
        int[] shared = EngineHarness.Prompt(3, 8);
        var warm = h.Add([.. shared, 5, 6, 7, 8], new SamplingParams { MaxTokens = 1, Seed = 1 });
        h.RunToCompletion();
        var p = new SamplingParams { MaxTokens = 8, Seed = 2 };
        int[] promptB = [.. shared, 11, 12, 13, 14];
        int[] promptC = [.. shared, 21, 22, 23, 24];
        var b = h.Add(promptB, p);
        var c = h.Add(promptC, p);
        h.Step();   // both admitted: 2 shared (hit) blocks + 1 own block each = 4 of 5 blocks
        Assert.Equal(SequenceStatus.Running, c.Status);
        Assert.Equal(8, h.Fake.Records[^1].Entries[1].StartPosition);
        h.Step();   // each needs a new block for its first decode: C (newest) is preempted
        Assert.Equal(1, c.NumPreemptions);
        Assert.Equal(SequenceStatus.Waiting, c.Status);
        h.RunToCompletion();
        EngineHarness.AssertSameTokens(EngineHarness.Alone(promptB, p), h.Engine.GetOutput(b));
        EngineHarness.AssertSameTokens(EngineHarness.Alone(promptC, p), h.Engine.GetOutput(c));
        Assert.True(h.Engine.GetSchedulerStats().RecomputePreemptions >= 1);
    }

    [Fact]
    public void PromptLongerThanThePool_IsRejectedWithItsReason()
    {
        var h = new EngineHarness(gpuBlocks: 8, blockSize: 4);
        var r = h.Add(EngineHarness.Prompt(4, 33), new SamplingParams { MaxTokens = 1 });
        Assert.True(r.IsFinished);
        Assert.Equal(FinishReason.Rejected, r.FinishReason);
        Assert.Equal("the prompt (33 tokens) needs 9 KV blocks of 4 tokens; the GPU pool has 8.", r.RejectReason);
        var updates = h.Step();
        Assert.Contains(updates, u => u.Request == r && u.RequestFinished);
        Assert.False(h.Engine.HasUnfinished);

        // A prompt that fits but whose worst case cannot is rejected too (it could only thrash).
        var r2 = h.Add(EngineHarness.Prompt(4, 30), new SamplingParams { MaxTokens = 10 });
        Assert.Equal(FinishReason.Rejected, r2.FinishReason);
        Assert.Equal("prompt (30 tokens) + max_tokens (10) for 1 sequence(s) needs up to 10 KV blocks of 4 tokens; the GPU pool has 8.", r2.RejectReason);
    }

    [Fact]
    public void SeededSampling_GivesTheSameOutputWhateverTheBatch()
    {
        int[] prompt = EngineHarness.Prompt(5, 23);
        var p = new SamplingParams { MaxTokens = 12, Seed = 1234, Temperature = 0.8f };
        var alone = EngineHarness.Alone(prompt, p);

        var h = new EngineHarness(gpuBlocks: 40, maxBatchedTokens: 16, maxSeqs: 8);
        for (int i = 0; i < 12; i++)
            h.Add(EngineHarness.Prompt(100 + i, 5 + 3 * i), new SamplingParams { MaxTokens = 10 + i, Seed = i });
        var r = h.Add(prompt, p);
        h.RunToCompletion();
        EngineHarness.AssertSameTokens(alone, h.Engine.GetOutput(r));

        var other = EngineHarness.Alone(prompt, p with { Seed = 1235 });
        Assert.NotEqual(alone.Outputs[0].TokenIds, other.Outputs[0].TokenIds);
    }

    [Fact]
    public void WithoutChunkedPrefill_APromptThatCannotFitOneStepIsRejected_AndShortOnesRunWhole()
    {
        var h = new EngineHarness(maxBatchedTokens: 16, chunkedPrefill: false);
        var tooLong = h.Add(EngineHarness.Prompt(80, 12), new SamplingParams { MaxTokens = 5 });
        Assert.Equal(FinishReason.Rejected, tooLong.FinishReason);
        Assert.Equal("chunked prefill is off and prompt (12 tokens) + max_tokens (5) exceeds max_num_batched_tokens (16): a (re)computed prefill must fit one step.", tooLong.RejectReason);
        var a = h.Add(EngineHarness.Prompt(81, 10), new SamplingParams { MaxTokens = 4, Seed = 1 });
        var b = h.Add(EngineHarness.Prompt(82, 10), new SamplingParams { MaxTokens = 4, Seed = 1 });
        h.RunToCompletion();
        // b's 10-token prompt did not fit next to a's in the first step, and is never split.
        Assert.All(h.Fake.Records.SelectMany(r => r.Entries), e => Assert.True(e.NumTokens == 1 || e.NumTokens == 10));
        Assert.Equal(4, h.Engine.GetOutput(a).Outputs[0].TokenIds.Count);
        Assert.Equal(4, h.Engine.GetOutput(b).Outputs[0].TokenIds.Count);
    }
}
