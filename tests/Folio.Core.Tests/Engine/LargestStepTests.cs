using Folio.Core.Engine;
using Xunit;

namespace Folio.Core.Tests.Engine;

/// <summary>The profile run's step (what a GPU backend measures before sizing its KV cache) is the largest the
/// limits allow: every token of the budget, one logits row per sequence, all in one plan, on exactly its blocks.</summary>
public sealed class LargestStepTests
{
    [Theory]
    [InlineData(8192, 256, 16, 131072)]
    [InlineData(8192, 1, 16, 131072)]    // one prompt of the whole budget (its sampled token needs one more slot)
    [InlineData(8192, 1, 16, 2048)]      // the budget is longer than the model's context: more sequences
    [InlineData(2048, 64, 16, 4096)]
    [InlineData(100, 7, 16, 64)]         // uneven split, a block size that does not divide the prompts
    [InlineData(1, 256, 16, 128)]        // fewer tokens than sequences: one sequence
    [InlineData(300, 300, 1, 8)]         // one token per sequence, blocks of one token
    [InlineData(5000, 3, 7, 1000)]
    public void PlansEveryTokenAndALogitsRowPerSequenceInOneStep(int tokens, int seqs, int blockSize, int maxPositions)
    {
        var step = LargestStep.Create(vocabSize: 1000, maxPositions, blockSize, tokens, seqs);
        int expectedSeqs = Math.Clamp(Math.Max(seqs, (tokens + maxPositions - 2) / (maxPositions - 1)), 1, tokens);
        Assert.Equal(tokens, step.Tokens);
        Assert.Equal(expectedSeqs, step.Sequences);

        var plan = step.Core.BeginStep();

        Assert.Equal(step.Tokens, plan.NumTokens);
        Assert.Equal(step.Tokens, plan.NumPrefillTokens);
        Assert.Equal(step.Sequences, plan.NumSequences);
        Assert.Equal(step.Sequences, plan.NumLogitsRows);
        foreach (var s in plan.Sequences)
            Assert.True(s.NumTokens <= maxPositions - 1, $"a prompt of {s.NumTokens} tokens for a model of {maxPositions} positions");
        foreach (int id in plan.TokenIds)
            Assert.InRange(id, 0, 999);
        Assert.InRange(step.Core.KvCache.GpuPool.NumFreeBlocks, 0, step.Sequences);
    }
}
