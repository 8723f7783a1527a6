namespace Folio.Core.KvCache;

/// <summary>
/// The result of <see cref="KvCacheManager.FindCachedPrefix"/>: how many leading tokens (a whole number of
/// blocks) are already cached. It is valid until the next call that changes the free list (Allocate, an Append
/// that takes a block, Free, SwapOut, SwapIn); <see cref="KvCacheManager.CanAllocate"/> refuses a stale one
/// with <see cref="InvalidOperationException"/>. <c>default</c> (no hit) is always valid.
/// </summary>
public readonly record struct PrefixHit(int NumCachedTokens)
{
    /// <summary>Hit blocks that are free (reference count 0) and must be taken out of the free list.</summary>
    public int NumRevivedBlocks { get; init; }

    /// <summary>The manager's free-list epoch when the lookup ran (stale-hit detection).</summary>
    internal long Epoch { get; init; }

    /// <summary>Which lookup produced the hit: Allocate reuses that lookup's block ids when it is the latest.</summary>
    internal long LookupId { get; init; }
}
