using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// What a sampler needs of one logits row of a <see cref="StepPlan"/>: the request's parameters, the sequence's
/// random stream, and its token history (penalties). Valid until the next schedule.
/// </summary>
public readonly struct SamplingRow
{
    private readonly Sequence _sequence;

    internal SamplingRow(Sequence sequence) => _sequence = sequence;

    public SamplingParams Params => _sequence.Request.Params;

    /// <summary>The request's seed, or null (the executor's default seed applies).</summary>
    public long? Seed => _sequence.Request.Seed;

    /// <summary>The sequence's index within its request: its random stream (sample i of a completing n-sample
    /// prompt draws from stream i instead).</summary>
    public int StreamIndex => _sequence.Index;

    /// <summary>Tokens in the sequence (prompt + generated): the position of the next token.</summary>
    public int NumTokens => _sequence.NumTokens;

    /// <summary>Whether <paramref name="token"/> is one of the request's stop token ids (EOS not included).</summary>
    public bool IsStopTokenId(int token) => _sequence.Request.Stops.IsStopToken(token, -1);

    /// <summary>The row's token constraints for <see cref="LogitsSampler.Prepare"/> (the structured output's mask is
    /// the one <see cref="StepMasks"/> computed for this step).</summary>
    public LogitsConstraints Constraints => new(_sequence.Request.Constraints, _sequence.Constraint is { } c ? c.Mask : default);

    /// <summary>Whether the row has a structured output whose mask must be computed before sampling.</summary>
    public bool NeedsMask => _sequence.Constraint is not null;

    internal void ComputeMask() => _sequence.Constraint?.ComputeMask();

    public ReadOnlySpan<int> PromptTokens => _sequence.Request.PromptTokenIds;
    public ReadOnlySpan<int> GeneratedTokens => _sequence.GeneratedTokens;
}
