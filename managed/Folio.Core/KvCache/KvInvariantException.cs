namespace Folio.Core.KvCache;

/// <summary>A broken invariant of the KV cache manager (always a bug in the manager).</summary>
public sealed class KvInvariantException : InvalidOperationException
{
    public KvInvariantException(string message) : base(message)
    {
    }

    public KvInvariantException()
    {
    }

    public KvInvariantException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
