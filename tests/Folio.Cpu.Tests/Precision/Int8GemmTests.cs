using Folio.Core.Compute;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>int8 weights × int8 activations: the kernel must equal a dequantize-then-fp32 reference (weights and
/// activations quantized independently here, by the documented rule) up to fp32 rounding, on odd shapes and
/// every tile path; and the quantization error against fp32 stays within the int8 bound.</summary>
public sealed class Int8GemmTests
{
    /// <summary>The documented rule, written independently: per group of 32 inputs of a row, s = max|x| / 127,
    /// q = round(x / s).</summary>
    private static double[] DequantizeRow(ReadOnlySpan<float> row)
    {
        var d = new double[row.Length];
        for (int g = 0; g < row.Length; g += 32)
        {
            int end = Math.Min(row.Length, g + 32);
            float amax = 0;
            for (int i = g; i < end; i++)
                amax = Math.Max(amax, Math.Abs(row[i]));
            float s = amax / 127f;
            for (int i = g; i < end; i++)
                d[i] = s == 0 ? 0 : (double)s * Math.Clamp(MathF.Round(row[i] * (1f / s)), -127, 127);
        }
        return d;
    }

    /// <summary>Per output column, per 32 inputs: d = fp16(max|w| / 127), q = round(w / d).</summary>
    private static double[] DequantizeWeight(ReadOnlySpan<float> w, int outCols, int k)
    {
        var d = new double[outCols * k];
        for (int o = 0; o < outCols; o++)
            for (int g = 0; g < k; g += 32)
            {
                int end = Math.Min(k, g + 32);
                float amax = 0;
                for (int i = g; i < end; i++)
                    amax = Math.Max(amax, Math.Abs(w[o * k + i]));
                float scale = (float)(Half)(amax / 127f);
                for (int i = g; i < end; i++)
                    d[o * k + i] = scale == 0 ? 0 : (double)scale * Math.Clamp(MathF.Round(w[o * k + i] / scale), -127, 127);
            }
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
    public void EqualsTheDequantizedReferenceAndIsBitIdenticalPerRow(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(2, WeightQuantization.Int8);
        float[] x = HalfGemmTests.Random(rows * k, 11, 3f), w = HalfGemmTests.Random(outCols * k, 12, 0.2f), b = HalfGemmTests.Random(outCols, 13);
        x[0] = 0;   // a zero and an all-equal group take the edge cases
        if (k > 40)
        {
            x[35] = 300f;   // an outlier: per group it costs only its own group's precision
            Array.Clear(x, k - 7, 7);   // row 0's last group all zero where k % 32 ≤ 7 (scale 0)
        }
        using var tw = backend.UploadWeight(w, outCols, k, DType.F32);
        Assert.IsType<Int8Weight>(tw);
        using var tx = backend.Upload(x, rows, k);
        using var tb = backend.Upload(b, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, tw, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        double[] wd = DequantizeWeight(w, outCols, k);
        for (int r = 0; r < rows; r++)
        {
            double[] xd = DequantizeRow(x.AsSpan(r * k, k));
            for (int o = 0; o < outCols; o++)
            {
                double dot = 0, magnitude = 0, exact = b[o];
                for (int i = 0; i < k; i++)
                {
                    dot += xd[i] * wd[o * k + i];
                    magnitude += Math.Abs(xd[i] * wd[o * k + i]);
                    exact += (double)x[r * k + i] * w[o * k + i];
                }
                dot += b[o];
                // fp32 rounding of the group sums, scales and the +128 correction: a few ulps of the magnitude.
                Assert.True(Math.Abs(y[r * outCols + o] - dot) <= 1e-6 * magnitude + 1e-6, $"y[{r},{o}] = {y[r * outCols + o]}, reference {dot}");
            }
            // The same row alone (a different tile) gives the same bits.
            using var one = backend.Upload(x.AsSpan(r * k, k), 1, k);
            using var oneOut = backend.Allocate(1, outCols);
            backend.MatMul(one, tw, tb, oneOut);
            var alone = new float[outCols];
            backend.Download(oneOut, alone);
            Assert.True(alone.AsSpan().SequenceEqual(y.AsSpan(r * outCols, outCols)), $"row {r} differs alone");
        }
    }

    [Fact]
    public void ThePortablePathGivesTheVectorPathsBits()
    {
        using var backend = new CpuBackend(1, WeightQuantization.Int8);
        int rows = 5, k = 200, outCols = 72;
        float[] x = HalfGemmTests.Random(rows * k, 21), w = HalfGemmTests.Random(outCols * k, 22);
        var weight = Assert.IsType<Int8Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        using var tx = backend.Upload(x, rows, k);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, weight, null, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        var act = new Int8Activations();
        act.QuantizePerGroup(x, rows, k);
        var portable = new float[rows * outCols];
        Int8Gemm.RunQuantized(act, rows, weight, null, portable, new ParallelRunner(1), vectors: false, wide: false);
        Assert.Equal(y.Select(BitConverter.SingleToUInt32Bits), portable.Select(BitConverter.SingleToUInt32Bits));
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
                Assert.Equal(Int8Gemm.Element(act, r, weight, o), y[r * outCols + o]);
    }

    /// <summary>A weight with fp32 group scales (GGUF IQ4_XS's d · (sc − 32), here random values of either sign that no
    /// fp16 holds) runs every tile with those scales: the 512-bit 8 × 16 strips, the 4 × 16 tiles, the decode tiles
    /// for one to three rows and the portable path each give <see cref="Int8Gemm.Element"/>'s bits, and the result stays
    /// within fp32 rounding of Σ x_dequantized · scale · q.</summary>
    [Theory]
    [InlineData(1, 96, 40)]
    [InlineData(2, 256, 75)]
    [InlineData(3, 512, 33)]
    [InlineData(7, 256, 48)]
    [InlineData(19, 768, 45)]
    public void Fp32GroupScalesGiveTheElementsBitsOnEveryPath(int rows, int k, int outCols)
    {
        var rng = new Random(rows * 31 + k);
        var quants = new sbyte[outCols * k];
        for (int i = 0; i < quants.Length; i++)
            quants[i] = (sbyte)rng.Next(-127, 128);
        var scales = new float[outCols * (k / 32)];
        for (int i = 0; i < scales.Length; i++)
            scales[i] = (float)((rng.NextDouble() * 2 - 1) * 0.01) * 1.0001f;   // off the fp16 grid
        Assert.Contains(scales, v => (float)(Half)v != v);
        var weight = Int8Weight.FromGroups([new Int8GroupRows("w", outCols, k, quants, scales)]);
        Assert.NotNull(weight.SingleScales);
        Assert.Empty(weight.Scales);
        long padded = (outCols + 7) / 8 * 8;   // whole 8-column panels
        Assert.Equal(padded * k + padded * (k / 32) * 4, weight.StoredBytes);
        float[] x = HalfGemmTests.Random(rows * k, rows + 7, 2f), b = HalfGemmTests.Random(outCols, 8);
        var act = new Int8Activations();
        act.QuantizePerGroup(x, rows, k);
        using var runner = new ParallelRunner(2);
        var paths = new List<(string, bool, bool, bool)> { ("portable", false, false, false) };
        if (Int8Gemm.UsesVectors)
            paths.Add(("vectors", true, false, false));
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
            paths.Add(("wide", true, true, false));
        if (Int8EmittedTile.Available)
            paths.Add(("emitted", true, true, true));
        foreach (var (name, vectors, wide, emitted) in paths)
        {
            var y = new float[rows * outCols];
            Int8Gemm.RunQuantized(act, rows, weight, b, y, runner, vectors, wide, emitted);
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outCols; o++)
                {
                    float e = Int8Gemm.Element(act, r, weight, o) + b[o];
                    Assert.True(BitConverter.SingleToUInt32Bits(e) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                        $"{name}: y[{r},{o}] = {y[r * outCols + o]}, element {e}");
                    if (name != "portable")
                        continue;
                    double dot = b[o], magnitude = Math.Abs(b[o]);
                    for (int i = 0; i < k; i++)
                    {
                        double term = act.Dequantized(r, i) * ((double)scales[o * (k / 32) + i / 32] * quants[o * k + i]);
                        dot += term;
                        magnitude += Math.Abs(term);
                    }
                    Assert.True(Math.Abs(y[r * outCols + o] - dot) <= 1e-5 * magnitude + 1e-6, $"y[{r},{o}] = {y[r * outCols + o]}, reference {dot}");
                }
        }
    }

    /// <summary>One to three rows run the prefetching 1 × 32 tile (past a panel's end its prefetches reach the next
    /// tile's panels, past the last tile beyond the weight), the 1 × 8 tile and the scalar partial panel, on 2 threads:
    /// every element has <see cref="Int8Gemm.Element"/>'s bits (+ bias), for k of 1 to 3 groups and k past the
    /// prefetch distance, and column counts that end mid-tile and mid-panel.</summary>
    [Theory]
    [InlineData(1, 7, 37)]
    [InlineData(1, 300, 1000)]
    [InlineData(2, 65, 104)]
    [InlineData(3, 768, 331)]
    [InlineData(1, 2048, 96)]
    public void OneToThreeRowsGiveTheElementsBits(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(2, WeightQuantization.Int8);
        float[] x = HalfGemmTests.Random(rows * k, 41, 2f), w = HalfGemmTests.Random(outCols * k, 42, 0.3f), b = HalfGemmTests.Random(outCols, 43);
        var weight = Assert.IsType<Int8Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        using var tx = backend.Upload(x, rows, k);
        using var tb = backend.Upload(b, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, weight, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        var act = new Int8Activations();
        act.QuantizePerGroup(x, rows, k);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
                Assert.True(BitConverter.SingleToUInt32Bits(Int8Gemm.Element(act, r, weight, o) + b[o]) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                    $"y[{r},{o}] = {y[r * outCols + o]}, element {Int8Gemm.Element(act, r, weight, o) + b[o]}");
    }

    /// <summary>The 512-bit 8 × 16 tile (strips of 8 rows, then the 4-row, 2-row and single-row tiles for the rest) gives
    /// <see cref="Int8Gemm.Element"/> + bias bit for bit, on two threads, over partial panels, a single leftover panel
    /// and 256-column blocks. <paramref name="extreme"/> 1: q = ±127 (u = q + 128 is 255 or 1) against x_q = ±127 with
    /// one sign per row; 2: every q = +127 (h = l = 15) against x_q = +127 in each quad's first pair and −127 in its
    /// second, so each column's two high-nibble int16 lanes end at +30,480 and −30,480 and its low lanes at ±30,480:
    /// the bounds the tile's summary derives (a lane one product past them would wrap and show in the bits).
    /// Without AVX-512 BW the wide path must refuse, not run.</summary>
    [Theory]
    [InlineData(8, 32, 16, 0)]
    [InlineData(19, 77, 45, 0)]
    [InlineData(33, 800, 600, 0)]
    [InlineData(64, 96, 280, 0)]
    [InlineData(15, 160, 24, 0)]   // one 8-row strip, then 4 + 2 + 1; three panels: one pair and a single panel
    [InlineData(16, 768, 40, 1)]
    [InlineData(16, 768, 40, 2)]
    public void TheWideTileGivesTheElementsBits(int rows, int k, int outCols, int extreme)
    {
        using var backend = new CpuBackend(2, WeightQuantization.Int8);
        float[] x = HalfGemmTests.Random(rows * k, 51, 2f), w = HalfGemmTests.Random(outCols * k, 52, 0.3f), b = HalfGemmTests.Random(outCols, 53);
        if (extreme == 1)
        {
            for (int i = 0; i < w.Length; i++)
                w[i] = i / k % 2 == 0 ? 1f : -1f;
            for (int i = 0; i < x.Length; i++)
                x[i] = i / k % 2 == 0 ? 2f : -2f;
        }
        else if (extreme == 2)
        {
            Array.Fill(w, 1f);
            for (int i = 0; i < x.Length; i++)
                x[i] = i % k % 4 < 2 ? 2f : -2f;
        }
        var weight = Assert.IsType<Int8Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        var act = new Int8Activations();
        act.QuantizePerGroup(x, rows, k);
        var y = new float[rows * outCols];
        using var runner = new ParallelRunner(2);
        if (!System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Int8Gemm.RunQuantized(act, rows, weight, b, y, runner, vectors: true, wide: true));
            return;
        }
        foreach (bool emitted in Int8EmittedTile.Available ? new[] { false, true } : [false])
        {
            Array.Fill(y, float.NaN);
            Int8Gemm.RunQuantized(act, rows, weight, b, y, runner, vectors: true, wide: true, emitted);
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outCols; o++)
                    Assert.True(BitConverter.SingleToUInt32Bits(Int8Gemm.Element(act, r, weight, o) + b[o]) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                        $"emitted {emitted}: y[{r},{o}] = {y[r * outCols + o]}, element {Int8Gemm.Element(act, r, weight, o) + b[o]}");
        }
    }

    /// <summary>The emitted AVX-512 VNNI tile (<see cref="Int8EmittedTile"/>) without a bias, from one group of k to many,
    /// row counts whose last 4–7 rows run its shorter variants and whose last 1–3 run the managed tiles, a partial last panel, on one and two threads: every output
    /// (the buffer starts as NaN) has <see cref="Int8Gemm.Element"/>'s bits. Where the CPU lacks AVX-512 VNNI the
    /// emitted path must refuse, not run.</summary>
    [Theory]
    [InlineData(8, 32, 16)]
    [InlineData(9, 64, 33)]
    [InlineData(24, 1000, 130)]
    [InlineData(40, 4096, 64)]
    [InlineData(5, 96, 40)]     // no 8-row strip: one 5-row tile
    [InlineData(12, 200, 48)]   // a strip, then a 4-row tile
    [InlineData(14, 64, 17)]    // a strip, then a 6-row tile; a partial last panel
    [InlineData(9, 800, 300)]   // a strip, then a single row (the managed decode tile)
    public void TheEmittedTileGivesTheElementsBitsWithoutABias(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(1, WeightQuantization.Int8);
        float[] x = HalfGemmTests.Random(rows * k, rows + 61, 2f), w = HalfGemmTests.Random(outCols * k, 62, 0.3f);
        var weight = Assert.IsType<Int8Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        var act = new Int8Activations();
        act.QuantizePerGroup(x, rows, k);
        var y = new float[rows * outCols];
        foreach (int threads in new[] { 1, 2 })
        {
            using var runner = new ParallelRunner(threads);
            if (!Int8EmittedTile.Available)
            {
                Assert.Throws<PlatformNotSupportedException>(() => Int8Gemm.RunQuantized(act, rows, weight, null, y, runner, vectors: true, wide: true, emitted: true));
                return;
            }
            Array.Fill(y, float.NaN);
            Int8Gemm.RunQuantized(act, rows, weight, null, y, runner, vectors: true, wide: true, emitted: true);
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outCols; o++)
                    Assert.True(BitConverter.SingleToUInt32Bits(Int8Gemm.Element(act, r, weight, o)) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                        $"{threads} threads: y[{r},{o}] = {y[r * outCols + o]}, element {Int8Gemm.Element(act, r, weight, o)}");
        }
    }

    /// <summary>The decode tiles at the extremes: every x_q and q is ±127 (each group all one magnitude, random signs),
    /// so every byte pair sums to ±2 · 127², the most the int16 lanes of the sign trick hold, and a wrong sign, a lost
    /// pair or a saturated sum shows in the bits. One to three rows (the 1, 2 and 3-row tiles) and seven (a 4-row strip,
    /// then the 3-row tile), on 2 threads, for k below one group, past the prefetch distance (16 groups) and odd column
    /// counts (a partial last panel): every element has <see cref="Int8Gemm.Element"/>'s bits (+ bias), and each row
    /// alone gives the bits it gives among the others.</summary>
    [Theory]
    [InlineData(1, 24, 40)]
    [InlineData(1, 600, 257)]
    [InlineData(2, 96, 75)]
    [InlineData(2, 600, 72)]
    [InlineData(3, 33, 9)]
    [InlineData(3, 768, 331)]
    [InlineData(7, 544, 100)]
    public void DecodeTilesAtFullScaleGiveTheElementsBits(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(2, WeightQuantization.Int8);
        var rng = new Random(rows * 1000 + k);
        // Row r's groups at magnitude 1 + r (the rows' scales differ); the weights at 0.25: all quantize to ±127.
        float[] x = new float[rows * k], w = new float[outCols * k];
        for (int i = 0; i < x.Length; i++)
            x[i] = (rng.Next(2) == 0 ? -1f : 1f) * (1 + i / k);
        for (int i = 0; i < w.Length; i++)
            w[i] = rng.Next(2) == 0 ? -0.25f : 0.25f;
        float[] b = HalfGemmTests.Random(outCols, 53);
        var weight = Assert.IsType<Int8Weight>(backend.UploadWeight(w, outCols, k, DType.F32));
        Assert.Equal(127, Math.Abs((int)weight.Quant(outCols - 1, k - 1)));
        using var tx = backend.Upload(x, rows, k);
        using var tb = backend.Upload(b, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, weight, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        var act = new Int8Activations();
        act.QuantizePerGroup(x, rows, k);
        Assert.Equal(127, Math.Abs(act.Quants[rows * act.RowBytes - act.RowBytes + k - 1] - 128));
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outCols; o++)
                Assert.True(BitConverter.SingleToUInt32Bits(Int8Gemm.Element(act, r, weight, o) + b[o]) == BitConverter.SingleToUInt32Bits(y[r * outCols + o]),
                    $"y[{r},{o}] = {y[r * outCols + o]}, element {Int8Gemm.Element(act, r, weight, o) + b[o]}");
            using var one = backend.Upload(x.AsSpan(r * k, k), 1, k);
            using var oneOut = backend.Allocate(1, outCols);
            backend.MatMul(one, weight, tb, oneOut);
            var alone = new float[outCols];
            backend.Download(oneOut, alone);
            Assert.True(alone.AsSpan().SequenceEqual(y.AsSpan(r * outCols, outCols)), $"row {r} differs alone");
        }
    }

    [Fact]
    public void QuantizationErrorAgainstFp32StaysWithinTheInt8Bound()
    {
        using var fp32 = new CpuBackend(1);
        using var int8 = new CpuBackend(1, WeightQuantization.Int8);
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
        float[] a = Run(fp32), q = Run(int8);
        // Each product's relative error is at most ~1/127 (x) + 1/127 (w); summed with random signs the
        // error is about 1% of the norm of the terms. Stated bound: 2% of sqrt(Σ (x w)²) · sqrt(k).
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outCols; o++)
            {
                double norm = Math.Sqrt(Enumerable.Range(0, k).Sum(i => Math.Pow((double)x[r * k + i] * w[o * k + i], 2)));
                Assert.True(Math.Abs(a[r * outCols + o] - q[r * outCols + o]) <= 0.02 * norm * Math.Sqrt(k) / 4, $"y[{r},{o}]");
            }
        Assert.Equal(outCols / 8 * (k / 32) * (256 + 16), int8.WeightBytes);   // 34 bytes per 32 weights
    }
}
