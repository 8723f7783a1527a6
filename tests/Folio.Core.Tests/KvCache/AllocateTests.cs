using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

public class AllocateTests
{
    [Fact]
    public void Allocate_WithoutHit_TakesBlocksFromTheFreeHeadAndRecordsTokens()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        int[] prompt = Kv.Range(100, 10);
        PrefixHit hit = kv.FindCachedPrefix(prompt, default);
        Assert.Equal(0, hit.NumCachedTokens);
        Assert.True(kv.CanAllocate(hit, 10));
        BlockTable t = kv.Allocate(prompt, hit, 10, default);

        Assert.Equal(new[] { 0, 1, 2 }, t.Blocks.ToArray());
        Assert.Equal(10, t.NumTokens);
        Assert.Equal(3, t.NumBlocks);
        Assert.Equal(BlockLocation.Gpu, t.Location);
        Assert.Equal(9, t.SlotOf(9));
        Assert.Equal(2 * 4 + 1, t.SlotOf(9));
        Assert.Equal(new[] { 104, 105, 106, 107 }, kv.GpuPool.TokensOf(1).ToArray());
        Assert.Equal(new[] { 108, 109 }, kv.GpuPool.TokensOf(2).ToArray());
        Assert.Equal(new KvCacheStats(8, 3, 5, 0, 0, 0, 10, 12, 10, 0), kv.GetStats());
        Assert.Equal(37.5, kv.GetStats().UtilizationPct);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void SlotOf_OutsideTheAllocatedTokens_Throws()
    {
        var kv = Kv.Make();
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.SlotOf(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.SlotOf(-1));
    }

