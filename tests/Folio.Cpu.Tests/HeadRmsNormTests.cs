using Folio.Core.Compute;

namespace Folio.Cpu.Tests;

/// <summary>Qwen3's per-head q/k norm on the CPU: every query and key head of every row against the formula in double,
/// the value heads untouched, one thread and two giving the same bits (rows split over the threads), and each head
/// the bits of <see cref="CpuBackend.RmsNorm"/> over that head alone.</summary>
public sealed class HeadRmsNormTests
{
    [Theory]
    [InlineData(1, 4, 2, 24)]
    [InlineData(5, 3, 1, 18)]
    [InlineData(37, 8, 2, 128)]
    [InlineData(130, 2, 2, 64)]
    public void EachQueryAndKeyHeadIsNormalisedOnItsOwn(int rows, int heads, int kvHeads, int headDim)
    {
        var shape = new AttentionShape(heads, kvHeads, headDim);
        int cols = shape.QkvCols;
        var rng = new Random(rows * 31 + heads * 7 + headDim);
        float[] qkv = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 6 - 3))];
        float[] gq = [.. Enumerable.Range(0, headDim).Select(_ => (float)(rng.NextDouble() + 0.5))];
        float[] gk = [.. Enumerable.Range(0, headDim).Select(_ => (float)(rng.NextDouble() + 0.5))];
        const float eps = 1e-6f;

        float[] Run(int threads)
        {
            using var backend = new CpuBackend(threads);
            using var t = backend.Upload(qkv, rows, cols);
            using var q = backend.Upload(gq, 1, headDim);
            using var k = backend.Upload(gk, 1, headDim);
            backend.HeadRmsNorm(t, shape, q, k, eps);
            var result = new float[rows * cols];
            backend.Download(t, result);
            return result;
        }
        float[] got = Run(2);
        Assert.Equal(Run(1), got);

        using var plain = new CpuBackend(1);
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads + 2 * kvHeads; h++)
            {
                int at = r * cols + h * headDim;
                if (h >= heads + kvHeads)
                {
                    // Value heads pass through.
                    Assert.Equal(qkv.AsSpan(at, headDim).ToArray(), got.AsSpan(at, headDim).ToArray());
                    continue;
                }
                float[] g = h < heads ? gq : gk;
                double ss = 0;
                for (int i = 0; i < headDim; i++)
                    ss += (double)qkv[at + i] * qkv[at + i];
                double inv = 1 / Math.Sqrt(ss / headDim + eps);
                for (int i = 0; i < headDim; i++)
                {
                    double expected = g[i] * qkv[at + i] * inv;
                    Assert.True(Math.Abs(got[at + i] - expected) <= 1e-5 * Math.Abs(expected) + 1e-6,
                        $"row {r} head {h} element {i}: {got[at + i]} vs {expected}");
                }
                // The same bits as RmsNorm over this one head.
                using var x = plain.Upload(qkv.AsSpan(at, headDim).ToArray(), 1, headDim);
                using var w = plain.Upload(g, 1, headDim);
                using var y = plain.Allocate(1, headDim);
                plain.RmsNorm(x, w, eps, y);
                var one = new float[headDim];
                plain.Download(y, one);
                Assert.Equal(one, got.AsSpan(at, headDim).ToArray());
            }
        }
    }

    [Fact]
    public void MismatchedShapesAreRefused()
    {
        using var backend = new CpuBackend(1);
        var shape = new AttentionShape(4, 2, 16);
        using var qkv = backend.Allocate(3, shape.QkvCols);
        using var narrow = backend.Allocate(3, shape.QkvCols - 16);
        using var g = backend.Allocate(1, 16);
        using var wrong = backend.Allocate(1, 8);
        Assert.ThrowsAny<ArgumentException>(() => backend.HeadRmsNorm(narrow, shape, g, g, 1e-6f));
        Assert.ThrowsAny<ArgumentException>(() => backend.HeadRmsNorm(qkv, shape, wrong, g, 1e-6f));
        Assert.ThrowsAny<ArgumentException>(() => backend.HeadRmsNorm(qkv, shape, g, wrong, 1e-6f));
    }
}
