namespace Folio.Core.KvCache;

public sealed partial class KvCacheManager
{
    // Per-block marks for group operations: a block is "seen" when its mark equals the current stamp, so a
    // new operation needs no clearing pass. _gpuMap/_cpuMap give the destination of a seen block.
    private readonly long[] _gpuMark;
    private readonly int[] _gpuMap;
    private readonly long[] _cpuMark;
    private readonly int[] _cpuMap;
    private long _markStamp;

    /// <summary>Whether the group's distinct GPU blocks fit in the free CPU blocks.</summary>
    public bool CanSwapOut(ReadOnlySpan<BlockTable> group)
    {
        int distinct = CountDistinct(group, BlockLocation.Gpu, _gpuMark, nameof(group));
        return _cpu is not null && distinct <= _cpu.NumFreeBlocks;
    }

    /// <summary>
    /// Moves a group of sequences (which may share blocks) to the CPU pool as one unit. Each distinct GPU block
    /// is copied once (one <see cref="BlockMove"/> GPU → CPU in <paramref name="moves"/>); the GPU blocks lose
    /// the group's references and free ones join the free list (cached ones stay in the prefix cache).
    /// </summary>
    public void SwapOut(ReadOnlySpan<BlockTable> group, List<BlockMove> moves)
    {
        ArgumentNullException.ThrowIfNull(moves);
        if (_cpu is null)
            throw new InvalidOperationException("SwapOut: no CPU pool (KvCacheOptions.NumCpuBlocks is 0).");
        if (!CanSwapOut(group))
            throw new InvalidOperationException("SwapOut: not enough free CPU blocks; call CanSwapOut first.");
        MoveGroup(group, _gpu, _cpu, toGpu: false, _gpuMark, _gpuMap, moves);
    }

    /// <summary>Whether the group's distinct CPU blocks fit in the free GPU blocks.</summary>
    public bool CanSwapIn(ReadOnlySpan<BlockTable> group)
    {
        int distinct = CountDistinct(group, BlockLocation.Cpu, _cpuMark, nameof(group));
        return distinct <= _gpu.NumFreeBlocks;
    }

    /// <summary>
    /// Moves a swapped-out group back to the GPU as one unit: each distinct CPU block is copied once into a new
    /// GPU block (one <see cref="BlockMove"/> CPU → GPU), and the CPU blocks are freed. The new GPU blocks are
    /// offered to the prefix cache again by the next <see cref="CacheFullBlocks"/>.
    /// </summary>
    public void SwapIn(ReadOnlySpan<BlockTable> group, List<BlockMove> moves)
    {
        ArgumentNullException.ThrowIfNull(moves);
        if (!CanSwapIn(group))
            throw new InvalidOperationException("SwapIn: not enough free GPU blocks; call CanSwapIn first.");
        // CountDistinct (in CanSwapIn) proved every table is on the CPU, so the pool exists.
        MoveGroup(group, _cpu!, _gpu, toGpu: true, _cpuMark, _cpuMap, moves);
        foreach (BlockTable t in group)
        {
            t.NumHashedBlocks = 0;
            t.LastHash = 0;
        }
    }

    /// <summary>
    /// Moves a group between the pools: each distinct source block is copied once into a new destination block
    /// (one <see cref="BlockMove"/>; a block shared inside the group gains a reference instead), then every table
    /// drops its source references and points at the copies. To the GPU, blocks are taken as any allocation is
    /// (evicting cached ones if need be); to the CPU, from its free list.
    /// </summary>
    private void MoveGroup(ReadOnlySpan<BlockTable> group, BlockPool from, BlockPool to, bool toGpu, long[] mark,
                           int[] map, List<BlockMove> moves)
    {
        long stamp = ++_markStamp;
        foreach (BlockTable t in group)
        {
            foreach (int src in t.Blocks)
            {
                if (mark[src] == stamp)
                {
                    to.AddRef(map[src]);
                    continue;
                }
                mark[src] = stamp;
                int dst = toGpu ? TakeFreeGpuBlock() : to.TakeFirstFree();
                to.CopyFrom(from, src, dst);
                map[src] = dst;
                moves.Add(new BlockMove(src, dst));
            }
        }
        foreach (BlockTable t in group)
        {
            for (int i = t.NumBlocks - 1; i >= 0; i--)
            {
                int src = t.BlockAt(i);
                from.Release(src);
                t.SetBlock(i, map[src]);
            }
            t.Location = toGpu ? BlockLocation.Gpu : BlockLocation.Cpu;
            t.LastBlockPrivate = false;   // blocks of the group may be shared; the next append re-checks
        }
        _epoch++;
    }

    /// <summary>Distinct blocks of a group that must all be live and at <paramref name="location"/>, each once.</summary>
    private int CountDistinct(ReadOnlySpan<BlockTable> group, BlockLocation location, long[] mark, string paramName)
    {
        long stamp = ++_markStamp;
        int distinct = 0;
        foreach (BlockTable t in group)
        {
            CheckLive(t, paramName);
            if (t.Location != location)
                throw new InvalidOperationException(
                    $"{paramName}: a sequence is on the {t.Location}, expected the {location}.");
            if (t.Stamp == stamp)
                throw new InvalidOperationException($"{paramName}: the same block table appears twice in the group.");
            t.Stamp = stamp;
            foreach (int b in t.Blocks)
            {
                if (mark[b] != stamp)
                {
                    mark[b] = stamp;
                    distinct++;
                }
            }
        }
        return distinct;
    }
}
