using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

/// <summary>
/// One sequence's share of a step: compute the K/V of <see cref="NumTokens"/> tokens starting at
/// <see cref="StartPosition"/> (their ids, positions and slots are at <see cref="TokenOffset"/> in the plan's
/// flat arrays), reading earlier positions through <see cref="Table"/>.
/// </summary>
public readonly struct ScheduledSequence
{
    internal ScheduledSequence(Sequence sequence, int tokenOffset, int numTokens, int startPosition, int numSamples, int numBeamCandidates, bool suppressStopTokens)
    {
        Sequence = sequence;
        TokenOffset = tokenOffset;
        NumTokens = numTokens;
        StartPosition = startPosition;
        NumSamples = numSamples;
        NumBeamCandidates = numBeamCandidates;
        SuppressStopTokens = suppressStopTokens;
    }

    public Sequence Sequence { get; }

    /// <summary>The sequence's GPU block table (valid for this step).</summary>
    public BlockTable Table => Sequence.Table!;

    public int TokenOffset { get; }
    public int NumTokens { get; }
    public int StartPosition { get; }

    /// <summary>
    /// Tokens to sample from this sequence's last logits: 0 for a prefill chunk that does not reach the end,
    /// 1 for a decode, n when the prompt of an n-sample request completes (sample i from stream (seed, i)).
    /// </summary>
    public int NumSamples { get; }

    /// <summary>Beam search: candidates wanted (most likely first, with log-probabilities); 0 otherwise.</summary>
    public int NumBeamCandidates { get; }

    /// <summary>True while min_tokens is not reached: the sampler must not pick EOS or a stop token id.</summary>
    public bool SuppressStopTokens { get; }

    /// <summary>Whether this step needs the logits of the sequence's last computed position.</summary>
    public bool NeedsLogits => NumSamples > 0 || NumBeamCandidates > 0;

    public bool IsPrefill => NumTokens > 1 || StartPosition < Sequence.PromptLength;
}
