using Folio.Core.Sampling;

namespace Folio.Core.Engine;

/// <summary>One output sequence of a request (sample i of n, or a finished beam, best first).</summary>
public sealed record CompletionOutput(
    int Index,
    IReadOnlyList<int> TokenIds,
    string Text,
    double CumulativeLogProb,
    IReadOnlyList<TokenLogprob[]>? Logprobs,
    FinishReason FinishReason,
    string? StopReason,
    double BeamScore);
