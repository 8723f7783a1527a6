using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

/// <summary>Named regressions: the bugs other block managers shipped, pinned here.</summary>
public class RegressionTests
{
    /// <summary>A hasher that collides everything: correctness must come from the token/chain check.</summary>
    private sealed class ConstantHasher : IBlockHasher
    {
        public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey) => 42;
    }

    /// <summary>Hashes a block's tokens only: blocks with equal tokens collide whatever precedes them.</summary>
    private sealed class TokensOnlyHasher : IBlockHasher
    {
        public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey)
            => DefaultBlockHasher.Instance.Hash(0, blockTokens, 0);
    }

    [Fact]
    public void FullPromptPrefixHit_StillComputesLastToken()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        int[] prompt = Kv.Range(1, 8);
        BlockTable a = Kv.Admit(kv, prompt);
        kv.CacheFullBlocks(a);
        Assert.Equal(2, kv.GetStats().CachedBlocks);

        // Both blocks are cached, but the hit stops one block short: the last token must be computed.
        PrefixHit hit = kv.FindCachedPrefix(prompt, default);
        Assert.Equal(4, hit.NumCachedTokens);
        BlockTable b = kv.Allocate(prompt, hit, prompt.Length, default);
        Assert.Equal(4, b.NumTokens - hit.NumCachedTokens);
        Assert.Equal(new[] { 0, 2 }, b.Blocks.ToArray());

        // One token more: the whole cached part is taken, one token is left.
        int[] longer = [.. prompt, 9];
        Assert.Equal(8, kv.FindCachedPrefix(longer, default).NumCachedTokens);
        // A one-token prompt is never a hit; an empty prompt neither.
        Assert.Equal(0, kv.FindCachedPrefix([1], default).NumCachedTokens);
        Assert.Equal(0, kv.FindCachedPrefix(ReadOnlySpan<int>.Empty, default).NumCachedTokens);
        // A hand-made full hit is refused.
        Assert.Throws<ArgumentException>(() => kv.Allocate(prompt, new PrefixHit(8), 8, default));
        KvInvariants.Check(kv);
    }

    [Fact]
    public void PreemptionAfterPrefixHit_ThenResume()
    {
        var kv = Kv.Make(gpuBlocks: 6, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        kv.Free(a);

        // Admitted with a 2-block hit, then preempted (recompute) before its step ran.
        int[] prompt = [.. Kv.Range(1, 8), 100, 101, 102];
        BlockTable b = Kv.Admit(kv, prompt);
        Assert.Equal(new[] { 0, 1, 3 }, b.Blocks.ToArray());
        kv.Free(b);
        KvInvariants.Check(kv);

        // Pressure in between evicts part of the cached prefix.
        BlockTable c = Kv.Admit(kv, Kv.Range(500, 20));
        KvInvariants.Check(kv);
        kv.Free(c);

        // Resume: a fresh lookup, a fresh table; every slot stays inside the pool.
        PrefixHit hit = kv.FindCachedPrefix(prompt, default);
        Assert.True(kv.CanAllocate(hit, prompt.Length));
        BlockTable resumed = kv.Allocate(prompt, hit, prompt.Length, default);
        var copies = new List<BlockCopy>();
        for (int i = 0; i < 9; i++)
        {
            Assert.True(kv.CanAppend(resumed, 1));
            kv.Append(resumed, [200 + i], copies);
            kv.CacheFullBlocks(resumed);
            KvInvariants.Check(kv);
        }
        Assert.Equal(20, resumed.NumTokens);
        int slots = kv.GpuPool.NumBlocks * kv.BlockSizeTokens;
        for (int p = 0; p < resumed.NumTokens; p++)
            Assert.InRange(resumed.SlotOf(p), 0, slots - 1);
        Assert.Equal(prompt, Enumerable.Range(0, prompt.Length)
            .Select(p => kv.GpuPool.TokensOf(resumed.Blocks[p / 4])[p % 4]).ToArray());
        Assert.Empty(copies);
        kv.Free(resumed);
        Assert.Equal(6, kv.GpuPool.NumFreeBlocks);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CopyOnWrite_OfSharedPartialLastBlock_AfterFork()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable parent = Kv.Admit(kv, Kv.Range(0, 6));   // blocks 0 [0..3], 1 [4, 5]
        BlockTable child = kv.Fork(parent);
        var copies = new List<BlockCopy>();
        Assert.True(kv.CanAppend(child, 1));
        kv.Append(child, [60], copies);

        Assert.Equal(new[] { new BlockCopy(1, 2) }, copies);
        Assert.Equal(new[] { 0, 2 }, child.Blocks.ToArray());
        Assert.Equal(new[] { 0, 1 }, parent.Blocks.ToArray());
        Assert.Equal(6, parent.NumTokens);
        Assert.Equal(new[] { 4, 5 }, kv.GpuPool.TokensOf(1).ToArray());
        Assert.Equal(new[] { 4, 5, 60 }, kv.GpuPool.TokensOf(2).ToArray());
        Assert.Equal(2, kv.GpuPool.RefCount(0));
        Assert.Equal(1, kv.GpuPool.RefCount(1));
        Assert.Equal(1, kv.GpuPool.RefCount(2));
        KvInvariants.Check(kv);

        // The parent's block is private again: written in place, no copy.
        copies.Clear();
        kv.Append(parent, [70], copies);
        Assert.Empty(copies);
        Assert.Equal(new[] { 4, 5, 70 }, kv.GpuPool.TokensOf(1).ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CopyOnWrite_NeedsAFreeBlock_AndCanAppendSaysSo()
    {
        var kv = Kv.Make(gpuBlocks: 2, blockSize: 4);
        BlockTable parent = Kv.Admit(kv, Kv.Range(0, 6));
        BlockTable child = kv.Fork(parent);
        Assert.False(kv.CanAppend(child, 1));
        var ex = Assert.Throws<InvalidOperationException>(() => kv.Append(child, [1], new List<BlockCopy>()));
        Assert.Contains("needs 1 free blocks", ex.Message);
        Assert.Equal(6, child.NumTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void ForcedHashCollision_DoesNotAliasBlocks()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, hasher: new ConstantHasher());
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 8));
        kv.CacheFullBlocks(a);
        // Every block hashes to 42: only the first one registered is cached.
        Assert.True(kv.GpuPool.IsCached(0));
        Assert.False(kv.GpuPool.IsCached(1));

        // Other tokens under the same hash: no hit.
        Assert.Equal(0, kv.FindCachedPrefix(Kv.Range(9, 9), default).NumCachedTokens);
        // Block 1's tokens after another first block: no hit.
        Assert.Equal(0, kv.FindCachedPrefix([100, 101, 102, 103, 5, 6, 7, 8, 0], default).NumCachedTokens);
        // The genuine prefix: the first block hits, the second (hash taken by block 0, tokens differ) does not.
        Assert.Equal(4, kv.FindCachedPrefix([.. Kv.Range(1, 8), 9], default).NumCachedTokens);

        BlockTable b = Kv.Admit(kv, Kv.Range(9, 9));
        Assert.DoesNotContain(0, b.Blocks.ToArray());
        Assert.DoesNotContain(1, b.Blocks.ToArray());
        Assert.Equal(Kv.Range(9, 4), kv.GpuPool.TokensOf(b.Blocks[0]).ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void ForcedHashCollision_WithAReusedParent_DoesNotAlias()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 2, hasher: new TokensOnlyHasher());
        BlockTable a = Kv.Admit(kv, [1, 2, 50]);            // blocks 0 [1,2], 1 [50]
        BlockTable b = Kv.Admit(kv, [1, 2, 3, 4, 60]);      // blocks 2 [1,2], 3 [3,4], 4 [60]
        kv.CacheFullBlocks(a);
        kv.CacheFullBlocks(b);
        Assert.True(kv.GpuPool.IsCached(0));
        Assert.False(kv.GpuPool.IsCached(2));   // duplicate of block 0
        Assert.True(kv.GpuPool.IsCached(3));    // its parent is block 2
        kv.Free(b);
        Assert.Equal(2, kv.GpuPool.FirstFree);  // uncached blocks are evicted first

        // Block 2 is reused for [7, 8] and cached; block 3 still records parent 2, from before.
        BlockTable c = Kv.Admit(kv, [7, 8, 70]);
        Assert.Equal(2, c.Blocks[0]);
        kv.CacheFullBlocks(c);
        Assert.True(kv.GpuPool.IsCached(2));

        // [7, 8, 3, 4] reaches block 2, then block 3 by hash and tokens; only the generation tells that
        // block 3 was computed after [1, 2], not [7, 8].
        Assert.Equal(2, kv.FindCachedPrefix([7, 8, 3, 4, 0], default).NumCachedTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void SwapOutAndIn_PreservesEveryBlockMapping()
    {
        var kv = Kv.Make(gpuBlocks: 16, blockSize: 4, cpuBlocks: 16);
        var gpu = new Dictionary<int, string>();
        var cpu = new Dictionary<int, string>();
        var copies = new List<BlockCopy>();

        BlockTable p = Kv.Admit(kv, Kv.Range(0, 10));
        BlockTable c1 = kv.Fork(p);
        BlockTable c2 = kv.Fork(p);
        foreach (int b in p.Blocks)
            gpu[b] = $"payload-{b}";
        kv.Append(c1, [100, 101, 102], copies);   // copy-on-write of block 2, then a new block
        kv.Append(c2, [200], copies);
        foreach (BlockCopy copy in copies)
            gpu[copy.DstBlock] = gpu[copy.SrcBlock];
        foreach (BlockTable t in new[] { c1, c2 })
            foreach (int b in t.Blocks)
                gpu.TryAdd(b, $"payload-{b}");
        BlockTable outsider = Kv.Admit(kv, Kv.Range(300, 5));   // not in the group
        BlockTable[] group = [p, c1, c2];
        string[][] before = group.Select(t => t.Blocks.ToArray().Select(b => gpu[b]).ToArray()).ToArray();
        int distinct = group.SelectMany(t => t.Blocks.ToArray()).Distinct().Count();

        var moves = new List<BlockMove>();
        Assert.True(kv.CanSwapOut(group));
        kv.SwapOut(group, moves);
        Assert.Equal(distinct, moves.Count);
        Assert.Equal(distinct, moves.Select(m => m.SrcBlock).Distinct().Count());
        Assert.Equal(distinct, moves.Select(m => m.DstBlock).Distinct().Count());
        foreach (BlockMove m in moves)
            cpu[m.DstBlock] = gpu[m.SrcBlock];
        KvInvariants.Check(kv);

        // The freed GPU blocks are reused and overwritten meanwhile.
        BlockTable filler = Kv.Admit(kv, Kv.Range(400, 4 * kv.GpuPool.NumFreeBlocks));
        foreach (int b in filler.Blocks)
            gpu[b] = "garbage";
        kv.Free(filler);

        moves.Clear();
        Assert.True(kv.CanSwapIn(group));
        kv.SwapIn(group, moves);
        Assert.Equal(distinct, moves.Count);
        foreach (BlockMove m in moves)
            gpu[m.DstBlock] = cpu[m.SrcBlock];
        string[][] after = group.Select(t => t.Blocks.ToArray().Select(b => gpu[b]).ToArray()).ToArray();
        Assert.Equal(before, after);
        Assert.Equal(0, kv.GetStats().CpuUsedBlocks);
        Assert.Equal(Kv.Range(300, 4), kv.GpuPool.TokensOf(outsider.Blocks[0]).ToArray());
        KvInvariants.Check(kv);

        foreach (BlockTable t in group)
            kv.Free(t);
        kv.Free(outsider);
        Assert.Equal(16, kv.GpuPool.NumFreeBlocks);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void DifferentSalt_NeverHits()
    {
        foreach (IBlockHasher? hasher in new IBlockHasher?[] { null, new ConstantHasher() })
        {
            var kv = Kv.Make(gpuBlocks: 16, blockSize: 4, hasher: hasher);
            int[] prompt = Kv.Range(1, 12);
            BlockTable a = Kv.Admit(kv, prompt, new CacheKey(Salt: "tenant-a"));
            kv.CacheFullBlocks(a);
            Assert.Equal(0, kv.FindCachedPrefix(prompt, new CacheKey(Salt: "tenant-b")).NumCachedTokens);
            Assert.Equal(0, kv.FindCachedPrefix(prompt, default).NumCachedTokens);
            Assert.Equal(0, kv.FindCachedPrefix(prompt, new CacheKey(Salt: "")).NumCachedTokens);
            // With every hash colliding only the first block can be cached.
            int expected = hasher is null ? 8 : 4;
            Assert.Equal(expected, kv.FindCachedPrefix(prompt, new CacheKey(Salt: "tenant-a")).NumCachedTokens);
            // The unsalted copy of the same tokens is cached separately and hit only without salt.
            BlockTable b = Kv.Admit(kv, prompt);
            Assert.DoesNotContain(a.Blocks[0], b.Blocks.ToArray());
            KvInvariants.Check(kv);
        }
    }

    [Fact]
    public void DifferentAdapter_NeverHits()
    {
        foreach (IBlockHasher? hasher in new IBlockHasher?[] { null, new ConstantHasher() })
        {
            var kv = Kv.Make(gpuBlocks: 16, blockSize: 4, hasher: hasher);
            int[] prompt = Kv.Range(1, 12);
            BlockTable a = Kv.Admit(kv, prompt, new CacheKey(Adapter: "lora-1"));
            kv.CacheFullBlocks(a);
            Assert.Equal(0, kv.FindCachedPrefix(prompt, new CacheKey(Adapter: "lora-2")).NumCachedTokens);
            Assert.Equal(0, kv.FindCachedPrefix(prompt, default).NumCachedTokens);
            Assert.Equal(0, kv.FindCachedPrefix(prompt, new CacheKey("s", "lora-1")).NumCachedTokens);
            int expected = hasher is null ? 8 : 4;
            Assert.Equal(expected, kv.FindCachedPrefix(prompt, new CacheKey(Adapter: "lora-1")).NumCachedTokens);
            KvInvariants.Check(kv);
        }
    }

    [Fact]
    public void DefaultHasher_SeparatesSaltsAndAdaptersInTheHash()
    {
        int[] block = Kv.Range(1, 16);
        var h = DefaultBlockHasher.Instance;
        ulong plain = h.Hash(0, block, 0);
        ulong salted = h.Hash(0, block, DefaultBlockHasher.ExtraKey(DefaultBlockHasher.HashString("s"), 0, 0));
        ulong adapted = h.Hash(0, block, DefaultBlockHasher.ExtraKey(0, DefaultBlockHasher.HashString("s"), 0));
        Assert.NotEqual(plain, salted);
        Assert.NotEqual(salted, adapted);
        Assert.NotEqual(plain, h.Hash(1, block, 0));
        // The salt rides only on the first block.
        ulong salt = DefaultBlockHasher.HashString("s");
        Assert.Equal(0UL, DefaultBlockHasher.ExtraKey(salt, 0, 1));
        // The hash is of the tokens, not of the array: a copy hashes the same, a changed token does not.
        int[] copy = (int[])block.Clone();
        Assert.Equal(h.Hash(7, block, 0), h.Hash(7, copy, 0));
        copy[15]++;
        Assert.NotEqual(h.Hash(7, block, 0), h.Hash(7, copy, 0));
        Assert.NotEqual(0UL, DefaultBlockHasher.HashString(""));
    }
}
