using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

public class ForkFreeTests
{
    [Fact]
    public void Fork_SharesEveryBlock_AndAllocatesNone()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable p = Kv.Admit(kv, Kv.Range(0, 6));
        BlockTable c = kv.Fork(p);
        Assert.Equal(p.Blocks.ToArray(), c.Blocks.ToArray());
        Assert.Equal(6, c.NumTokens);
        Assert.Equal(6, kv.GpuPool.NumFreeBlocks);
        Assert.Equal(2, kv.GpuPool.RefCount(0));
        Assert.Equal(2, kv.GpuPool.RefCount(1));
        Assert.Equal(2, kv.GetStats().SharedBlocks);
        Assert.Equal(6, kv.GetStats().TokenStates);   // a shared block counts once
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Append_AfterForkIntoAFullLastBlock_CopiesNothing()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable p = Kv.Admit(kv, Kv.Range(0, 8));
        BlockTable c = kv.Fork(p);
        var copies = new List<BlockCopy>();
        kv.Append(c, [99], copies);
        Assert.Empty(copies);
        Assert.Equal(new[] { 0, 1, 2 }, c.Blocks.ToArray());
        Assert.Equal(new[] { 0, 1 }, p.Blocks.ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Free_PutsCachedBlocksAtTheTailInReverseOrder_UncachedAtTheHead()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(0, 10));   // blocks 0, 1 full; 2 partial
        kv.CacheFullBlocks(a);
        kv.Free(a);
        // Block 2 was never cached: evicted first. 1 before 0: a sequence's tail goes before its head.
        Assert.Equal(new[] { 2, 3, 4, 5, 6, 7, 1, 0 }, Kv.FreeList(kv.GpuPool));
        Assert.Equal(new KvCacheStats(8, 0, 8, 2, 0, 0, 0, 0, 10, 0), kv.GetStats());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Eviction_UnderPressure_TakesTheLeastRecentlyUsedCachedBlocksFirst()
    {
        var kv = Kv.Make(gpuBlocks: 4, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(0, 12));
        kv.CacheFullBlocks(a);
        kv.Free(a);
        Assert.Equal(new[] { 3, 2, 1, 0 }, Kv.FreeList(kv.GpuPool));
        // Two new blocks: the uncached 3, then cached 2 (the tail of a) is evicted.
        BlockTable b = Kv.Admit(kv, Kv.Range(100, 8));
        Assert.Equal(new[] { 3, 2 }, b.Blocks.ToArray());
        Assert.False(kv.GpuPool.IsCached(2));
        Assert.Equal(2, kv.GetStats().CachedBlocks);
        Assert.Equal(8, kv.FindCachedPrefix(Kv.Range(0, 12), default).NumCachedTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Free_OfOneHolder_KeepsSharedBlocksUsed()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable p = Kv.Admit(kv, Kv.Range(0, 6));
        BlockTable c = kv.Fork(p);
        kv.Free(p);
        Assert.Equal(1, kv.GpuPool.RefCount(0));
        Assert.Equal(6, kv.GpuPool.NumFreeBlocks);
        Assert.Single(kv.LiveTables);
        kv.Append(c, [1], new List<BlockCopy>());   // no longer shared: written in place
        Assert.Equal(new[] { 0, 1 }, c.Blocks.ToArray());
        kv.Free(c);
        Assert.Equal(8, kv.GpuPool.NumFreeBlocks);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Fork_ClearsTheParentsPrivateLastBlockMark_SoTheDecodeFastPathCopiesFirst()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        var p = Kv.Admit(kv, Kv.Range(0, 5));   // blocks 0 (full) and 1 (1 of 4 tokens)
        Assert.Equal((long)p.Blocks[1] * 4 + 1, kv.TryAppendDecode(p, 5));   // private: written in place
        var c = kv.Fork(p);
        Assert.Equal(-1, kv.TryAppendDecode(p, 6));   // shared now: the caller must go through Append (copy-on-write)
        Assert.Equal(-1, kv.TryAppendDecode(c, 6));
        Assert.Equal(6, p.NumTokens);
        var copies = new List<BlockCopy>();
        kv.Append(p, [6], copies);
        Assert.Single(copies);
        Assert.NotEqual(c.Blocks[1], p.Blocks[1]);
        Assert.Equal((long)p.Blocks[1] * 4 + 3, kv.TryAppendDecode(p, 7));   // its own copy: private again
        // The child now holds its block alone but is not marked so until an Append has checked (a safe miss).
        Assert.Equal(-1, kv.TryAppendDecode(c, 9));
        kv.Append(c, [9], copies);
        Assert.Single(copies);   // written in place
        Assert.Equal((long)c.Blocks[1] * 4 + 3, kv.TryAppendDecode(c, 10));
        Assert.Equal(new[] { 4, 5, 6, 7 }, kv.GpuPool.TokensOf(p.Blocks[1]).ToArray());
        Assert.Equal(new[] { 4, 5, 9, 10 }, kv.GpuPool.TokensOf(c.Blocks[1]).ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Invariants_DetectAPrivateMarkOnASharedPartialBlock()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        var p = Kv.Admit(kv, Kv.Range(0, 6));
        kv.Fork(p);
        p.LastBlockPrivate = true;   // corrupt on purpose (internal): a decode would now write into the child's block
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.Equal($"table #0 is marked as holding its partial last block {p.Blocks[1]} alone, but 2 tables hold it.", ex.Message);
    }

    [Fact]
    public void Invariants_DetectABrokenReferenceCount()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        Kv.Admit(kv, Kv.Range(0, 6));
        kv.GpuPool.AddRef(1);   // corrupt on purpose (internal)
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.Equal("GPU block 1 has reference count 2 but 1 live tables hold it.", ex.Message);
    }
}
