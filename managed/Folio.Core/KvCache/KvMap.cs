namespace Folio.Core.KvCache;

/// <summary>
/// A picture of the paged KV cache at one moment, per physical block: who holds it and in what state (the server's
/// /kv page, <c>folio simulate --kv-map</c>). Built on request by <see cref="Capture"/> from the pools and the live
/// block tables with the request each belongs to; the block tables themselves carry no owner, so nothing is
/// recorded on the scheduler's per-token path. One allocation per call, O(blocks + block-table entries).
/// </summary>
public sealed class KvMap
{
    /// <summary>Owner id of a block held by tables of more than one request (a prefix-cache hit shared across requests).</summary>
    public const long ManyOwners = -2;

    /// <summary>Owner id of a free block, or a used one no given table holds.</summary>
    public const long NoOwner = -1;

    private KvMap(int blockSizeTokens, Pool gpu, Pool? cpu)
    {
        BlockSizeTokens = blockSizeTokens;
        Gpu = gpu;
        Cpu = cpu;
    }

    public int BlockSizeTokens { get; }
    public Pool Gpu { get; }

    /// <summary>The CPU swap pool, or null without swap space.</summary>
    public Pool? Cpu { get; }

    /// <summary>One pool's blocks, by physical id.</summary>
    public sealed class Pool(int numBlocks)
    {
        /// <summary>The request whose block table holds the block; <see cref="NoOwner"/> or <see cref="ManyOwners"/>.</summary>
        public long[] Owner { get; } = new long[numBlocks];

        /// <summary>Reference count: 0 = free, above 1 = shared (forks of one request, or prefix hits of several).</summary>
        public int[] RefCount { get; } = new int[numBlocks];

        /// <summary>Registered in the prefix cache (a free one keeps its contents until reused: a later hit revives it).</summary>
        public bool[] Cached { get; } = new bool[numBlocks];

        /// <summary>Token slots recorded in the block (0..block size).</summary>
        public int[] Tokens { get; } = new int[numBlocks];

        public int NumBlocks => Owner.Length;
    }

    /// <summary>
    /// Captures the pools of <paramref name="kv"/>; <paramref name="tables"/> names the request of each live block
    /// table (the caller knows them: the engine walks its unfinished requests' sequences). Call between steps.
    /// </summary>
    public static KvMap Capture(KvCacheManager kv, IEnumerable<(long RequestId, BlockTable Table)> tables)
    {
        ArgumentNullException.ThrowIfNull(kv);
        ArgumentNullException.ThrowIfNull(tables);
        var gpu = Fill(kv.GpuPool);
        var cpu = kv.CpuPool is { } c ? Fill(c) : null;
        foreach (var (id, table) in tables)
        {
            if (!table.IsAlive) continue;
            var pool = table.Location == BlockLocation.Gpu ? gpu : cpu;
            if (pool is null) continue;
            foreach (int b in table.Blocks)
            {
                long o = pool.Owner[b];
                pool.Owner[b] = o == NoOwner || o == id ? id : ManyOwners;
            }
        }
        return new KvMap(kv.BlockSizeTokens, gpu, cpu);
    }

    private static Pool Fill(BlockPool source)
    {
        var pool = new Pool(source.NumBlocks);
        for (int b = 0; b < source.NumBlocks; b++)
        {
            pool.Owner[b] = NoOwner;
            pool.RefCount[b] = source.RefCount(b);
            pool.Cached[b] = source.IsCached(b);
            pool.Tokens[b] = source.NumTokensIn(b);
        }
        return pool;
    }
}
