namespace Folio.Core.Sampling;

/// <summary>
/// How one request samples and when it stops, as users of vLLM know it. Immutable; <see cref="Validate"/>
/// throws an <see cref="ArgumentException"/> naming the bad field (the engine calls it on admission).
/// </summary>
public sealed partial record SamplingParams
{
    /// <summary>Independent samples of the prompt (parallel sampling); the prompt's KV blocks are shared.</summary>
    public int N { get; init; } = 1;

    /// <summary>0 = greedy (argmax); higher flattens the distribution.</summary>
    public float Temperature { get; init; } = 1.0f;

    /// <summary>Keep the k most likely tokens; 0 = off (all tokens), the one "off" value of the C ABI and Python too.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set whose probability mass reaches top_p; in (0, 1].</summary>
    public float TopP { get; init; } = 1.0f;

    /// <summary>Drop tokens whose probability is below min_p × the top probability; in [0, 1].</summary>
    public float MinP { get; init; }

    /// <summary>Seed of this request's random stream; sequence i of the request uses (seed, i). Null = engine seed.</summary>
    public long? Seed { get; init; }

    public float PresencePenalty { get; init; }
    public float FrequencyPenalty { get; init; }

    /// <summary>Multiplicative penalty on tokens already present; 1 = none; &gt; 0.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>Generated tokens at most (per sequence).</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Generated tokens before EOS, stop token ids or stop strings may end a sequence.</summary>
    public int MinTokens { get; init; }

    /// <summary>Strings that end a sequence; the match (and anything after it) is trimmed from the output text.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Token ids that end a sequence (the id stays in the output token ids).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Keep generating after the end-of-sequence token.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Number of top log-probabilities to return with each sampled token; null = none.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Beam search with this many beams when above 0 (then N, temperature and the filters do not apply).</summary>
    public int BeamWidth { get; init; }

    /// <summary>Beam score = cumulative log-probability / length^length_penalty.</summary>
    public float LengthPenalty { get; init; } = 1.0f;

    public bool UseBeamSearch => BeamWidth > 0;

    /// <summary>Sequences the request runs at once: beam width for beam search, else N.</summary>
    public int Width => BeamWidth > 0 ? BeamWidth : N;

    /// <summary>Upper bound accepted for <see cref="Logprobs"/> (what a sampler returns per token).</summary>
    public const int MaxLogprobs = 20;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (N < 1)
            throw Bad(nameof(N), $"n must be at least 1, got {N}.");
        if (float.IsNaN(Temperature) || Temperature < 0)
            throw Bad(nameof(Temperature), $"temperature must be >= 0 (0 = greedy), got {Temperature}.");
        if (TopK < 0)
            throw Bad(nameof(TopK), $"top_k must be 0 (off) or positive, got {TopK}.");
        if (float.IsNaN(TopP) || TopP <= 0 || TopP > 1)
            throw Bad(nameof(TopP), $"top_p must be in (0, 1], got {TopP}.");
        if (float.IsNaN(MinP) || MinP < 0 || MinP > 1)
            throw Bad(nameof(MinP), $"min_p must be in [0, 1], got {MinP}.");
        if (float.IsNaN(PresencePenalty) || PresencePenalty < -2 || PresencePenalty > 2)
            throw Bad(nameof(PresencePenalty), $"presence_penalty must be in [-2, 2], got {PresencePenalty}.");
        if (float.IsNaN(FrequencyPenalty) || FrequencyPenalty < -2 || FrequencyPenalty > 2)
            throw Bad(nameof(FrequencyPenalty), $"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}.");
        if (float.IsNaN(RepetitionPenalty) || RepetitionPenalty <= 0)
            throw Bad(nameof(RepetitionPenalty), $"repetition_penalty must be > 0, got {RepetitionPenalty}.");
        if (MaxTokens < 1)
            throw Bad(nameof(MaxTokens), $"max_tokens must be at least 1, got {MaxTokens}.");
        if (MinTokens < 0)
            throw Bad(nameof(MinTokens), $"min_tokens must be >= 0, got {MinTokens}.");
        if (MinTokens > MaxTokens)
            throw Bad(nameof(MinTokens), $"min_tokens ({MinTokens}) must not exceed max_tokens ({MaxTokens}).");
        if (Stop is null)
            throw Bad(nameof(Stop), "stop must not be null (use an empty list).");
        for (int i = 0; i < Stop.Count; i++)
        {
            if (string.IsNullOrEmpty(Stop[i]))
                throw Bad(nameof(Stop), $"stop[{i}] must be a non-empty string.");
        }
        if (StopTokenIds is null)
            throw Bad(nameof(StopTokenIds), "stop_token_ids must not be null (use an empty list).");
        for (int i = 0; i < StopTokenIds.Count; i++)
        {
            if (StopTokenIds[i] < 0)
                throw Bad(nameof(StopTokenIds), $"stop_token_ids[{i}] must be >= 0, got {StopTokenIds[i]}.");
        }
        if (Logprobs is { } lp && (lp < 0 || lp > MaxLogprobs))
            throw Bad(nameof(Logprobs), $"logprobs must be in [0, {MaxLogprobs}], got {lp}.");
        if (BeamWidth < 0)
            throw Bad(nameof(BeamWidth), $"beam_width must be >= 0 (0 = no beam search), got {BeamWidth}.");
        if (BeamWidth > 0 && N != 1)
            throw Bad(nameof(N), $"n must be 1 with beam search (beam_width {BeamWidth} sets the number of outputs), got {N}.");
        // Beams end on EOS and stop ids only (as vLLM's beam search): refused rather than silently ignored.
        if (BeamWidth > 0 && Stop.Count > 0)
            throw Bad(nameof(Stop), $"stop strings are not supported with beam search (beam_width {BeamWidth}); use stop_token_ids.");
        if (float.IsNaN(LengthPenalty) || float.IsInfinity(LengthPenalty))
            throw Bad(nameof(LengthPenalty), $"length_penalty must be a finite number, got {LengthPenalty}.");
        ValidateConstraints();
    }

    private static ArgumentException Bad(string field, string message) => new(message, field);
}
