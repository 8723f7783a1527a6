using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

/// <summary>KvInvariants.Check names the broken invariant (state corrupted on purpose through internals).</summary>
public class KvInvariantsTests
{
    [Fact]
    public void HealthyState_Passes()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, cpuBlocks: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(0, 9));
        kv.CacheFullBlocks(a);
        BlockTable b = kv.Fork(a);
        kv.SwapOut([b], new List<BlockMove>());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void ABlockHeldByNoTable_IsALeak()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        kv.GpuPool.Revive(5);   // taken off the free list, but no table holds it
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.Equal("GPU block 5 has reference count 1 but 0 live tables hold it.", ex.Message);
    }

    [Fact]
    public void AFreeBlockWithATable_IsCaught()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 4));
        kv.GpuPool.Release(t.Blocks[0]);   // the table still holds it
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.Equal("GPU block 0 has reference count 0 but 1 live tables hold it.", ex.Message);
    }

    [Fact]
    public void ACachedFlagWithoutAMapEntry_IsCaught()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 4));
        kv.GpuPool.SetCached(t.Blocks[0], 77);
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.Equal("prefix cache maps 0 hashes but 1 blocks are cached.", ex.Message);
    }

    [Fact]
    public void AMapEntryWhoseTokensHashElsewhere_IsCaught()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 4));
        kv.Cache!.TryInsert(t.Blocks[0], -1, 0, hash: 77, extraKey: 0, default);
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.StartsWith("prefix cache: block 0's recorded tokens hash to ", ex.Message);
        Assert.EndsWith(", not its key 000000000000004d.", ex.Message);
    }

    [Fact]
    public void AWrongTokenCount_IsCaught()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 5));
        kv.GpuPool.Record(t.Blocks[1], 99);   // a token the table does not know about
        var ex = Assert.Throws<KvInvariantException>(() => KvInvariants.Check(kv));
        Assert.Equal("table #0 expects 1 tokens in Gpu block 1 (logical 1); it records 2.", ex.Message);
    }
}
