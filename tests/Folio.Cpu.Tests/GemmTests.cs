using Folio.Core.Compute;

namespace Folio.Cpu.Tests;

public sealed class BackendOpTests
{
    /// <summary>A step of one sequence whose last tokens sit at <paramref name="positions"/> (consecutive) in
    /// <paramref name="slots"/>, read through <paramref name="blockTable"/>.</summary>
    private static StepContext Step(CpuBackend backend, DeviceKvCache cache, int[] positions, long[] slots, int[] blockTable)
    {
        var input = new Folio.Core.Models.ModelInput
        {
            TokenIds = new int[positions.Length], Positions = positions, SlotMapping = slots, LogitRows = [],
            Attention = new AttentionBatch
            {
                QueryStarts = [0, positions.Length], ContextLengths = [positions[^1] + 1], BlockTables = blockTable,
                BlockTableStride = blockTable.Length,
            },
        };
        return backend.BeginStep(input, cache);
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 19, 99)]
    [InlineData(2, 33, 40)]     // 256-bit: one tile of two rows
    [InlineData(5, 8, 4)]
    [InlineData(9, 77, 13)]
    [InlineData(33, 64, 130)]
    [InlineData(7, 768, 200)]
    [InlineData(13, 3, 272)]
    [InlineData(12, 5, 48)]     // with AVX-512: an 8x32 and a 4x32 tile, then a 16-column panel row by row
    [InlineData(20, 100, 100)]  // 8+8+4 rows, 3 whole 32-column tiles, a 16-column panel, a partial panel
    [InlineData(44, 300, 100)]  // a 32-row block and 8+4 rows, k in slices of 128, 128 and 44 continued from partial sums
    [InlineData(75, 257, 64)]   // two 32-row blocks, 8 rows, 3 rows alone; a last k slice of one
    public void MatMulMatchesAReferenceAndIsBitIdenticalPerRow(int rows, int k, int outCols)
    {
        using var backend = new CpuBackend(2);
        float[] x = Random(rows * k, 1), w = Random(outCols * k, 2), b = Random(outCols, 3);
        using var tx = backend.Upload(x, rows, k);
        using var tw = backend.UploadWeight(w, outCols, k);
        using var tb = backend.Upload(b, 1, outCols);
        using var ty = backend.Allocate(rows, outCols);
        backend.MatMul(tx, tw, tb, ty);
        var y = new float[rows * outCols];
        backend.Download(ty, y);
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outCols; o++)
            {
                double want = b[o];
                for (int i = 0; i < k; i++)
                    want += (double)x[r * k + i] * w[o * k + i];
                Assert.True(Math.Abs(y[r * outCols + o] - want) <= 1e-5 * (1 + Math.Abs(want)), $"y[{r},{o}] = {y[r * outCols + o]}, want {want}");
            }
            // The same row alone (a different tile path) gives the same bits.
            using var one = backend.Upload(x.AsSpan(r * k, k), 1, k);
            using var oneOut = backend.Allocate(1, outCols);
            backend.MatMul(one, tw, tb, oneOut);
            var alone = new float[outCols];
            backend.Download(oneOut, alone);
            Assert.True(alone.AsSpan().SequenceEqual(y.AsSpan(r * outCols, outCols)), $"row {r} differs alone");
        }
    }

    /// <summary>A prompt's GEMM (several 32-row blocks) with k in 128-wide slices continued from stored partial sums,
    /// in 64-wide ones, or whole (<see cref="Gemm.PrefillKBlock"/> picks by the L1 size; each runs here on any CPU):
    /// every element the reference chain's bits. Odd shapes: leftover 8-, 4- and single rows, a last k slice of one,
    /// a 16-column panel after the 32-column tiles and a partial last panel.</summary>
    [Theory]
    [InlineData(65, 129, 100)]
    [InlineData(97, 300, 130)]
    [InlineData(131, 257, 48)]
    [InlineData(200, 64, 33)]
    public void APromptGemmGivesTheReferenceBitsForEveryKSlice(int rows, int k, int outCols)
    {
        float[] x = Random(rows * k, 7), w = Random(outCols * k, 8), b = Random(outCols, 9);
        var wt = AlignedPanels<float>.Allocate(Gemm.PackedLength(outCols, k));
        Gemm.Pack(w, outCols, k, wt);
        var want = new float[rows * outCols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < outCols; c++)
                want[r * outCols + c] = Gemm.Element(x, r, k, wt, outCols, c) + b[c];
        using var runner = new ParallelRunner(2);
        foreach (int kBlock in new[] { 128, 64, int.MaxValue })
        {
            var got = new float[rows * outCols];
            Array.Fill(got, float.NaN);
            Gemm.Run(x, rows, k, wt, outCols, b, got, runner, kBlock);
            Assert.Equal(want, got);
        }
    }

    /// <summary>A decode step's GEMM (at most 32 rows: one row block, k in 64-wide slices whose partial sums wait in
    /// Rows512's scratch, every tile prefetching into L1 and L2): every element the reference chain's bits, y written
    /// everywhere. A row's chain continued from another row's or column's scratch would change the bits. Odd shapes: a
    /// last k slice of 44 or 1, 8+8+8+4 rows, a 16-column panel after the 32-column tiles and a partial last panel.</summary>
    [Theory]
    [InlineData(32, 768, 200)]
    [InlineData(28, 300, 130)]
    [InlineData(12, 129, 48)]
    [InlineData(4, 65, 33)]
    [InlineData(32, 2048, 64)]
    public void ADecodeGemmGivesTheReferenceBitsThroughItsPartialSums(int rows, int k, int outCols)
    {
        float[] x = Random(rows * k, 10), w = Random(outCols * k, 11), b = Random(outCols, 12);
        var wt = AlignedPanels<float>.Allocate(Gemm.PackedLength(outCols, k));
        Gemm.Pack(w, outCols, k, wt);
        var want = new float[rows * outCols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < outCols; c++)
                want[r * outCols + c] = Gemm.Element(x, r, k, wt, outCols, c) + b[c];
        using var runner = new ParallelRunner(2);
        var got = new float[rows * outCols];
        Array.Fill(got, float.NaN);
        Gemm.Run(x, rows, k, wt, outCols, b, got, runner);
        Assert.Equal(want, got);
    }

    [Fact]
    public void RmsNormRopeAndSiluMatchFormulas()
    {
        using var backend = new CpuBackend(1);
        float[] x = Random(2 * 12, 4), g = Random(12, 5);
        using var tx = backend.Upload(x, 2, 12);
        using var tg = backend.Upload(g, 1, 12);
        using var ty = backend.Allocate(2, 12);
        backend.RmsNorm(tx, tg, 1e-5f, ty);
        var y = new float[24];
        backend.Download(ty, y);
        for (int r = 0; r < 2; r++)
        {
            double ms = x.Skip(r * 12).Take(12).Sum(v => (double)v * v) / 12;
            for (int i = 0; i < 12; i++)
                Assert.Equal(g[i] * x[r * 12 + i] / Math.Sqrt(ms + 1e-5), y[r * 12 + i], 5);
        }

        var shape = new AttentionShape(1, 1, 4);   // qkv row: q(4) k(4) v(4)
        float[] qkv = Random(12, 6);
        using var tq = backend.Upload(qkv, 1, 12);
        float[] inv = [1f, 0.01f];
        using var cache = backend.AllocateKvCache(1, 2, 2, 1, 4);
        using var tinv = backend.Upload(inv, 1, 2);
        backend.Rope(tq, shape, Step(backend, cache, [3], [3], [0, 1]), tinv);
        var rotated = new float[12];
        backend.Download(tq, rotated);
        for (int h = 0; h < 2; h++)   // q and k rotated, v untouched
            for (int i = 0; i < 2; i++)
            {
                double a = qkv[h * 4 + i], b = qkv[h * 4 + i + 2], angle = 3 * inv[i];
                Assert.Equal(a * Math.Cos(angle) - b * Math.Sin(angle), rotated[h * 4 + i], 5);
                Assert.Equal(b * Math.Cos(angle) + a * Math.Sin(angle), rotated[h * 4 + i + 2], 5);
            }
        Assert.Equal(qkv[8..], rotated[8..]);

        float[] gu = [1f, -2f, 3f, 4f];
        using var tgu = backend.Upload(gu, 1, 4);
        using var act = backend.Allocate(1, 2);
        backend.SiluAndMul(tgu, act);
        var a2 = new float[2];
        backend.Download(act, a2);
        Assert.Equal(1 / (1 + Math.Exp(-1)) * 3, a2[0], 5);
        Assert.Equal(-2 / (1 + Math.Exp(2)) * 4, a2[1], 5);
    }

    [Fact]
    public void CopyAndMoveBlocksCopyEveryLayerAndLeaveOthersAlone()
    {
        using var backend = new CpuBackend(1);
        var shape = new AttentionShape(2, 1, 4);
        using var gpu = (CpuKvCache)backend.AllocateKvCache(2, 4, 2, 1, 4);
        using var cpu = (CpuKvCache)backend.AllocateKvCache(2, 3, 2, 1, 4);
        float[] rows = Random(2 * shape.QkvCols, 7);
        using var qkv = backend.Upload(rows, 2, shape.QkvCols);
        var step = Step(backend, gpu, [0, 1], [2, 3], [1]);   // block 1 holds both tokens
        for (int layer = 0; layer < 2; layer++)
            backend.WriteKv(qkv, shape, step, layer);
        backend.CopyBlocks(gpu, [1, 3]);
        backend.MoveBlocks(gpu, cpu, [3, 0]);
        for (int layer = 0; layer < 2; layer++)
        {
            Assert.Equal(gpu.Keys[layer][8..16], gpu.Keys[layer][24..32]);
            Assert.Equal(gpu.Values[layer][8..16], cpu.Values[layer][0..8]);
            Assert.Equal(rows[shape.KeyOffset..(shape.KeyOffset + 4)], gpu.Keys[layer][8..12]);
            Assert.All(gpu.Keys[layer][0..8], v => Assert.Equal(0f, v));     // untouched blocks stay zero
            Assert.All(cpu.Keys[layer][8..24], v => Assert.Equal(0f, v));
        }
    }
}
