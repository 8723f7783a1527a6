using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// One incremental output of a step, as <see cref="OutputProcessor"/> assembles it: <see cref="Sequence"/> gained
/// <see cref="NumNewTokens"/> tokens (from generated token <see cref="FirstNewToken"/>) that add <see cref="Text"/>,
/// or (Sequence null) the request ended — its last record. A beam search reports only its end: each finished beam,
/// best first, with all its tokens and text, then the request's end.
/// </summary>
/// <param name="Index">Output index: sample i of n, or the beam's rank; -1 on the request's end.</param>
/// <param name="Text">The text these tokens add; a piece that could still begin a stop string is held back until
/// it cannot, so a sequence's pieces always concatenate to its final text.</param>
/// <param name="FinishReason">The sequence's, once it finished (None before); on the request's end, the request's
/// (Abort or Rejected when it ended so, otherwise its first output's).</param>
/// <param name="StopReason">The stop string or stop token id (decimal) that ended the sequence; null otherwise.</param>
public readonly record struct OutputDelta(
    Request Request,
    Sequence? Sequence,
    int Index,
    int FirstNewToken,
    int NumNewTokens,
    string Text,
    FinishReason FinishReason,
    string? StopReason)
{
    public bool RequestFinished => Sequence is null;

    /// <summary>The new token ids (empty on the request's end).</summary>
    public ReadOnlySpan<int> NewTokenIds => Sequence is null ? default : Sequence.GeneratedTokens.Slice(FirstNewToken, NumNewTokens);

    /// <summary>Top log-probabilities of the new tokens, when the request asked for them.</summary>
    public IEnumerable<TokenLogprob[]>? NewLogprobs =>
        Sequence?.Logprobs is { } all ? all.Skip(FirstNewToken).Take(NumNewTokens) : null;
}
