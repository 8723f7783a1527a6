using Folio.Core.Compute;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>Exponent-coded bf16 weights (12 bits a value): every value must decode to its own 16-bit pattern, and the
/// GEMM must give the very bits of the plain 16-bit panels (and so of the fp32 path) on every row count and odd shape,
/// with exception rows (exponents outside a panel's table), zeros, subnormals and infinities among the weights. On a
/// CPU without AVX-512 BW the backend must refuse to code them when asked and keep plain panels by default.</summary>
public sealed class CodedBf16GemmTests
{
    /// <summary>Random bf16 values around ±scale, with zeros, subnormals, infinities and far-out exponents sprinkled
    /// in (every 97th, 89th, 1009th and 61st element), so that panels hold exception rows.</summary>
    private static float[] Bf16Weights(int n, int seed, bool specials = true)
    {
        var rng = new Random(seed);
        var w = new float[n];
        for (int i = 0; i < n; i++)
        {
            float v = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            if (specials && i % 97 == 5)
                v = i % 2 == 0 ? 0f : -0f;
            else if (specials && i % 89 == 7)
                v = (i % 2 == 0 ? 1 : -1) * 3e-39f;   // a subnormal bf16 value: exponent 0, mantissa kept whole
            else if (specials && i % 1009 == 11)
                v = i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity;
            else if (specials && i % 61 == 3)
                v *= i % 3 == 0 ? 1e-12f : 1e9f;      // exponents outside a panel's 15 most frequent
            w[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) & unchecked((int)0xFFFF0000));
        }
        return w;
    }

    [Theory]
    [InlineData(1, 1, 1, true)]
    [InlineData(1, 19, 99, true)]      // k not a multiple of 4 (a last partial group), a partial last panel
    [InlineData(1, 768, 200, false)]
    [InlineData(1, 768, 2304, true)]   // b8's fused QKV width, one row: the decode tile
    [InlineData(2, 33, 64, true)]
    [InlineData(3, 19, 99, false)]     // the 3-row decoding tile over a last partial group, a partial last panel
    [InlineData(3, 768, 200, true)]
    [InlineData(7, 768, 200, true)]
    [InlineData(13, 33, 272, false)]   // over one 256-column block of a chunk
    [InlineData(32, 64, 2304, true)]
    [InlineData(41, 300, 96, true)]
    [InlineData(70, 130, 65, false)]
    public void EqualsThePlainPanelsBitForBit(int rows, int k, int outCols, bool withBias)
    {
        if (!CodedBf16Weight.IsSupported)
        {
            Assert.Throws<ArgumentException>(() => new CpuBackend(2, codeBf16: true));
            using var byDefault = new CpuBackend(2);
            Assert.False(byDefault.CodeBf16);
            return;
        }
        using var coded = new CpuBackend(2, codeBf16: true);
        using var plain = new CpuBackend(2, codeBf16: false);
        float[] x = HalfGemmTests.Random(rows * k, 61), w = Bf16Weights(outCols * k, 62), b = HalfGemmTests.Random(outCols, 63);
        using var cw = coded.UploadWeight(w, outCols, k, DType.BF16);
        using var pw = plain.UploadWeight(w, outCols, k, DType.BF16);
        Assert.IsType<CodedBf16Weight>(cw);
        Assert.IsType<HalfWeight>(pw);
        float[]? bias = withBias ? b : null;
        Assert.Equal(HalfGemmTests.MatMul(plain, x, rows, k, pw, bias), HalfGemmTests.MatMul(coded, x, rows, k, cw, bias));
    }

    // Bits and DecodePanel decode with AVX-512 BW (EqualsThePlainPanelsBitForBit checks the refusal elsewhere).
    [KernelTheory(CpuKernel.CodedBf16)]
    [InlineData(1, 1)]
    [InlineData(33, 19)]
    [InlineData(64, 768)]
    [InlineData(100, 130)]
    public void EveryValueDecodesToItsOwnBits(int outCols, int k)
    {
        float[] w = Bf16Weights(outCols * k, 71);
        using var backend = new CpuBackend(1, codeBf16: false);
        var half = Assert.IsType<HalfWeight>(backend.UploadWeight(w, outCols, k, DType.BF16));
        using var runner = new ParallelRunner(2);
        var coded = CodedBf16Weight.Encode(half, runner);
        for (int o = 0; o < outCols; o++)
            for (int i = 0; i < k; i++)
                Assert.True(half.Bits(o, i) == coded.Bits(o, i), $"[{o}, {i}]: {half.Bits(o, i):x4} decoded as {coded.Bits(o, i):x4}");
        // A panel decoded whole is the plain panel's words (padding columns included).
        var words = new uint[k * 16];
        for (int p = 0; p < coded.PanelCount; p++)
        {
            CodedBf16Gemm.DecodePanel(coded, p, words);
            Assert.Equal(half.Words.Span.Slice(p * k * 16, k * 16).ToArray(), words);
        }
        if (k >= 64)
            Assert.NotEmpty(coded.ExceptionRows);   // the sprinkled far-out exponents took the exception path
    }

    [KernelFact(CpuKernel.CodedBf16)]
    public void ATypicalWeightIsThreeQuartersOfItsPanelsAndHasNoExceptions()
    {
        const int outCols = 256, k = 768;
        float[] w = Bf16Weights(outCols * k, 81, specials: false);
        using var backend = new CpuBackend(1, codeBf16: false);
        var half = Assert.IsType<HalfWeight>(backend.UploadWeight(w, outCols, k, DType.BF16));
        using var runner = new ParallelRunner(2);
        var coded = CodedBf16Weight.Encode(half, runner);
        // Uniform values in ±0.05: exponents within 15 of the largest but for a tail of ~4e-5 of the values (about one row
        // in 800 of 32 values).
        Assert.True(coded.ExceptionRows.Length <= outCols / 32 * k / 200, $"{coded.ExceptionRows.Length} exception rows");
        double ratio = (double)coded.StoredBytes / half.StoredBytes;
        Assert.InRange(ratio, 0.75, 0.76);
    }

    [Fact]
    public void TheBackendCodesBf16WhereItCanAndReportsTheKernel()
    {
        using var backend = new CpuBackend(1);
        Assert.Equal(CodedBf16Weight.IsSupported, backend.CodeBf16);
        using var w = backend.UploadWeight(Bf16Weights(64 * 32, 91), 64, 32, DType.BF16);
        if (CodedBf16Weight.IsSupported)
        {
            Assert.IsType<CodedBf16Weight>(w);
            Assert.Contains(CodedBf16Gemm.KernelName, backend.WeightKernels);
        }
        else
        {
            Assert.IsType<HalfWeight>(w);
        }
        // fp16 is never coded.
        using var f16 = backend.UploadWeight(new float[64 * 32], 64, 32, DType.F16);
        Assert.IsType<HalfWeight>(f16);
    }
}
