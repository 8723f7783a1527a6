using Folio.Core.Compute;
using Folio.Cpu.Tests.Precision;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.KQuant;

/// <summary>Q4_K / Q5_K / Q6_K blocks × int8 activations (one scale per block of 256): each output equals a
/// dequantize-then-fp32 reference (ggml's
/// dequantization of the same blocks, and the activations' own dequantized values, summed in double) up to fp32
/// rounding, on odd shapes, for both formats and a weight stacking both; a row alone gives the bits it gives in a
/// batch; the portable path meets the same bound; corrupt blocks are refused naming the tensor.</summary>
public sealed class KQuantGemmTests
{
    /// <summary>Blocks from random weights (<see cref="KQuantTestBlocks"/>), or random bytes (every scale, min and
    /// nibble pattern the format can hold, Q6_K's int8 scales down to −128) with finite fp16 scales.</summary>
    private static byte[] Blocks(KQuantFormat format, int rows, int k, int seed, bool randomBytes)
    {
        if (!randomBytes)
            return KQuantTestBlocks.Quantize(format, HalfGemmTests.Random(rows * k, seed, 0.3f));
        var bytes = new byte[rows * k / 256 * format.BlockBytes()];
        new Random(seed).NextBytes(bytes);
        int size = format.BlockBytes();
        for (int at = 0; at < bytes.Length; at += size)
        {
            // fp16 exponent bits 0x7C00 clear of all ones: finite, of either sign, from subnormal to ~2^-2.
            int d = format.HasMins() ? 0 : format == KQuantFormat.Q3K ? 108 : 208;
            bytes[at + d + 1] &= 0xBB;
            if (format.HasMins())
                bytes[at + 3] &= 0xBB;
        }
        return bytes;
    }

    private static (float[] Y, KQuantWeight W) Run(CpuBackend backend, float[] x, int rows, int k, KQuantRows[] parts, float[] bias)
    {
        var tw = backend.UploadKQuantWeight(parts);
        var weight = Assert.IsType<KQuantWeight>(tw);
        int outCols = weight.Rows;
        using var tx = backend.Upload(x, rows, k);
        using var tb = backend.Upload(bias, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, tw, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        return (y, weight);
    }

    private static void AssertNearReference(float[] y, float[] x, int rows, int k, KQuantWeight w, float[] bias, string what)
    {
        var act = new Int8Activations();
        act.QuantizeWithKQuantSums(x, rows, k, q4k: true, q6k: true);   // one scale per block of 256, as the kernel's
        int outCols = w.Rows;
        for (int o = 0; o < outCols; o++)
        {
            float[] wd = w.DequantizedRow(o);
            for (int r = 0; r < rows; r++)
            {
                double dot = bias[o], magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    double xd = act.Dequantized(r, i);
                    dot += xd * wd[i];
                    magnitude += Math.Abs(xd);
                }
                // fp32 rounding of the per-block sums, scales and the final sum: far below any misread nibble or scale,
                // which moves an output by about a weight times the row's |x|.
                magnitude *= wd.Max(Math.Abs);
                Assert.True(Math.Abs(y[r * outCols + o] - dot) <= 2e-6 * magnitude + 1e-6,
                    $"{what}: y[{r},{o}] = {y[r * outCols + o]}, reference {dot} (terms {magnitude})");
            }
        }
    }

