namespace Folio.Core.Sampling;

/// <summary>What a sampler knows of the model rather than of a request.</summary>
/// <param name="EosTokenIds">The model's EOS ids, suppressed (with the request's stop token ids) while a request's
/// min_tokens is not reached.</param>
/// <param name="DefaultSeed">The seed of requests that set none.</param>
/// <param name="ValidTokenCount">Ids the tokenizer can produce: rows of the model past it (Qwen's padding rows)
/// are never sampled.</param>
public sealed record SamplerSettings(IReadOnlyList<int> EosTokenIds, long DefaultSeed = 0, int ValidTokenCount = int.MaxValue);
