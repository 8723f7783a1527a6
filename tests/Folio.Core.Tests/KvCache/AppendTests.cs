using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

[Collection(nameof(AllocationCollection))]
public class AppendTests
{
    [Fact]
    public void Append_IntoAPrivatePartialBlock_TakesNoBlock()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 5));
        var copies = new List<BlockCopy>();
        Assert.True(kv.CanAppend(t, 3));
        kv.Append(t, [70, 71, 72], copies);
        Assert.Equal(8, t.NumTokens);
        Assert.Equal(new[] { 0, 1 }, t.Blocks.ToArray());
        Assert.Equal(new[] { 4, 70, 71, 72 }, kv.GpuPool.TokensOf(1).ToArray());
        Assert.Empty(copies);
        Assert.Equal(6, kv.GpuPool.NumFreeBlocks);
        Assert.Equal(7, t.SlotOf(7));
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Append_AcrossBlockBoundaries_TakesBlocksFromTheFreeHead()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 3));
        var copies = new List<BlockCopy>();
        Assert.True(kv.CanAppend(t, 7));
        kv.Append(t, Kv.Range(3, 7), copies);
        Assert.Equal(10, t.NumTokens);
        Assert.Equal(new[] { 0, 1, 2 }, t.Blocks.ToArray());
        Assert.Equal(new[] { 4, 5, 6, 7 }, kv.GpuPool.TokensOf(1).ToArray());
        Assert.Equal(new[] { 8, 9 }, kv.GpuPool.TokensOf(2).ToArray());
        Assert.Empty(copies);
        Assert.Equal(new KvCacheStats(8, 3, 5, 0, 0, 0, 10, 12, 3, 0), kv.GetStats());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CanAppend_IsExactAtTheLastFreeBlock()
    {
        var kv = Kv.Make(gpuBlocks: 2, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 5));
        Assert.True(kv.CanAppend(t, 3));
        Assert.False(kv.CanAppend(t, 4));
        Assert.True(kv.CanAppend(t, 0));
        kv.Append(t, [1, 2, 3], new List<BlockCopy>());
        Assert.False(kv.CanAppend(t, 1));
        var ex = Assert.Throws<InvalidOperationException>(() => kv.Append(t, [9], new List<BlockCopy>()));
        Assert.Contains("needs 1 free blocks, 0 are free", ex.Message);
        Assert.Equal(8, t.NumTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Append_NothingIsANoOp()
    {
        var kv = Kv.Make();
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 4));
        kv.Append(t, ReadOnlySpan<int>.Empty, new List<BlockCopy>());
        Assert.Equal(4, t.NumTokens);
        Assert.Equal(1, t.NumBlocks);
    }

    [Fact]
    public void Append_ToAnEmptySequence_TakesABlock()
    {
        var kv = Kv.Make(gpuBlocks: 2, blockSize: 4);
        BlockTable t = kv.Allocate(ReadOnlySpan<int>.Empty, default, 0, default);
        Assert.Equal(0, t.NumBlocks);
        Assert.True(kv.CanAppend(t, 1));
        kv.Append(t, [42], new List<BlockCopy>());
        Assert.Equal(new[] { 0 }, t.Blocks.ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CacheFullBlocks_RegistersOnlyFullBlocks_AndNewOnesLater()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 6));
        kv.CacheFullBlocks(t);
        Assert.True(kv.GpuPool.IsCached(0));
        Assert.False(kv.GpuPool.IsCached(1));
        kv.Append(t, [6, 7], new List<BlockCopy>());
        kv.CacheFullBlocks(t);
        Assert.True(kv.GpuPool.IsCached(1));
        Assert.Equal(2, kv.GetStats().CachedBlocks);
        Assert.Equal(8, kv.FindCachedPrefix(Kv.Range(0, 9), default).NumCachedTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CacheFullBlocks_SameContentsInTwoSequences_CachesOneBlock()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        // Admitted before either is cached: both compute the same prefix into their own blocks.
        BlockTable a = Kv.Admit(kv, Kv.Range(0, 8));
        BlockTable b = Kv.Admit(kv, Kv.Range(0, 8));
        kv.CacheFullBlocks(a);
        kv.CacheFullBlocks(b);
        Assert.Equal(2, kv.GetStats().CachedBlocks);
        Assert.True(kv.GpuPool.IsCached(0) && kv.GpuPool.IsCached(1));
        Assert.False(kv.GpuPool.IsCached(2) || kv.GpuPool.IsCached(3));
        KvInvariants.Check(kv);
    }

    [Fact]
    public void DeadTable_IsRefusedByEveryCall()
    {
        var kv = Kv.Make(cpuBlocks: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 5));
        kv.Free(t);
        Assert.False(t.IsAlive);
        Assert.Throws<InvalidOperationException>(() => kv.CanAppend(t, 1));
        Assert.Throws<InvalidOperationException>(() => kv.Append(t, [1], new List<BlockCopy>()));
        Assert.Throws<InvalidOperationException>(() => kv.CacheFullBlocks(t));
        Assert.Throws<InvalidOperationException>(() => kv.Fork(t));
        Assert.Throws<InvalidOperationException>(() => kv.Free(t));
        Assert.Throws<InvalidOperationException>(() => kv.CanSwapOut([t]));
        KvInvariants.Check(kv);
    }

    [Fact]
    public void TableOfAnotherManager_IsRefused()
    {
        var kv1 = Kv.Make();
        var kv2 = Kv.Make();
        BlockTable t = Kv.Admit(kv1, Kv.Range(0, 5));
        var ex = Assert.Throws<InvalidOperationException>(() => kv2.Free(t));
        Assert.Contains("another KvCacheManager", ex.Message);
    }

    [Fact]
    public void EnsureCapacity_SizesTheIdArray_AndRejectsANegativeLength()
    {
        var kv = Kv.Make(gpuBlocks: 64, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 1));
        t.EnsureCapacity(100);   // 25 blocks
        var copies = new List<BlockCopy>();
        int token = 1;
        kv.Append(t, new ReadOnlySpan<int>(in token), copies);   // warm the path
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 98; i++)
            kv.Append(t, new ReadOnlySpan<int>(in token), copies);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(25, t.NumBlocks);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.EnsureCapacity(-1));
    }
}
