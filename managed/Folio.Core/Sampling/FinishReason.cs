namespace Folio.Core.Sampling;

/// <summary>Why a sequence or request ended (None while it runs).</summary>
public enum FinishReason
{
    None,
    /// <summary>End-of-sequence token, a stop token id or a stop string.</summary>
    Stop,
    /// <summary>max_tokens reached.</summary>
    Length,
    /// <summary>Aborted by the caller.</summary>
    Abort,
    /// <summary>Never admitted (or dropped) because it cannot fit the KV pool; the request carries the reason.</summary>
    Rejected,
}
