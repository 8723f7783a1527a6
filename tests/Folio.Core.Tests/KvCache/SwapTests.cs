using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

public class SwapTests
{
    [Fact]
    public void SwapOut_ThenIn_ReportsMoves_AndFreesTheSource()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, cpuBlocks: 4);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 6));
        var moves = new List<BlockMove>();
        Assert.True(kv.CanSwapOut([t]));
        kv.SwapOut([t], moves);
        Assert.Equal(new[] { new BlockMove(0, 0), new BlockMove(1, 1) }, moves);
        Assert.Equal(BlockLocation.Cpu, t.Location);
        Assert.Equal(8, kv.GpuPool.NumFreeBlocks);
        Assert.Equal(2, kv.GetStats().CpuUsedBlocks);
        Assert.Equal(new[] { 4, 5 }, kv.CpuPool!.TokensOf(1).ToArray());
        KvInvariants.Check(kv);

        Assert.Throws<InvalidOperationException>(() => kv.CanAppend(t, 1));
        moves.Clear();
        Assert.True(kv.CanSwapIn([t]));
        kv.SwapIn([t], moves);
        // Freed uncached blocks were pushed on the head last-first, so the head is 0, 1 again.
        Assert.Equal(new[] { new BlockMove(0, 0), new BlockMove(1, 1) }, moves);
        Assert.Equal(new[] { 0, 1 }, t.Blocks.ToArray());
        Assert.Equal(BlockLocation.Gpu, t.Location);
        Assert.Equal(0, kv.GetStats().CpuUsedBlocks);
        Assert.Equal(new[] { 4, 5 }, kv.GpuPool.TokensOf(1).ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void SwapOut_AGroupSharingBlocks_MovesEachBlockOnce()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, cpuBlocks: 3);
        BlockTable p = Kv.Admit(kv, Kv.Range(0, 6));
        BlockTable c = kv.Fork(p);
        kv.Append(c, [50], new List<BlockCopy>());   // c: 0, 2 (copy); p: 0, 1
        var moves = new List<BlockMove>();
        Assert.True(kv.CanSwapOut([p, c]));
        kv.SwapOut([p, c], moves);
        Assert.Equal(new[] { new BlockMove(0, 0), new BlockMove(1, 1), new BlockMove(2, 2) }, moves);
        Assert.Equal(new[] { 0, 1 }, p.Blocks.ToArray());
        Assert.Equal(new[] { 0, 2 }, c.Blocks.ToArray());
        Assert.Equal(2, kv.CpuPool!.RefCount(0));
        Assert.Equal(8, kv.GpuPool.NumFreeBlocks);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void CanSwapOut_IsFalseWithoutRoom_AndWithoutACpuPool()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, cpuBlocks: 1);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 6));
        Assert.False(kv.CanSwapOut([t]));
        Assert.Throws<InvalidOperationException>(() => kv.SwapOut([t], new List<BlockMove>()));
        Assert.Equal(BlockLocation.Gpu, t.Location);

        var noCpu = Kv.Make();
        BlockTable u = Kv.Admit(noCpu, Kv.Range(0, 6));
        Assert.False(noCpu.CanSwapOut([u]));
        KvInvariants.Check(kv);
    }

    [Fact]
    public void SwapGroup_WithATableTwice_IsRefused()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, cpuBlocks: 8);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 6));
        var ex = Assert.Throws<InvalidOperationException>(() => kv.CanSwapOut([t, t]));
        Assert.Contains("appears twice", ex.Message);
    }

    [Fact]
    public void CanSwapIn_IsFalseWhenTheGpuIsFull()
    {
        var kv = Kv.Make(gpuBlocks: 2, blockSize: 4, cpuBlocks: 2);
        BlockTable t = Kv.Admit(kv, Kv.Range(0, 8));
        kv.SwapOut([t], new List<BlockMove>());
        BlockTable other = Kv.Admit(kv, Kv.Range(0, 5));
        Assert.False(kv.CanSwapIn([t]));
        kv.Free(other);
        Assert.True(kv.CanSwapIn([t]));
        KvInvariants.Check(kv);
    }
}
