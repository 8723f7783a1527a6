using Folio.Core.Compute;
using Folio.Core.Models.Gguf;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>int4 weights × int8 activations: the kernel must equal a dequantize-then-fp32 reference (weights and
/// activations quantized independently here, by the documented rule) up to fp32 rounding, on odd shapes and every
/// tile path; the portable path gives the vector path's bits; the error against fp32 stays within the stated
/// bound; and GGUF Q4_0 tensors come back from int4 bit for bit.</summary>
public sealed class Int4GemmTests
{
    /// <summary>The documented rule, written independently: per 32 inputs of a column, m = the element of largest
    /// magnitude (first on ties), d = fp16(m / -8), q = clamp(round(w / d), -8, 7).</summary>
    internal static double[] DequantizeWeight(ReadOnlySpan<float> w, int outCols, int k)
    {
        var d = new double[outCols * k];
        for (int o = 0; o < outCols; o++)
            for (int g = 0; g < k; g += 32)
            {
                int end = Math.Min(k, g + 32);
                float m = 0;
                for (int i = g; i < end; i++)
                    if (Math.Abs(w[o * k + i]) > Math.Abs(m))
                        m = w[o * k + i];
                float scale = (float)(Half)(m / -8f);
                for (int i = g; i < end; i++)
                    d[o * k + i] = scale == 0 ? 0 : (double)scale * Math.Clamp(MathF.Round(w[o * k + i] / scale), -8, 7);
            }
        return d;
    }

    private static double[] DequantizeRow(ReadOnlySpan<float> row)
    {
        float amax = 0;
        foreach (float v in row)
            amax = Math.Max(amax, Math.Abs(v));
        float s = amax / 127f;
        var d = new double[row.Length];
        for (int i = 0; i < row.Length; i++)
            d[i] = s == 0 ? 0 : (double)s * Math.Clamp(MathF.Round(row[i] * (1f / s)), -127, 127);
        return d;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 19, 99)]
    [InlineData(1, 768, 256)]
    [InlineData(3, 33, 17)]
    [InlineData(4, 64, 40)]
    [InlineData(7, 100, 130)]
    [InlineData(13, 768, 200)]
    [InlineData(64, 65, 96)]
    [InlineData(10, 70, 2100)]   // two threads' chunks span several 256-column blocks; a partial last panel
    public void EqualsTheDequantizedReferenceAndIsBitIdenticalPerRow(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(2, WeightQuantization.Int4);
        float[] x = HalfGemmTests.Random(rows * k, 11, 3f), w = HalfGemmTests.Random(outCols * k, 12, 0.2f), b = HalfGemmTests.Random(outCols, 13);
        x[0] = 0;
        for (int i = 0; i < Math.Min(k, 32); i++)
            w[i] = 0;   // an all-zero group (scale 0)
        using var tw = backend.UploadWeight(w, outCols, k, DType.F32);
        var weight = Assert.IsType<Int4Weight>(tw);
        using var tx = backend.Upload(x, rows, k);
        using var tb = backend.Upload(b, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, tw, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        double[] wd = DequantizeWeight(w, outCols, k);
        for (int o = 0; o < outCols; o++)
            for (int i = 0; i < k; i++)
                Assert.Equal(wd[o * k + i], weight.Dequantized(o, i));
        for (int r = 0; r < rows; r++)
        {
            double[] xd = DequantizeRow(x.AsSpan(r * k, k));
            float xmax = x.Skip(r * k).Take(k).Max(Math.Abs);
            for (int o = 0; o < outCols; o++)
            {
                double dot = b[o], magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    dot += xd[i] * wd[o * k + i];
                    // The kernel's terms, and the nibbles' +8 offset (8 · Σ x_q taken out again per group).
                    magnitude += Math.Abs(xd[i] * wd[o * k + i]) + Math.Abs(8 * xd[i] * wd[o * k + i]);
                }
                Assert.True(Math.Abs(y[r * outCols + o] - dot) <= 1e-6 * magnitude + 1e-6, $"y[{r},{o}] = {y[r * outCols + o]}, reference {dot}");
            }
            using var one = backend.Upload(x.AsSpan(r * k, k), 1, k);
            using var oneOut = backend.Allocate(1, outCols);
            backend.MatMul(one, tw, tb, oneOut);
            var alone = new float[outCols];
            backend.Download(oneOut, alone);
            Assert.True(alone.AsSpan().SequenceEqual(y.AsSpan(r * outCols, outCols)), $"row {r} differs alone");
        }
    }

    [Theory]
    [InlineData(5, 200, 72)]
    [InlineData(9, 96, 40)]
    [InlineData(1, 33, 19)]
    [InlineData(11, 64, 1100)]   // one thread's chunks of 288 columns: whole and partial 256-column blocks
    public void ThePortablePathGivesTheVectorPathsBits(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(1, WeightQuantization.Int4);
        float[] x = HalfGemmTests.Random(rows * k, 21), w = HalfGemmTests.Random(outCols * k, 22);
        var weight = Assert.IsType<Int4Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        using var tx = backend.Upload(x, rows, k);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, weight, null, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        var act = new Int8Activations();
        act.Quantize(x, rows, k, groupSums: true);
        var portable = new float[rows * outCols];
        var runner = new ParallelRunner(1);
        Int4Gemm.RunQuantized(act, rows, weight, null, portable, runner, vectors: false, wide: false);
        Assert.Equal(y.Select(BitConverter.SingleToUInt32Bits), portable.Select(BitConverter.SingleToUInt32Bits));
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
                Assert.Equal(Int4Gemm.Element(act, r, weight, o), y[r * outCols + o]);
    }

    /// <summary>The 256-bit tiles and the 512-bit 8 × 16 tile (strips of 8 rows, then 4-row, 2-row and single-row
    /// leftovers) each give <see cref="Int4Gemm.Element"/> + bias bit for bit, on two threads, over partial panels and
    /// 256-column blocks, and so does the emitted AVX-512 VNNI tile where the CPU has it (with and without a bias). Without
    /// AVX-512 BW the wide path must refuse, not run.</summary>
    [Theory]
    [InlineData(8, 32, 16, false)]
    [InlineData(8, 32, 16, true)]
    [InlineData(19, 77, 45, false)]
    [InlineData(19, 77, 45, true)]
    [InlineData(33, 800, 600, true)]
    [InlineData(64, 96, 280, true)]
    [InlineData(15, 160, 24, true)]   // one 8-row strip, then 4 + 2 + 1; three panels: one pair and a single panel
    [InlineData(1, 1100, 264, false)]   // one row, one panel at a time, k past the prefetch distance (32 groups)
    [InlineData(3, 1100, 100, true)]   // a pair and a single row; a partial last panel
    [InlineData(40, 4096, 72, true)]   // five 8-row strips over 128 groups
    [InlineData(6, 96, 40, true)]      // no 8-row strip: the emitted tile's 6-row variant
    [InlineData(13, 200, 48, true)]    // a strip, then the 5-row variant
    public void EveryTileGivesTheElementsBits(int rows, int k, int outCols, bool wide)
    {
        using var backend = new CpuBackend(1, WeightQuantization.Int4);
        float[] x = HalfGemmTests.Random(rows * k, 51, 2f), w = HalfGemmTests.Random(outCols * k, 52, 0.3f), b = HalfGemmTests.Random(outCols, 53);
        var weight = Assert.IsType<Int4Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        var act = new Int8Activations();
        act.Quantize(x, rows, k, groupSums: true);
        var y = new float[rows * outCols];
        using var runner = new ParallelRunner(2);
        if (wide && !System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Int4Gemm.RunQuantized(act, rows, weight, b, y, runner, vectors: true, wide: true));
            return;
        }
        // Then the emitted AVX-512 VNNI tile for the 8-row strips (Int4EmittedTile), with the bias and without.
        var runs = new List<(bool Emitted, float[]? Bias)> { (false, b) };
        if (wide && Int4EmittedTile.Available)
            runs.AddRange([(true, b), (true, null)]);
        foreach (var (emitted, bias) in runs)
        {
            Array.Fill(y, float.NaN);
            Int4Gemm.RunQuantized(act, rows, weight, bias, y, runner, vectors: true, wide, emitted);
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outCols; o++)
                {
                    float e = Int4Gemm.Element(act, r, weight, o) + (bias?[o] ?? 0f);
                    Assert.True(BitConverter.SingleToUInt32Bits(e) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                        $"emitted {emitted}, bias {bias is not null}: y[{r},{o}] = {y[r * outCols + o]}, element {e}");
                }
        }
    }

    /// <summary>One to three rows run the prefetching 1 × 32 and 2 × 32 tiles (past a panel's end their prefetches reach
    /// the next tile's panels, past the last tile beyond the weight), the 1 × 8 tile and the scalar partial panel, on 2
    /// threads: every element has <see cref="Int4Gemm.Element"/>'s bits (+ bias), for k of 1 to 3 groups and k past the
    /// prefetch distance, column counts that end mid-tile and mid-panel, and (<paramref name="extreme"/>) groups at the
    /// int16 pair sums' bound: x_q = ±127 against nibbles 15 (q = 7), where the AVX2 path's two partial accumulators must
    /// add as int16 halves.</summary>
    [Theory]
    [InlineData(1, 7, 37, false)]
    [InlineData(1, 300, 1000, false)]
    [InlineData(2, 65, 104, false)]
    [InlineData(3, 768, 331, false)]
    [InlineData(1, 2048, 96, false)]
    [InlineData(2, 1024, 72, false)]
    [InlineData(3, 640, 64, true)]
    public void OneToThreeRowsGiveTheElementsBits(int rows, int k, int outCols, bool extreme)
    {
        using var backend = new CpuBackend(2, WeightQuantization.Int4);
        float[] x = HalfGemmTests.Random(rows * k, 41, 2f), w = HalfGemmTests.Random(outCols * k, 42, 0.3f), b = HalfGemmTests.Random(outCols, 43);
        if (extreme)
        {
            // Each group: one 1 (q = -8) and 31 of -0.875 (q = 7); rows of ±2 with one sign per row (x_q = ±127).
            for (int i = 0; i < w.Length; i++)
                w[i] = i % k % 32 == 0 ? 1f : -0.875f;
            for (int i = 0; i < x.Length; i++)
                x[i] = i / k % 2 == 0 ? 2f : -2f;
        }
        var weight = Assert.IsType<Int4Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        using var tx = backend.Upload(x, rows, k);
        using var tb = backend.Upload(b, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, weight, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        var act = new Int8Activations();
        act.Quantize(x, rows, k, groupSums: true);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
                Assert.True(BitConverter.SingleToUInt32Bits(Int4Gemm.Element(act, r, weight, o) + b[o]) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                    $"y[{r},{o}] = {y[r * outCols + o]}, element {Int4Gemm.Element(act, r, weight, o) + b[o]}");
    }

    [Fact]
    public void QuantizationErrorAgainstFp32StaysWithinTheInt4Bound()
    {
        using var fp32 = new CpuBackend(1);
        using var int4 = new CpuBackend(1, WeightQuantization.Int4);
        int rows = 8, k = 512, outCols = 64;
        float[] x = HalfGemmTests.Random(rows * k, 31), w = HalfGemmTests.Random(outCols * k, 32, 0.05f);
        float[] Run(CpuBackend be)
        {
            using var tw = be.UploadWeight(w, outCols, k, DType.F32);
            using var tx = be.Upload(x, rows, k);
            using var ty = be.Allocate(rows, outCols);
            be.MatMul(tx, tw, null, ty);
            var y = new float[rows * outCols];
            be.Download(ty, y);
            return y;
        }
        float[] a = Run(fp32), q = Run(int4);
        // A weight's rounding error is at most d/2 = |m|/16 of its group's largest |w| (uniform weights: ~1/16 of
        // |w| on average, ~1/(16·√3) RMS), the activations' 1/254: summed with random signs the error is ~4-5% of
        // sqrt(Σ (x w)²). Stated bound: 25% of sqrt(Σ (x w)²) for every element (int8's is 1/8 of this, scaled).
        double worst = 0;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
            {
                double norm = Math.Sqrt(Enumerable.Range(0, k).Sum(i => Math.Pow((double)x[r * k + i] * w[o * k + i], 2)));
                double err = Math.Abs(a[r * outCols + o] - q[r * outCols + o]) / norm;
                worst = Math.Max(worst, err);
                Assert.True(err <= 0.25, $"y[{r},{o}]: error {err:P1} of the terms' norm");
            }
        Assert.True(worst > 0.005, $"int4 should differ from fp32 visibly, worst {worst:P2}");
        Assert.Equal(outCols / 8 * (k / 32) * (128 + 16), int4.WeightBytes);   // 18 bytes per 32 weights
    }

    [Fact]
    public void GgufQ4_0TensorsComeBackFromInt4BitForBit()
    {
        using var file = GgufFile.Open(Path.Combine(Fixtures.Root, "gguf", "types.gguf"));
        int checkedTensors = 0;
        foreach (var name in new[] { "q4_0" })
        {
            var info = file.Tensors[name];
            int cols = (int)info.TorchShape[^1], rows = (int)(info.ElementCount / cols);
            var values = new float[info.ElementCount];
            file.ReadFloat32(info, values);
            var q = Int4Weight.Quantize(values, rows, cols);
            for (int o = 0; o < rows; o++)
                for (int i = 0; i < cols; i++)
                {
                    float want = values[o * cols + i], got = q.Dequantized(o, i);
                    // Bit for bit, except that a zero may come back with the other sign (0 · a negative scale).
                    Assert.True(want == 0 ? got == 0 : BitConverter.SingleToUInt32Bits(want) == BitConverter.SingleToUInt32Bits(got),
                        $"[{o}, {i}]: file {want}, int4 {got}");
                }
            checkedTensors++;
        }
        Assert.Equal(1, checkedTensors);
    }
}
