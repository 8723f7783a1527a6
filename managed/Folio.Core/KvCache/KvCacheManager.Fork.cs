namespace Folio.Core.KvCache;

public sealed partial class KvCacheManager
{
    /// <summary>
    /// A new table sharing every block of <paramref name="parent"/> (reference counts + 1); allocates no
    /// block. The first write into a shared partial block copies it (see <see cref="Append"/>).
    /// </summary>
    public BlockTable Fork(BlockTable parent)
    {
        CheckLive(parent, nameof(parent));
        BlockPool pool = PoolOf(parent);
        foreach (int b in parent.Blocks)
            pool.AddRef(b);
        parent.LastBlockPrivate = false;   // its last block is shared now (the child's starts false too)
        var child = new BlockTable(this, parent.CopyBlocks(), parent.Key)
        {
            Location = parent.Location,
            NumTokens = parent.NumTokens,
            NumHashedBlocks = parent.NumHashedBlocks,
            LastHash = parent.LastHash,
        };
        child.InitBlocks(parent.NumBlocks);
        Register(child);
        return child;
    }

    /// <summary>
    /// Drops the table's references; blocks reaching zero join the free list, the last logical block first
    /// so that a sequence's tail is evicted before its head. The table is dead afterwards.
    /// </summary>
    public void Free(BlockTable table)
    {
        CheckLive(table, nameof(table));
        BlockPool pool = PoolOf(table);
        ReadOnlySpan<int> blocks = table.Blocks;
        for (int i = blocks.Length - 1; i >= 0; i--)
            pool.Release(blocks[i]);
        Unregister(table);
        table.Kill();
        _epoch++;
    }
}
