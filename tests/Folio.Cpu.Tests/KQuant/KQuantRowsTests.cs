using Folio.Core.Compute;

namespace Folio.Cpu.Tests.KQuant;

/// <summary>A k-quant tensor's blocks are read only when a backend keeps them: a declined tensor (the backend
/// quantizes its own way, or has no k-quant kernels) is read once, as fp32, not twice.</summary>
public class KQuantRowsTests
{
    private const int Rows = 2, Cols = 256, Bytes = Rows * 144;   // Q4_K: 144 bytes per 256 weights

    [Fact]
    public void BlocksAreReadOnFirstUseAndOnce()
    {
        int reads = 0;
        var rows = new KQuantRows("blk.0.ffn_up.weight", KQuantFormat.Q4K, Rows, Cols, Bytes, b => { reads++; Assert.Equal(Bytes, b.Length); });
        Assert.Equal(0, reads);
        Assert.Equal(Bytes, rows.Blocks.Length);
        Assert.Same(rows.Blocks, rows.Blocks);
        Assert.Equal(1, reads);
    }

    [Fact]
    public void TheCpuBackendReadsTheBlocksOnceIntoItsOwnBufferAndKeepsNoCopy()
    {
        int reads = 0;
        var source = new byte[Bytes];   // all-zero blocks: finite scales
        var rows = new KQuantRows("blk.0.ffn_up.weight", KQuantFormat.Q4K, Rows, Cols, Bytes, b => { reads++; source.CopyTo(b); });
        using var backend = new CpuBackend(1);
        Assert.NotNull(backend.UploadKQuantWeight([rows]));
        Assert.Equal(1, reads);
        var e = Assert.Throws<ArgumentException>(() => rows.CopyBlocksTo(new byte[Bytes - 1]));
        Assert.Contains("blk.0.ffn_up.weight", e.Message);
    }

    [Fact]
    public void ABackendThatQuantizesItsOwnWayNeverReadsTheBlocks()
    {
        int reads = 0;
        var rows = new KQuantRows("blk.0.ffn_up.weight", KQuantFormat.Q4K, Rows, Cols, Bytes, _ => reads++);
        using var backend = new CpuBackend(1, WeightQuantization.Int4);
        Assert.Null(backend.UploadKQuantWeight([rows]));
        Assert.Equal(0, reads);
    }

    [Fact]
    public void ADeclaredLengthThatDoesNotFitTheShapeIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new KQuantRows("blk.1.attn_v.weight", KQuantFormat.Q4K, Rows, Cols, Bytes + 1, _ => { }));
        Assert.Contains("blk.1.attn_v.weight", e.Message);
    }
}
