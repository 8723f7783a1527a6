namespace Folio.Core.KvCache;

/// <summary>
/// The result of <see cref="KvCacheManager.FindCachedPrefix"/>: how many leading tokens (a whole number of
/// blocks) are already cached. It is valid until the next call that changes the free list (Allocate, an Append
/// that takes a block, Free, SwapOut, SwapIn); <see cref="KvCacheManager.CanAllocate"/> refuses a stale one
/// with <see cref="InvalidOperationException"/>. <c>default</c> (no hit) is always valid. The hit's block ids
/// live in the <see cref="PrefixProbe"/> that found them (<see cref="BlockIds"/>), so a lookup and its Allocate
/// share no hidden state of the manager and other lookups may run in between.
/// </summary>
public readonly record struct PrefixHit(int NumCachedTokens)
{
    /// <summary>Hit blocks that are free (reference count 0) and must be taken out of the free list.</summary>
    public int NumRevivedBlocks { get; init; }

    /// <summary>The manager's free-list epoch when the lookup ran (stale-hit detection).</summary>
    internal long Epoch { get; init; }

    /// <summary>Which lookup produced the hit (two lookups never give equal hits).</summary>
    internal long LookupId { get; init; }

    /// <summary>The probe holding the hit's block ids (null for a hit made by hand, which Allocate looks up again).</summary>
    internal PrefixProbe? Probe { get; init; }

    /// <summary>The physical ids of the cached blocks, in order (empty for a hit made by hand).</summary>
    public ReadOnlySpan<int> BlockIds => Probe is null || Probe.Result != this ? default : Probe.Blocks.AsSpan(0, NumHitBlocks);

    internal int NumHitBlocks { get; init; }
}
