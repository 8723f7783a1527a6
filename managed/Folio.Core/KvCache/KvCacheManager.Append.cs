namespace Folio.Core.KvCache;

public sealed partial class KvCacheManager
{
    /// <summary>
    /// Whether <see cref="Append"/> of <paramref name="numNewTokens"/> fits: the new blocks, plus one when
    /// the last block is partial and shared (it is copied before the write).
    /// </summary>
    public bool CanAppend(BlockTable table, int numNewTokens)
    {
        CheckLiveOnGpu(table, nameof(table));
        if (numNewTokens < 0)
            throw new ArgumentOutOfRangeException(nameof(numNewTokens), numNewTokens, "numNewTokens must be >= 0.");
        return BlocksToAppend(table, numNewTokens) <= _gpu.NumFreeBlocks;
    }

    /// <summary>
    /// Grows a GPU-resident sequence by <paramref name="newTokens"/> (a prefill chunk or a decode token),
    /// recording their ids. A write into a shared partial last block copies it first and adds the
    /// <c>(src, dst)</c> pair to <paramref name="copies"/>. Allocates nothing on the managed heap (beyond
    /// growing <paramref name="copies"/> or, when a block is added, the table's id array by doubling).
    /// </summary>
    public void Append(BlockTable table, ReadOnlySpan<int> newTokens, List<BlockCopy> copies)
    {
        CheckLiveOnGpu(table, nameof(table));
        int n = newTokens.Length;
        if (n == 0)
            return;
        int bs = BlockSizeTokens;
        int room = table.RoomInLastBlock;
        // Hot path: the tokens fit in a private partial last block.
        if (n <= room)
        {
            int last = table.LastBlock;
            if (_gpu.RefCount(last) == 1)
            {
                if (n == 1)
                    _gpu.Record(last, newTokens[0]);
                else
                    _gpu.Record(last, newTokens);
                table.NumTokens += n;
                table.LastBlockPrivate = true;
                return;
            }
        }
        ArgumentNullException.ThrowIfNull(copies);
        int need = BlocksToAppend(table, n);
        if (need > _gpu.NumFreeBlocks)
            throw new InvalidOperationException(
                $"Append needs {need} free blocks, {_gpu.NumFreeBlocks} are free: call CanAppend first.");

        int pos = 0;
        if (room != 0)
        {
            int last = table.LastBlock;
            if (_gpu.RefCount(last) > 1)
            {
                // Copy-on-write: the shared block stays as it is for its other holders.
                int copy = TakeFreeGpuBlock();
                _gpu.CopyFrom(_gpu, last, copy);
                _gpu.Release(last);
                table.SetBlock(table.NumBlocks - 1, copy);
                copies.Add(new BlockCopy(last, copy));
                last = copy;
            }
            pos = Math.Min(n, room);
            _gpu.Record(last, newTokens[..pos]);
        }
        while (pos < n)
        {
            int b = TakeFreeGpuBlock();
            table.AddBlock(b);
            int take = Math.Min(bs, n - pos);
            _gpu.Record(b, newTokens.Slice(pos, take));
            pos += take;
        }
        table.NumTokens += n;
        // The last block is now a copy, a fresh block or one this table held alone: private in every case.
        table.LastBlockPrivate = true;
        _epoch++;
    }

    /// <summary>
    /// The decode fast path: appends one token when it fits the table's private (reference count 1) partial last
    /// block, which needs no free block and so cannot fail; returns false (changing nothing) otherwise, and the
    /// caller goes through <see cref="CanAppend"/> / <see cref="Append"/>.
    /// </summary>
    public bool TryAppendInPlace(BlockTable table, int token)
    {
        CheckLiveOnGpu(table, nameof(table));
        if (table.RoomInLastBlock == 0)
            return false;
        int last = table.LastBlock;
        if (_gpu.RefCount(last) != 1)
            return false;
        _gpu.Record(last, token);
        table.NumTokens++;
        table.LastBlockPrivate = true;
        return true;
    }

    /// <summary>
    /// The scheduler's decode step: appends one token into the table's private partial last block and returns
    /// the token's slot, or -1 (changing nothing) when the block is full or not known to be private
    /// (<see cref="BlockTable.LastBlockPrivate"/>; the caller then goes through <see cref="CanAppend"/> /
    /// <see cref="Append"/>, which re-check and set the mark). Unchecked, unlike <see cref="TryAppendInPlace"/>:
    /// the scheduler passes only its running sequences' tables, live and on the GPU. It reads the table alone
    /// (no reference count) and only writes the pool, once per step for every running sequence.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal long TryAppendDecode(BlockTable table, int token)
    {
        int room = table.RoomInLastBlock;
        if (room == 0 || !table.LastBlockPrivate)
            return -1;
        int last = table.LastBlock;
        int offset = BlockSizeTokens - room;
        _gpu.RecordAt(last, offset, token);
        table.NumTokens++;
        return (long)last * BlockSizeTokens + offset;
    }

    /// <summary>
    /// After the forward pass wrote the K/V: registers the table's newly full blocks in the prefix cache.
    /// A block whose hash is already registered (same contents elsewhere, or a collision) stays uncached.
    /// </summary>
    public void CacheFullBlocks(BlockTable table)
    {
        CheckLiveOnGpu(table, nameof(table));
        if (_cache is null)
            return;
        int full = table.NumTokens / BlockSizeTokens;
        if (table.NumHashedBlocks >= full)
            return;
        var hasher = _cache.Hasher;
        if (!table.KeyHashed)
            table.SetKeyHashes(hasher.HashString(table.Key.Salt), hasher.HashString(table.Key.Adapter));
        ulong h = table.LastHash;
        for (int i = table.NumHashedBlocks; i < full; i++)
        {
            int b = table.BlockAt(i);
            ulong extra = hasher.ExtraKey(table.SaltHash, table.AdapterHash, i);
            ulong nh = hasher.Hash(h, _gpu.TokensOf(b), extra);
            if (!_gpu.IsCached(b))
                _cache.TryInsert(b, i == 0 ? -1 : table.BlockAt(i - 1), h, nh, extra, table.Key);
            h = nh;
        }
        table.NumHashedBlocks = full;
        table.LastHash = h;
    }

    /// <summary>
    /// Free blocks that appending <paramref name="numNewTokens"/> tokens to <paramref name="table"/> takes: the new
    /// blocks, plus a copy when its partial last block is shared. The one place this is computed.
    /// </summary>
    public int BlocksToAppend(BlockTable table, int numNewTokens)
    {
        if (numNewTokens == 0)
            return 0;
        int need = BlocksFor(table.NumTokens + numNewTokens) - table.NumBlocks;
        if (table.RoomInLastBlock != 0 && _gpu.RefCount(table.LastBlock) > 1)
            need++;
        return need;
    }

    /// <summary>
    /// Whether every table of a group can append <paramref name="numNewTokens"/> tokens. An upper bound: it counts a
    /// copy for each sharer of a partial block although the last sharer writes in place, so it never admits too much.
    /// </summary>
    public bool CanAppendEach(ReadOnlySpan<BlockTable> tables, int numNewTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numNewTokens);
        long need = 0;
        foreach (var table in tables)
        {
            CheckLiveOnGpu(table, nameof(tables));
            need += BlocksToAppend(table, numNewTokens);
        }
        return need <= _gpu.NumFreeBlocks;
    }
}
