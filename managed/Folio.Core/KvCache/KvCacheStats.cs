namespace Folio.Core.KvCache;

/// <summary>
/// A snapshot of the GPU pool. TokenStates counts tokens recorded in used blocks (a shared block once);
/// AllocatedSlots = UsedBlocks × block size. Prefix counters cover committed Allocate calls: the prompt
/// tokens looked up and the cached tokens taken.
/// </summary>
public readonly record struct KvCacheStats(
    int TotalBlocks, int UsedBlocks, int FreeBlocks, int CachedBlocks, int SharedBlocks,
    int CpuUsedBlocks, long TokenStates, long AllocatedSlots,
    long PrefixQueryTokens, long PrefixHitTokens)
{
    /// <summary>Hit tokens / queried tokens (0 when none were queried).</summary>
    public double PrefixHitRate => PrefixQueryTokens == 0 ? 0 : (double)PrefixHitTokens / PrefixQueryTokens;

    /// <summary>Used blocks / total blocks × 100.</summary>
    public double UtilizationPct => TotalBlocks == 0 ? 0 : 100.0 * UsedBlocks / TotalBlocks;
}
