namespace Folio.Core.Sampling;

/// <summary>The token constraints of a request (vLLM's structured_outputs, logit_bias, allowed_token_ids and
/// bad_words): all off by default. The engine applies them to the logits before penalties and temperature.</summary>
public sealed partial record SamplingParams
{
    /// <summary>JSON schema / regex / choice / GBNF grammar / any JSON object the output must follow; null = off.</summary>
    public StructuredOutputs? StructuredOutputs { get; init; }

    /// <summary>Token id → value added to its logit (OpenAI's logit_bias; each in [-100, 100]); null = off.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Only these token ids may be sampled; null = off (an empty list is refused: nothing could be sampled).</summary>
    public IReadOnlyList<int>? AllowedTokenIds { get; init; }

    /// <summary>Words never generated: each is tokenized as vLLM does (as written and after a space), and a token that
    /// would complete one is masked; null = off.</summary>
    public IReadOnlyList<string>? BadWords { get; init; }

    /// <summary>Bound of a <see cref="LogitBias"/> value, as OpenAI's API.</summary>
    public const float MaxLogitBias = 100f;

    /// <summary>Whether any of the token constraints is set.</summary>
    public bool HasTokenConstraints => StructuredOutputs is not null || LogitBias is not null || AllowedTokenIds is not null || BadWords is not null;

    private void ValidateConstraints()
    {
        if (StructuredOutputs is not null)
        {
            StructuredOutputs.Validate();
            // A beam keeps the k best continuations of every beam: each would need its own grammar state forked
            // and pruned with it. Not supported, so refused rather than silently unconstrained.
            if (BeamWidth > 0)
                throw Bad(nameof(StructuredOutputs), $"structured_outputs is not supported with beam search (beam_width {BeamWidth}).");
        }
        if (LogitBias is not null)
        {
            foreach (var (id, bias) in LogitBias)
            {
                if (id < 0)
                    throw Bad(nameof(LogitBias), $"logit_bias token id must be >= 0, got {id}.");
                if (!float.IsFinite(bias) || bias < -MaxLogitBias || bias > MaxLogitBias)
                    throw Bad(nameof(LogitBias), $"logit_bias[{id}] must be in [-100, 100], got {bias}.");
            }
        }
        if (AllowedTokenIds is not null)
        {
            if (AllowedTokenIds.Count == 0)
                throw Bad(nameof(AllowedTokenIds), "allowed_token_ids must not be empty (null = no restriction).");
            for (int i = 0; i < AllowedTokenIds.Count; i++)
            {
                if (AllowedTokenIds[i] < 0)
                    throw Bad(nameof(AllowedTokenIds), $"allowed_token_ids[{i}] must be >= 0, got {AllowedTokenIds[i]}.");
            }
        }
        if (BadWords is not null)
        {
            for (int i = 0; i < BadWords.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(BadWords[i]))
                    throw Bad(nameof(BadWords), $"bad_words[{i}] must be a non-empty word.");
            }
        }
    }
}
