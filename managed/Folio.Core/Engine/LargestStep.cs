using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// The largest step a scheduler with given limits can plan, as a real plan: <see cref="Tokens"/> prompt tokens
/// spread evenly over <see cref="Sequences"/> requests, each ending its prompt in this step (so every one takes a
/// logits row and a sample), on a KV pool of exactly <see cref="Blocks"/> blocks. A GPU backend runs it once
/// before sizing its cache, to measure what a step holds in device memory (vLLM's profile run).
/// </summary>
public sealed class LargestStep
{
    private LargestStep(EngineCore core, int tokens, int sequences, int blocks)
    {
        Core = core;
        Tokens = tokens;
        Sequences = sequences;
        Blocks = blocks;
    }

    /// <summary>The engine core holding the requests; <see cref="EngineCore.BeginStep"/> plans the step.</summary>
    public EngineCore Core { get; }
    public int Tokens { get; }
    public int Sequences { get; }

    /// <summary>KV blocks the requests need: each prompt and the one token its sample would add (the admission rule
    /// counts it).</summary>
    public int Blocks { get; }

    /// <summary>The step for at most <paramref name="maxNumBatchedTokens"/> tokens and <paramref name="maxNumSeqs"/>
    /// sequences; a prompt never exceeds <paramref name="maxPositions"/> (more sequences are used when one would).</summary>
    public static LargestStep Create(int vocabSize, int maxPositions, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPositions, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeTokens, 1);
        int tokens = Math.Max(1, maxNumBatchedTokens);
        // Room for the sampled token too: a prompt is at most maxPositions - 1 long.
        int longestAllowed = maxPositions - 1;
        int seqs = Math.Clamp(Math.Max(maxNumSeqs, (tokens + longestAllowed - 1) / longestAllowed), 1, tokens);
        int blocks = 0;
        for (int i = 0; i < seqs; i++)
            blocks += (Length(i, tokens, seqs) + 1 + blockSizeTokens - 1) / blockSizeTokens;
        var core = new EngineCore(new SchedulerOptions { MaxNumSeqs = seqs, MaxNumBatchedTokens = tokens },
            new KvCacheManager(new KvCacheOptions { NumGpuBlocks = blocks, BlockSizeTokens = blockSizeTokens, EnablePrefixCaching = false }));
        var prompt = new int[Length(0, tokens, seqs)];
        var sampling = new SamplingParams { MaxTokens = 1, IgnoreEos = true };
        for (int i = 0; i < seqs; i++)
        {
            for (int t = 0; t < prompt.Length; t++)
                prompt[t] = (int)((i * 7919L + t * 31L) % vocabSize);
            core.AddRequest(prompt.AsSpan(0, Length(i, tokens, seqs)), sampling);
        }
        return new LargestStep(core, tokens, seqs, blocks);
    }

    /// <summary>Prompt length of request <paramref name="i"/>: the tokens spread evenly, the first ones one longer.</summary>
    private static int Length(int i, int tokens, int seqs) => tokens / seqs + (i < tokens % seqs ? 1 : 0);
}