    [Fact]
    public void CanAllocate_CountsBlocksExactly()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        Assert.True(kv.CanAllocate(default, 32));
        Assert.False(kv.CanAllocate(default, 33));
        Assert.True(kv.CanAllocate(default, 0));
    }

    [Fact]
    public void Allocate_RefusedByCanAllocate_ThrowsAndChangesNothing()
    {
        var kv = Kv.Make(gpuBlocks: 2, blockSize: 4);
        int[] prompt = Kv.Range(0, 9);
        var ex = Assert.Throws<InvalidOperationException>(() => kv.Allocate(prompt, default, 9, default));
        Assert.Contains("needs 3 free blocks, 2 are free", ex.Message);
        Assert.Equal(2, kv.GpuPool.NumFreeBlocks);
        Assert.Empty(kv.LiveTables);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Allocate_ChunkedPrefill_RecordsOnlyTheFirstChunk()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        int[] prompt = Kv.Range(0, 10);
        BlockTable t = kv.Allocate(prompt, default, 6, default);
        Assert.Equal(6, t.NumTokens);
        Assert.Equal(2, t.NumBlocks);
        Assert.Equal(new[] { 4, 5 }, kv.GpuPool.TokensOf(t.Blocks[1]).ToArray());
        Assert.Equal(10, kv.GetStats().PrefixQueryTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void PrefixHit_SharesCachedBlocksWithALiveSequence()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        Assert.Equal(3, kv.GetStats().CachedBlocks);

        int[] b = [.. Kv.Range(1, 8), 100, 101];
        PrefixHit hit = kv.FindCachedPrefix(b, default);
        Assert.Equal(8, hit.NumCachedTokens);
        Assert.Equal(0, hit.NumRevivedBlocks);
        Assert.True(kv.CanAllocate(hit, b.Length));
        BlockTable tb = kv.Allocate(b, hit, b.Length, default);

        Assert.Equal(new[] { 0, 1, 3 }, tb.Blocks.ToArray());
        Assert.Equal(2, kv.GpuPool.RefCount(0));
        Assert.Equal(2, kv.GpuPool.RefCount(1));
        Assert.Equal(1, kv.GpuPool.RefCount(3));
        KvCacheStats s = kv.GetStats();
        Assert.Equal(new KvCacheStats(8, 4, 4, 3, 2, 0, 14, 16, 22, 8), s);
        Assert.Equal(8.0 / 22, s.PrefixHitRate);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void PrefixHit_OnFreedBlocks_RevivesThemOutOfTheFreeList()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        kv.Free(a);
        Assert.Equal(new[] { 3, 4, 5, 6, 7, 2, 1, 0 }, Kv.FreeList(kv.GpuPool));

        int[] b = [.. Kv.Range(1, 8), 100];
        PrefixHit hit = kv.FindCachedPrefix(b, default);
        Assert.Equal(8, hit.NumCachedTokens);
        Assert.Equal(2, hit.NumRevivedBlocks);
        // 2 revived + 1 new of 8 free.
        Assert.True(kv.CanAllocate(hit, b.Length));
        BlockTable tb = kv.Allocate(b, hit, b.Length, default);
        Assert.Equal(new[] { 0, 1, 3 }, tb.Blocks.ToArray());
        Assert.Equal(new[] { 4, 5, 6, 7, 2 }, Kv.FreeList(kv.GpuPool));
        Assert.Equal(3, kv.GetStats().CachedBlocks);   // block 2 is free but still cached
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CanAllocate_CountsRevivedBlocks()
    {
        var kv = Kv.Make(gpuBlocks: 3, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        kv.Free(a);
        int[] b = [.. Kv.Range(1, 8), 50, 51, 52, 53, 54];   // 2 hit blocks + 2 new = 4 > 3
        PrefixHit hit = kv.FindCachedPrefix(b, default);
        Assert.Equal(8, hit.NumCachedTokens);
        Assert.False(kv.CanAllocate(hit, b.Length));
        Assert.True(kv.CanAllocate(hit, 12));
    }

    [Fact]
    public void StaleHit_IsRefusedAfterTheFreeListChanged()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        PrefixHit hit = kv.FindCachedPrefix(Kv.Range(1, 12), default);
        Assert.Equal(8, hit.NumCachedTokens);
        kv.Free(a);
        var ex = Assert.Throws<InvalidOperationException>(() => kv.CanAllocate(hit, 12));
        Assert.Contains("stale PrefixHit", ex.Message);
    }

    [Fact]
    public void Allocate_WithAHitThatNoLongerMatches_ThrowsAndChangesNothing()
    {
        var kv = Kv.Make(gpuBlocks: 4, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 8));
        kv.CacheFullBlocks(a);
        kv.Free(a);
        PrefixHit hit = kv.FindCachedPrefix(Kv.Range(1, 9), default);
        Assert.Equal(8, hit.NumCachedTokens);
        // Evict both cached blocks (the free list is 2, 3, 1, 0: all four are taken).
        BlockTable other = Kv.Admit(kv, Kv.Range(500, 16));
        kv.Free(other);
        int free = kv.GpuPool.NumFreeBlocks;
        var ex = Assert.Throws<InvalidOperationException>(() => kv.Allocate(Kv.Range(1, 9), hit, 9, default));
        Assert.Contains("stale PrefixHit", ex.Message);
        Assert.Equal(free, kv.GpuPool.NumFreeBlocks);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Allocate_BadArguments_NameTheParameter()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        int[] p = Kv.Range(0, 8);
        Assert.Equal("numTokens", Assert.Throws<ArgumentOutOfRangeException>(() => kv.Allocate(p, default, 9, default)).ParamName);
        Assert.Equal("numTokens", Assert.Throws<ArgumentOutOfRangeException>(() => kv.Allocate(p, default, -1, default)).ParamName);
        Assert.Equal("hit", Assert.Throws<ArgumentException>(() => kv.Allocate(p, new PrefixHit(3), 8, default)).ParamName);
        Assert.Equal("hit", Assert.Throws<ArgumentException>(() => kv.Allocate(p, new PrefixHit(8), 8, default)).ParamName);
    }

    [Fact]
    public void PrefixCachingDisabled_NeverHits()
    {
        var kv = Kv.Make(prefixCaching: false);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        Assert.Equal(0, kv.GetStats().CachedBlocks);
        Assert.Equal(0, kv.FindCachedPrefix(Kv.Range(1, 12), default).NumCachedTokens);
        KvInvariants.Check(kv);
    }

    [Theory]
    [InlineData(0, 4, 0, "NumGpuBlocks")]
    [InlineData(8, 0, 0, "BlockSizeTokens")]
    [InlineData(8, -1, 0, "BlockSizeTokens")]
    [InlineData(8, 4, -1, "NumCpuBlocks")]
    [InlineData(int.MaxValue, 16, 0, "NumGpuBlocks")]
    public void Options_Validate_NamesTheBadField(int gpu, int bs, int cpu, string field)
    {
        var o = new KvCacheOptions { NumGpuBlocks = gpu, BlockSizeTokens = bs, NumCpuBlocks = cpu };
        var ex = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Equal(field, ex.ParamName);
        Assert.Throws<ArgumentException>(() => new KvCacheManager(o));
    }
}

public class AllocateHitReuseTests
{
    [Fact]
    public void Allocate_WithTheLatestHitButOtherTokens_Throws()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        PrefixHit hit = kv.FindCachedPrefix(Kv.Range(1, 12), default);
        Assert.Equal(8, hit.NumCachedTokens);
        int[] other = [.. Kv.Range(1, 4), 99, 6, 7, 8, 9, 10, 11, 12];
        var ex = Assert.Throws<InvalidOperationException>(() => kv.Allocate(other, hit, 12, default));
        Assert.Contains("tokens of block 1 differ", ex.Message);
        ex = Assert.Throws<InvalidOperationException>(() => kv.Allocate(Kv.Range(1, 12), hit, 12, new CacheKey("s")));
        Assert.Contains("key differs", ex.Message);
        Assert.Single(kv.LiveTables);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Allocate_WithAnOlderHitStillValid_FindsItsBlocksAgain()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        PrefixHit first = kv.FindCachedPrefix(Kv.Range(1, 12), default);
        PrefixHit second = kv.FindCachedPrefix([.. Kv.Range(1, 4), 50, 51], default);   // overwrites the reuse slot
        Assert.Equal(4, second.NumCachedTokens);
        BlockTable b = kv.Allocate(Kv.Range(1, 12), first, 12, default);
        Assert.Equal(new[] { 0, 1, 3 }, b.Blocks.ToArray());
        KvInvariants.Check(kv);
    }
}