    [Theory]
    [InlineData(1, 256, 1, KQuantFormat.Q4K, false)]
    [InlineData(1, 768, 19, KQuantFormat.Q4K, false)]
    [InlineData(3, 512, 7, KQuantFormat.Q4K, true)]
    [InlineData(5, 768, 33, KQuantFormat.Q4K, true)]
    [InlineData(33, 256, 9, KQuantFormat.Q4K, false)]
    [InlineData(1, 256, 1, KQuantFormat.Q6K, false)]
    [InlineData(1, 768, 19, KQuantFormat.Q6K, false)]
    [InlineData(3, 512, 7, KQuantFormat.Q6K, true)]
    [InlineData(5, 768, 33, KQuantFormat.Q6K, true)]
    [InlineData(33, 256, 9, KQuantFormat.Q6K, false)]
    [InlineData(1, 256, 1, KQuantFormat.Q5K, false)]
    [InlineData(1, 768, 19, KQuantFormat.Q5K, true)]
    [InlineData(3, 512, 7, KQuantFormat.Q5K, true)]
    [InlineData(5, 768, 33, KQuantFormat.Q5K, false)]
    [InlineData(33, 256, 9, KQuantFormat.Q5K, true)]
    [InlineData(4, 2048, 100, KQuantFormat.Q4K, false)]   // each row alone: the one-row walk, its prefetch past
    [InlineData(4, 2048, 100, KQuantFormat.Q6K, false)]   // each panel's end into the next, on both threads
    [InlineData(4, 2048, 100, KQuantFormat.Q5K, true)]
    [InlineData(1, 256, 1, KQuantFormat.Q3K, true)]       // Q3_K runs as Q6_K: random blocks (no test quantizer)
    [InlineData(5, 768, 33, KQuantFormat.Q3K, true)]
    [InlineData(33, 512, 9, KQuantFormat.Q3K, true)]
    [InlineData(13, 768, 40, KQuantFormat.Q4K, true)]     // the emitted Q4_K tile: an 8-row strip and a 5-row one,
    [InlineData(21, 512, 20, KQuantFormat.Q4K, false)]    // two strips and 5 rows; a partial last panel stays managed
    [InlineData(6, 1024, 16, KQuantFormat.Q4K, true)]     // one 6-row tile
    [InlineData(13, 768, 40, KQuantFormat.Q6K, true)]     // the emitted Q6_K tile likewise
    [InlineData(21, 512, 20, KQuantFormat.Q6K, false)]
    [InlineData(7, 1024, 16, KQuantFormat.Q6K, true)]
    [InlineData(12, 512, 24, KQuantFormat.Q3K, true)]     // Q3_K through the Q6_K tile (8 + 4 rows; a lone last panel)
    [InlineData(13, 768, 40, KQuantFormat.Q5K, true)]     // Q5_K through the Q4_K tile's fifth-bit variant
    [InlineData(7, 1024, 16, KQuantFormat.Q5K, false)]
    public void EqualsTheDequantizedReferenceAndIsBitIdenticalPerRow(int rows, int k, int outCols, KQuantFormat format, bool randomBytes)
    {
        using var backend = new CpuBackend(2);
        float[] x = HalfGemmTests.Random(rows * k, 41, 2f), bias = HalfGemmTests.Random(outCols, 43);
        x[0] = 0;
        var parts = new[] { new KQuantRows("w", format, outCols, k, Blocks(format, outCols, k, 42, randomBytes)) };
        var (y, weight) = Run(backend, x, rows, k, parts, bias);
        AssertNearReference(y, x, rows, k, weight, bias, $"{format} vectors");
        for (int r = 0; r < rows; r++)
        {
            var (alone, _) = Run(backend, x[(r * k)..((r + 1) * k)], 1, k, parts, bias);
            Assert.True(alone.AsSpan().SequenceEqual(y.AsSpan(r * outCols, outCols)), $"row {r} differs alone");
        }
        var act = new Int8Activations();
        act.QuantizeWithKQuantSums(x, rows, k, format.HasMins(), format.PanelFormat() == KQuantFormat.Q6K);
        var portable = new float[rows * outCols];
        KQuantGemm.RunQuantized(act, rows, weight, bias, portable, new ParallelRunner(1), vectors: false);
        AssertNearReference(portable, x, rows, k, weight, bias, $"{format} portable");
        // The tiles (4 x 16 and 2 x 16, whichever this CPU would pick) and the portable loop do the same integer sums
        // and fp32 steps: the same bits.
        // The emitted AVX-512 VNNI Q4_K / Q6_K tiles too where the CPU has them, with and without the bias.
        if (KQuantGemm.UsesVectors)
            foreach (var (wide, emitted) in KQuantGemm.UsesEmitted ? new[] { (true, false), (false, false), (true, true) } : [(true, false), (false, false)])
                foreach (var b in emitted ? new[] { bias, null } : [bias])
                {
                    var expected = portable;
                    if (b is null)
                    {
                        expected = new float[rows * outCols];
                        KQuantGemm.RunQuantized(act, rows, weight, null, expected, new ParallelRunner(1), vectors: false, emitted: false);
                    }
                    var tiles = new float[rows * outCols];
                    Array.Fill(tiles, float.NaN);
                    KQuantGemm.RunQuantized(act, rows, weight, b, tiles, new ParallelRunner(2), vectors: true, wideRows: wide, emitted: emitted);
                    for (int i = 0; i < y.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(tiles[i]) == BitConverter.SingleToInt32Bits(expected[i]),
                            $"y[{i / outCols},{i % outCols}] ({(wide ? "4" : "2")} x 16 tiles, emitted {emitted}, bias {b is not null}): {tiles[i]}, portable {expected[i]}");
                    if (b is not null)
                        Assert.True(tiles.AsSpan().SequenceEqual(y), "the backend's run differs");
                }
    }

