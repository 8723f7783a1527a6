namespace Folio.Core.Scheduling;

/// <summary>Hands out engine-unique sequence ids (new requests, n-sample forks, beams): one counter per scheduler.</summary>
internal sealed class SequenceIds
{
    private long _next;

    public long Next() => _next++;
}
