using System.Diagnostics.CodeAnalysis;

namespace Folio.Core.KvCache;

/// <summary>
/// Verifies the manager's whole state in O(blocks + table entries) and throws
/// <see cref="KvInvariantException"/> naming the first violation. For tests and debug checks.
/// </summary>
public static class KvInvariants
{
    public static void Check(KvCacheManager kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        int bs = kv.BlockSizeTokens;
        int[] gpuRefs = new int[kv.GpuPool.NumBlocks];
        int[] cpuRefs = new int[kv.CpuPool?.NumBlocks ?? 0];
        // Last table (live index + 1) seen holding each block: a table holding a block twice is corrupt.
        int[] gpuSeen = new int[gpuRefs.Length];
        int[] cpuSeen = new int[cpuRefs.Length];

        IReadOnlyList<BlockTable> live = kv.LiveTables;
        for (int t = 0; t < live.Count; t++)
        {
            BlockTable table = live[t];
            string who = $"table #{t}";
            if (!table.IsAlive)
                Fail($"{who} is in the live list but was freed.");
            if (table.LiveIndex != t)
                Fail($"{who} records live index {table.LiveIndex}.");
            if (table.NumTokens < 0 || table.NumBlocks != kv.BlocksFor(table.NumTokens))
                Fail($"{who} has {table.NumBlocks} blocks for {table.NumTokens} tokens (expected {kv.BlocksFor(table.NumTokens)}).");
            bool onGpu = table.Location == BlockLocation.Gpu;
            BlockPool? pool = onGpu ? kv.GpuPool : kv.CpuPool;
            if (pool is null)
                Fail($"{who} is on the CPU but there is no CPU pool.");
            int[] refs = onGpu ? gpuRefs : cpuRefs;
            int[] seen = onGpu ? gpuSeen : cpuSeen;
            ReadOnlySpan<int> blocks = table.Blocks;
            for (int i = 0; i < blocks.Length; i++)
            {
                int b = blocks[i];
                if ((uint)b >= (uint)pool.NumBlocks)
                    Fail($"{who} block {i} = {b} is outside the {table.Location} pool of {pool.NumBlocks}.");
                if (seen[b] == t + 1)
                    Fail($"{who} holds {table.Location} block {b} twice.");
                seen[b] = t + 1;
                refs[b]++;
                int expected = Math.Min(bs, table.NumTokens - i * bs);
                if (pool.NumTokensIn(b) != expected)
                    Fail($"{who} expects {expected} tokens in {table.Location} block {b} (logical {i}); it records {pool.NumTokensIn(b)}.");
            }
            if (blocks.Length > 0 && table.LastBlock != blocks[^1])
                Fail($"{who} caches {table.LastBlock} as its last block, but its last block is {blocks[^1]}.");
            if (onGpu && table.NumHashedBlocks > table.NumTokens / bs)
                Fail($"{who} has {table.NumHashedBlocks} hashed blocks but only {table.NumTokens / bs} full ones.");
        }

        CheckPool(kv.GpuPool, gpuRefs, "GPU");
        // With the reference counts proven right: the decode fast path's mark (BlockTable.LastBlockPrivate).
        for (int t = 0; t < live.Count; t++)
        {
            BlockTable table = live[t];
            if (!table.LastBlockPrivate)
                continue;
            if (table.Location != BlockLocation.Gpu)
                Fail($"table #{t} is on the CPU but marked as holding its last GPU block alone.");
            if (table.NumBlocks * bs > table.NumTokens && kv.GpuPool.RefCount(table.LastBlock) != 1)
                Fail($"table #{t} is marked as holding its partial last block {table.LastBlock} alone, but {kv.GpuPool.RefCount(table.LastBlock)} tables hold it.");
        }
        if (kv.CpuPool is not null)
        {
            CheckPool(kv.CpuPool, cpuRefs, "CPU");
            if (kv.CpuPool.NumCachedBlocks != 0)
                Fail($"CPU pool has {kv.CpuPool.NumCachedBlocks} cached blocks; only GPU blocks are cached.");
        }
        CheckPrefixCache(kv);
    }

