namespace Folio.Core.Scheduling;

/// <summary>
/// One incremental output of a step (for streaming): <see cref="Sequence"/> gained its last
/// <see cref="NumNewTokens"/> tokens, or (Sequence null) the request finished. Beam searches report only
/// their end (beams are reordered every step).
/// </summary>
public readonly record struct SequenceUpdate(Request Request, Sequence? Sequence, int NumNewTokens)
{
    public bool RequestFinished => Sequence is null;
}
