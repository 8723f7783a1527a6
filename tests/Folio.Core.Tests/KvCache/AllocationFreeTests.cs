using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

[Collection(nameof(AllocationCollection))]
public class AllocationFreeTests
{
    [Fact]
    public void Append_InSteadyState_AllocatesNothing()
    {
        var kv = Kv.Make(gpuBlocks: 64, blockSize: 1024);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 3));
        var copies = new List<BlockCopy>();
        int token = 7;
        // Warm up so that JIT and tiering do not count.
        for (int i = 0; i < 100; i++)
            kv.Append(t, new ReadOnlySpan<int>(in token), copies);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 800; i++)
        {
            kv.Append(t, new ReadOnlySpan<int>(in token), copies);
            sum += t.SlotOf(t.NumTokens - 1);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(903, t.NumTokens);
        Assert.Equal(Enumerable.Range(103, 800).Sum(), sum);   // slots 103..902 of block 0
    }

    [Fact]
    public void Append_IntoANewBlockWithinTheTablesCapacity_AllocatesNothing()
    {
        var kv = Kv.Make(gpuBlocks: 64, blockSize: 4);
        var copies = new List<BlockCopy>(4);
        int token = 7;
        // Warm-up table exercises the same paths.
        BlockTable w = Kv.Admit(kv, Kv.Range(0, 3));
        for (int i = 0; i < 10; i++)
            kv.Append(w, new ReadOnlySpan<int>(in token), copies);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 3));   // the table's id array holds 4 blocks
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 13; i++)
            kv.Append(t, new ReadOnlySpan<int>(in token), copies);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(4, t.NumBlocks);
    }
}