    private static void CheckPool(BlockPool pool, int[] refs, string name)
    {
        int shared = 0, used = 0, cached = 0;
        long tokenStates = 0;
        for (int b = 0; b < pool.NumBlocks; b++)
        {
            int rc = pool.RefCount(b);
            if (rc != refs[b])
                Fail($"{name} block {b} has reference count {rc} but {refs[b]} live tables hold it.");
            if (rc > 1)
                shared++;
            if (rc > 0)
            {
                used++;
                tokenStates += pool.NumTokensIn(b);
            }
            if (pool.IsCached(b))
            {
                cached++;
                if (pool.NumTokensIn(b) != pool.BlockSizeTokens)
                    Fail($"{name} block {b} is cached but holds {pool.NumTokensIn(b)} of {pool.BlockSizeTokens} tokens.");
            }
            if (pool.NumTokensIn(b) < 0 || pool.NumTokensIn(b) > pool.BlockSizeTokens)
                Fail($"{name} block {b} records {pool.NumTokensIn(b)} tokens.");
        }

        // Walk the free list from the sentinel: links consistent, only free blocks, each once, all of them.
        int sentinel = pool.Sentinel;
        var onList = new bool[pool.NumBlocks];
        int count = 0;
        int prev = sentinel;
        int cur = pool.RawNext(sentinel);
        while (cur != sentinel)
        {
            if ((uint)cur >= (uint)pool.NumBlocks)
                Fail($"{name} free list links to {cur}, outside the pool.");
            if (onList[cur])
                Fail($"{name} free list visits block {cur} twice (a cycle).");
            if (pool.RawPrev(cur) != prev)
                Fail($"{name} free list: block {cur} has prev {pool.RawPrev(cur)}, expected {prev}.");
            if (pool.RefCount(cur) != 0)
                Fail($"{name} block {cur} is on the free list with reference count {pool.RefCount(cur)}.");
            onList[cur] = true;
            count++;
            prev = cur;
            cur = pool.RawNext(cur);
        }
        if (pool.RawPrev(sentinel) != prev)
            Fail($"{name} free list tail is {pool.RawPrev(sentinel)}, expected {prev}.");
        if (count != pool.NumFreeBlocks)
            Fail($"{name} free list holds {count} blocks but NumFreeBlocks is {pool.NumFreeBlocks}.");
        if (count + used != pool.NumBlocks)
            Fail($"{name} pool: {count} free + {used} used != {pool.NumBlocks} blocks (a block is neither, so it leaked).");
        if (shared != pool.NumSharedBlocks)
            Fail($"{name} pool counts {pool.NumSharedBlocks} shared blocks; {shared} have reference count > 1.");
        if (cached != pool.NumCachedBlocks)
            Fail($"{name} pool counts {pool.NumCachedBlocks} cached blocks; {cached} are flagged.");
        if (tokenStates != pool.TokenStates)
            Fail($"{name} pool counts {pool.TokenStates} token states; used blocks record {tokenStates}.");
        if (tokenStates > (long)used * pool.BlockSizeTokens)
            Fail($"{name} pool: {tokenStates} token states exceed {(long)used * pool.BlockSizeTokens} allocated slots.");
    }

    private static void CheckPrefixCache(KvCacheManager kv)
    {
        BlockPool gpu = kv.GpuPool;
        PrefixCache? cache = kv.Cache;
        if (cache is null)
        {
            if (gpu.NumCachedBlocks != 0)
                Fail($"prefix caching is off but {gpu.NumCachedBlocks} blocks are cached.");
            return;
        }
        if (cache.Count != gpu.NumCachedBlocks)
            Fail($"prefix cache maps {cache.Count} hashes but {gpu.NumCachedBlocks} blocks are cached.");
        if (!cache.Map.IsWellFormed(out string problem))
            Fail($"prefix cache map: {problem}");
        for (int slot = 0; slot < cache.Map.Capacity; slot++)
        {
            if (!cache.Map.TryGetSlot(slot, out ulong hash, out int b))
                continue;
            if ((uint)b >= (uint)gpu.NumBlocks)
                Fail($"prefix cache maps hash {hash:x16} to block {b}, outside the pool.");
            if (!gpu.IsCached(b) || gpu.HashOf(b) != hash)
                Fail($"prefix cache maps hash {hash:x16} to block {b}, which is {(gpu.IsCached(b) ? $"cached as {gpu.HashOf(b):x16}" : "not cached")}.");
            ulong recomputed = cache.Hasher.Hash(cache.ParentHashOf(b), gpu.TokensOf(b), cache.ExtraKeyOf(b));
            if (recomputed != hash)
                Fail($"prefix cache: block {b}'s recorded tokens hash to {recomputed:x16}, not its key {hash:x16}.");
            int parent = cache.ParentOf(b);
            if (parent >= 0 && gpu.Generation(parent) == cache.ParentGenerationOf(b)
                && gpu.IsCached(parent) && gpu.HashOf(parent) != cache.ParentHashOf(b))
                Fail($"prefix cache: block {b}'s parent {parent} (same generation) is cached as {gpu.HashOf(parent):x16}, not {cache.ParentHashOf(b):x16}.");
        }
    }

    [DoesNotReturn]
    private static void Fail(string message) => throw new KvInvariantException(message);
}
