namespace Folio.Core.Sampling;

/// <summary>
/// A sampled token (or a beam candidate) with its log-probability; its top log-probabilities, when asked for,
/// are <see cref="TopCount"/> entries at <see cref="TopStart"/> in <see cref="StepOutputs.TopLogprobs"/>.
/// </summary>
public readonly record struct SampledToken(int TokenId, float LogProb, int TopStart = 0, int TopCount = 0);