    [Theory]
    [InlineData(KQuantFormat.Q4K, 1, 256, false)]
    [InlineData(KQuantFormat.Q4K, 13, 768, true)]
    [InlineData(KQuantFormat.Q6K, 1, 256, false)]
    [InlineData(KQuantFormat.Q6K, 13, 768, true)]
    [InlineData(KQuantFormat.Q5K, 1, 256, false)]
    [InlineData(KQuantFormat.Q5K, 13, 768, true)]
    [InlineData(KQuantFormat.Q3K, 13, 768, true)]
    public void ThePanelsGiveBackEveryRowAsGgmlDequantizesItsBlocks(KQuantFormat format, int rows, int k, bool randomBytes)
    {
        // The repack only moves values, scales and mins (and widens fp16 to fp32): each row read back from the panels
        // equals ggml's dequantization of the row's original blocks, bit for bit.
        var blocks = Blocks(format, rows, k, 81, randomBytes);
        var weight = KQuantWeight.Create([new KQuantRows("w", format, rows, k, blocks)]);
        int rowBytes = k / 256 * format.BlockBytes();
        var expected = new float[k];
        for (int o = 0; o < rows; o++)
        {
            var type = format switch
            {
                KQuantFormat.Q4K => Folio.Core.Models.Gguf.GgmlType.Q4_K,
                KQuantFormat.Q5K => Folio.Core.Models.Gguf.GgmlType.Q5_K,
                KQuantFormat.Q3K => Folio.Core.Models.Gguf.GgmlType.Q3_K,
                _ => Folio.Core.Models.Gguf.GgmlType.Q6_K,
            };
            Folio.Core.Models.Gguf.GgufDequantize.Blocks(type, blocks.AsSpan(o * rowBytes, rowBytes), expected);
            var row = weight.DequantizedRow(o);
            for (int i = 0; i < k; i++)
                Assert.True(BitConverter.SingleToInt32Bits(row[i]) == BitConverter.SingleToInt32Bits(expected[i]),
                    $"{format} [{o},{i}]: panels {row[i]}, ggml {expected[i]}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void AWeightStackingQ4KAndQ6KPartsComputesEachWithItsOwnFormat(int rows)
    {
        using var backend = new CpuBackend(2);
        int k = 512;
        float[] x = HalfGemmTests.Random(rows * k, 51), bias = HalfGemmTests.Random(5 + 3 + 4 + 2, 52);
        var parts = new[]
        {
            new KQuantRows("q", KQuantFormat.Q4K, 5, k, Blocks(KQuantFormat.Q4K, 5, k, 53, false)),
            new KQuantRows("k", KQuantFormat.Q4K, 3, k, Blocks(KQuantFormat.Q4K, 3, k, 54, true)),
            new KQuantRows("v", KQuantFormat.Q6K, 4, k, Blocks(KQuantFormat.Q6K, 4, k, 55, false)),
            new KQuantRows("u", KQuantFormat.Q5K, 2, k, Blocks(KQuantFormat.Q5K, 2, k, 56, true)),
        };
        var (y, weight) = Run(backend, x, rows, k, parts, bias);
        Assert.Equal(14, weight.Rows);
        AssertNearReference(y, x, rows, k, weight, bias, "stacked");
        Assert.Contains("Q4_K+Q6_K+Q5_K", backend.WeightKernels.Single());
        // One 8-column panel per part (zero-padded), two super-blocks each: 1,216 bytes per Q4_K panel block, 1,696 per
        // Q6_K, 1,472 per Q5_K.
        Assert.Equal(2 * 1216 + 2 * 1216 + 2 * 1696 + 2 * 1472, backend.WeightBytes);
    }

    [Fact]
    public void QuantizedWeightsStayNearTheirFp32Source()
    {
        // The test quantizer itself: Q4_K within about half a step (range / 30) of each value, Q5_K (range / 62), Q6_K
        // within d · |sc| / 2.
        var w = HalfGemmTests.Random(4 * 256, 61, 0.5f);
        foreach (var format in new[] { KQuantFormat.Q4K, KQuantFormat.Q5K, KQuantFormat.Q6K })
        {
            var weight = KQuantWeight.Create([new KQuantRows("w", format, 4, 256, KQuantTestBlocks.Quantize(format, w))]);
            for (int o = 0; o < 4; o++)
            {
                var row = weight.DequantizedRow(o);
                for (int i = 0; i < 256; i++)
                    Assert.True(Math.Abs(row[i] - w[o * 256 + i]) <= format switch { KQuantFormat.Q4K => 0.045, KQuantFormat.Q5K => 0.023, _ => 0.012 },
                        $"{format} [{o},{i}]: {row[i]} vs {w[o * 256 + i]}");
            }
        }
    }

    [Fact]
    public void CorruptBlocksAndWrongSizesAreRefusedNamingTheTensor()
    {
        var bytes = Blocks(KQuantFormat.Q4K, 2, 256, 71, false);
        bytes[144 + 3] = 0x7C;   // row 1's dmin: +Inf
        var e = Assert.Throws<ArgumentException>(() => KQuantWeight.Create([new KQuantRows("blk.3.ffn_up.weight", KQuantFormat.Q4K, 2, 256, bytes)]));
        Assert.Contains("tensor 'blk.3.ffn_up.weight': block 1 (row 1) has a non-finite fp16 scale", e.Message);
        var q6 = Blocks(KQuantFormat.Q6K, 1, 256, 72, false);
        q6[209] = 0xFE;   // d: NaN
        e = Assert.Throws<ArgumentException>(() => KQuantWeight.Create([new KQuantRows("output.weight", KQuantFormat.Q6K, 1, 256, q6)]));
        Assert.Contains("tensor 'output.weight': block 0 (row 0)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new KQuantRows("blk.0.attn_q.weight", KQuantFormat.Q4K, 2, 256, new byte[287]));
        Assert.Contains("tensor 'blk.0.attn_q.weight': 287 bytes for a Q4_K [2, 256] tensor, which takes 288", e.Message);
        e = Assert.Throws<ArgumentException>(() => new KQuantRows("blk.0.attn_k.weight", KQuantFormat.Q6K, 2, 200, new byte[420]));
        Assert.Contains("tensor 'blk.0.attn_k.weight'", e.Message);
        e = Assert.Throws<ArgumentException>(() => KQuantWeight.Create([
            new KQuantRows("a", KQuantFormat.Q4K, 1, 256, Blocks(KQuantFormat.Q4K, 1, 256, 73, false)),
            new KQuantRows("b", KQuantFormat.Q6K, 1, 512, Blocks(KQuantFormat.Q6K, 1, 512, 74, false))]));
        Assert.Contains("tensor 'b' has 512 columns", e.Message);
    }
}
