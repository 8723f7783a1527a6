namespace Folio.Core.KvCache;

/// <summary>
/// The paged KV cache manager: block pools, block tables, automatic prefix caching, fork with copy-on-write,
/// swapping. Synchronous and single-threaded (the engine serialises calls). Every mutating call has a
/// <c>Can*</c> check; when the check says yes the call cannot fail. The operations live in partial files
/// named for them (Allocate, Append, Fork, Swap). See docs/KV_CACHE.md for the contract.
/// </summary>
public sealed partial class KvCacheManager
{
    private readonly BlockPool _gpu;
    private readonly BlockPool? _cpu;
    private readonly PrefixCache? _cache;
    private readonly List<BlockTable> _live = new();
    // Incremented by every call that changes the free list: a PrefixHit from another epoch is stale.
    private long _epoch;
    private long _lookupCounter;
    private long _prefixQueryTokens;
    private long _prefixHitTokens;

    public KvCacheManager(KvCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        BlockSizeTokens = options.BlockSizeTokens;
        _gpu = new BlockPool(options.NumGpuBlocks, options.BlockSizeTokens);
        _cpu = options.NumCpuBlocks > 0 ? new BlockPool(options.NumCpuBlocks, options.BlockSizeTokens) : null;
        if (options.EnablePrefixCaching)
            _cache = new PrefixCache(_gpu, options.Hasher ?? DefaultBlockHasher.Instance);
        _gpuMark = new long[options.NumGpuBlocks];
        _gpuMap = new int[options.NumGpuBlocks];
        _cpuMark = new long[options.NumCpuBlocks];
        _cpuMap = new int[options.NumCpuBlocks];
    }

    public KvCacheOptions Options { get; }
    public int BlockSizeTokens { get; }
    public BlockPool GpuPool => _gpu;
    public BlockPool? CpuPool => _cpu;

    /// <summary>Live (not yet freed) tables, in no particular order.</summary>
    public IReadOnlyList<BlockTable> LiveTables => _live;

    internal PrefixCache? Cache => _cache;

    /// <summary>Blocks needed to hold <paramref name="numTokens"/> tokens.</summary>
    public int BlocksFor(int numTokens) => (int)(((long)numTokens + BlockSizeTokens - 1) / BlockSizeTokens);

    public KvCacheStats GetStats() => new(
        TotalBlocks: _gpu.NumBlocks,
        UsedBlocks: _gpu.NumUsedBlocks,
        FreeBlocks: _gpu.NumFreeBlocks,
        CachedBlocks: _gpu.NumCachedBlocks,
        SharedBlocks: _gpu.NumSharedBlocks,
        CpuUsedBlocks: _cpu?.NumUsedBlocks ?? 0,
        TokenStates: _gpu.TokenStates,
        AllocatedSlots: (long)_gpu.NumUsedBlocks * BlockSizeTokens,
        PrefixQueryTokens: _prefixQueryTokens,
        PrefixHitTokens: _prefixHitTokens);

    /// <summary>Takes the head of the GPU free list for new contents, evicting it from the prefix cache.</summary>
    private int TakeFreeGpuBlock()
    {
        int b = _gpu.FirstFree;
        if (_gpu.IsCached(b))
            _cache!.Evict(b);
        return _gpu.TakeFirstFree();
    }

    private BlockPool PoolOf(BlockTable table) => table.Location == BlockLocation.Gpu ? _gpu : _cpu!;

    private void Register(BlockTable table)
    {
        table.LiveIndex = _live.Count;
        _live.Add(table);
    }

    private void Unregister(BlockTable table)
    {
        int i = table.LiveIndex;
        BlockTable last = _live[^1];
        _live[i] = last;
        last.LiveIndex = i;
        _live.RemoveAt(_live.Count - 1);
        table.LiveIndex = -1;
    }

    private void CheckLive(BlockTable table, string paramName)
    {
        ArgumentNullException.ThrowIfNull(table, paramName);
        if (!ReferenceEquals(table.Owner, this))
            throw new InvalidOperationException($"{paramName}: the block table belongs to another KvCacheManager.");
        if (!table.IsAlive)
            throw new InvalidOperationException($"{paramName}: the block table was freed.");
    }

    private void CheckLiveOnGpu(BlockTable table, string paramName)
    {
        CheckLive(table, paramName);
        if (table.Location != BlockLocation.Gpu)
            throw new InvalidOperationException($"{paramName}: the sequence is swapped out to the CPU; swap it in first.");
    }
}
