using Folio.Core.Compute;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>16-bit weights: widened in registers, so the GEMM must give the very bits of the fp32 GEMM over the
/// same (exactly representable) values, on every tile path and odd shape.</summary>
public sealed class HalfGemmTests
{
    internal static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static float[] RoundTo(DType type, float[] v) => type == DType.BF16
        ? v.Select(f => BitConverter.Int32BitsToSingle((int)((BitConverter.SingleToUInt32Bits(f) + 0x7FFF + ((BitConverter.SingleToUInt32Bits(f) >> 16) & 1)) & 0xFFFF0000))).ToArray()
        : v.Select(f => (float)(Half)f).ToArray();

    /// <summary>x [rows, k] times w on the backend (with bias b), downloaded.</summary>
    internal static float[] MatMul(CpuBackend backend, float[] x, int rows, int k, DeviceTensor w, float[]? b)
    {
        using var tx = backend.Upload(x, rows, k);
        using var tb = b is null ? null : backend.Upload(b, 1, b.Length);
        using var ty = backend.Allocate(rows, w.Rows);
        backend.MatMul(tx, w, tb, ty);
        var y = new float[rows * w.Rows];
        backend.Download(ty, y);
        return y;
    }

    [Theory]
    [InlineData(DType.BF16, 1, 1, 1)]
    [InlineData(DType.BF16, 1, 19, 99)]
    [InlineData(DType.BF16, 7, 768, 200)]
    [InlineData(DType.BF16, 13, 33, 272)]
    [InlineData(DType.BF16, 64, 65, 130)]
    [InlineData(DType.BF16, 12, 40, 96)]   // an 8-row and a 4-row 512-bit tile, whole 32-column pairs only
    [InlineData(DType.BF16, 32, 64, 2304)]   // 32 sequences against b8 fused QKV width
    [InlineData(DType.F16, 1, 19, 99)]
    [InlineData(DType.F16, 9, 77, 13)]
    [InlineData(DType.F16, 33, 64, 130)]
    [InlineData(DType.F16, 12, 19, 48)]
    public void EqualsTheFp32PathBitForBit(DType type, int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(2, codeBf16: false);
        float[] x = Random(rows * k, 1), w = RoundTo(type, Random(outCols * k, 2)), b = Random(outCols, 3);
        if (type == DType.F16)
            w[0] = 3e-6f * Math.Sign(w[0] + 0.5f);   // a subnormal fp16 value takes the rebias path
        w = RoundTo(type, w);
        using var wide = backend.UploadWeight(w, outCols, k);
        using var half = backend.UploadWeight(w, outCols, k, type);
        Assert.IsType<HalfWeight>(half);
        Assert.Equal(type, half.DType);
        float[] want = MatMul(backend, x, rows, k, wide, b), got = MatMul(backend, x, rows, k, half, b);
        Assert.Equal(want, got);
        // And against an independent double-precision reference.
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
            {
                double dot = b[o];
                for (int i = 0; i < k; i++)
                    dot += (double)x[r * k + i] * w[o * k + i];
                Assert.True(Math.Abs(got[r * outCols + o] - dot) <= 1e-5 * (1 + Math.Abs(dot)), $"y[{r},{o}]");
            }
        // Both weights' stored bytes: fp32 in whole 16-column panels (4 bytes a weight), 16 bits in whole 32-column ones.
        Assert.Equal((outCols + 15) / 16 * 16L * k * 4 + (outCols + 31) / 32 * 32L * k * 2, backend.WeightBytes);
    }

    /// <summary>Both tile sets on every CPU: the 256-bit ones (6 × 16 over half panels, 1 × 64, 1 × 32), which the
    /// backend runs where Vector512 is not hardware-accelerated, and the 512-bit ones; whichever is not native here
    /// is emulated by .NET with the same bits. Shapes: 6-row groups plus leftover rows, partial last panels, a
    /// 64-column pair plus a single panel, bias and none.</summary>
    [Theory]
    [InlineData(DType.BF16, 1, 1, 1, true)]
    [InlineData(DType.BF16, 1, 19, 99, true)]
    [InlineData(DType.BF16, 6, 33, 32, false)]
    [InlineData(DType.BF16, 7, 768, 200, true)]
    [InlineData(DType.BF16, 13, 33, 272, false)]
    [InlineData(DType.BF16, 32, 64, 2304, true)]
    [InlineData(DType.F16, 9, 77, 13, true)]
    [InlineData(DType.F16, 17, 19, 96, false)]
    [InlineData(DType.F16, 12, 40, 130, true)]
    [InlineData(DType.F16, 12, 600, 70, false)]
    // Row blocks of 32 with k in slices of 128: a full block widened to scratch, then 8 rows in registers, 1 alone
    // (k = 300: two whole slices and a partial one); 20 rows (widened: 8, 8, 4) over one slice and one column.
    [InlineData(DType.BF16, 41, 300, 96, true)]
    [InlineData(DType.BF16, 20, 129, 33, false)]
    [InlineData(DType.F16, 37, 257, 64, true)]
    [InlineData(DType.F16, 16, 128, 40, false)]
    [InlineData(DType.BF16, 70, 130, 64, true)]   // over 64 rows: every block widens in registers
    public void EachTileSetEqualsTheFp32PathBitForBit(DType type, int rows, int k, int outCols, bool withBias)
    {
        using var backend = new CpuBackend(2, codeBf16: false);
        float[] x = Random(rows * k, 4), w = Random(outCols * k, 5), b = Random(outCols, 6);
        if (type == DType.F16)
            w[^1] = -3e-6f;   // a subnormal fp16 value takes the rebias path
        w = RoundTo(type, w);
        using var fp32 = backend.UploadWeight(w, outCols, k);
        using var uploaded = backend.UploadWeight(w, outCols, k, type);
        var half = Assert.IsType<HalfWeight>(uploaded);
        float[]? bias = withBias ? b : null;
        float[] want = MatMul(backend, x, rows, k, fp32, bias);
        var runner = new ParallelRunner(2);
        foreach (bool wide in new[] { false, true })
            foreach (bool scratch in new[] { false, true })   // decode blocks widened to scratch or in registers
            {
                var got = new float[rows * outCols];
                Array.Fill(got, float.NaN);
                if (type == DType.BF16)
                    HalfGemm<Bf16Panel>.Run(x, rows, half, bias, got, runner, wide, scratch);
                else
                    HalfGemm<F16Panel>.Run(x, rows, half, bias, got, runner, wide, scratch);
                Assert.Equal(want, got);
            }
    }

    [Fact]
    public void AValueTheFormatCannotHoldIsRefusedNamingTheElement()
    {
        using var backend = new CpuBackend(1, codeBf16: false);
        float[] w = [1f, 0.1f, 2f, 4f];   // 0.1 is not a bfloat16 value
        var e = Assert.Throws<ArgumentException>(() => backend.UploadWeight(w, 2, 2, DType.BF16));
        Assert.Contains("[0, 1]", e.Message);
        Assert.Throws<ArgumentException>(() => backend.UploadWeight([1f, float.PositiveInfinity], 1, 2, DType.F16));
    }
}
