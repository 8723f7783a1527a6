using Folio.Core.KvCache;
using Folio.Interop.Abi;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_kv_manager handle. The manager is single-threaded by contract; <see cref="Gate"/>
/// serializes every call on it, including those of the scheduler that uses it.
/// </summary>
public sealed unsafe class KvManagerHost(KvCacheManager kv)
{
    public Lock Gate { get; } = new();
    public KvCacheManager Kv { get; } = kv;

    /// <summary>Set once a scheduler took this manager (under <see cref="Gate"/>): one scheduler per manager.</summary>
    public bool Claimed { get; set; }

    public FolioStats GetStats()
    {
        lock (Gate) return ToStats(Kv.GetStats(), Kv.BlockSizeTokens);
    }

    public static FolioStats ToStats(KvCacheStats kv, int blockSizeTokens) => new()
    {
        StructSize = (uint)sizeof(FolioStats),
        BlockSizeTokens = blockSizeTokens,
        KvBlocksTotal = kv.TotalBlocks,
        KvBlocksUsed = kv.UsedBlocks,
        KvBlocksFree = kv.FreeBlocks,
        KvBlocksCached = kv.CachedBlocks,
        KvBlocksShared = kv.SharedBlocks,
        CpuBlocksUsed = kv.CpuUsedBlocks,
        KvUtilizationPct = kv.UtilizationPct,
        PrefixHitRate = kv.PrefixHitRate,
    };
}
