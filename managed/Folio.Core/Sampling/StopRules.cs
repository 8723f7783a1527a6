namespace Folio.Core.Sampling;

/// <summary>
/// The token-level stop rules of a request, copied out of its <see cref="SamplingParams"/> so that the per-token
/// check reads the request object it already has in cache rather than the parameters object.
/// </summary>
public readonly struct StopRules
{
    private readonly int[] _stopTokenIds;

    public StopRules(SamplingParams p)
    {
        ArgumentNullException.ThrowIfNull(p);
        MinTokens = p.MinTokens;
        MaxTokens = p.MaxTokens;
        IgnoreEos = p.IgnoreEos;
        // Without stop ids, the shared empty array: the per-token check reads its length, and a fresh empty array per
        // request was one more cache line per running sequence and step.
        _stopTokenIds = p.StopTokenIds.Count == 0 ? [] : [.. p.StopTokenIds];
    }

    public int MinTokens { get; }
    public int MaxTokens { get; }
    public bool IgnoreEos { get; }
    public ReadOnlySpan<int> StopTokenIds => _stopTokenIds;

    /// <summary>Whether <paramref name="token"/> is EOS (unless ignored) or a stop token id.</summary>
    public bool IsStopToken(int token, int eosTokenId)
    {
        if (token == eosTokenId && !IgnoreEos)
            return true;
        return _stopTokenIds.Length != 0 && Array.IndexOf(_stopTokenIds, token) >= 0;
    }
}
