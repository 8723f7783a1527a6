namespace Folio.Cpu.Tests;

/// <summary>The fused AddRmsNorm (one pass a row, rows over two threads) against Add then RmsNorm on one thread, bit
/// for bit, and against the formula in double; the residual it leaves behind is the plain sum.</summary>
public sealed class AddRmsNormTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 37)]
    [InlineData(41, 100)]
    [InlineData(128, 768)]
    public void EqualsAddThenRmsNormBitForBit(int rows, int cols)
    {
        var rng = new Random(rows * 7919 + cols);
        float[] x = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 4 - 2))];
        float[] a = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 4 - 2))];
        float[] g = [.. Enumerable.Range(0, cols).Select(_ => (float)(rng.NextDouble() + 0.5))];
        const float eps = 1e-5f;

        using var one = new CpuBackend(1);
        using var x1 = one.Upload(x, rows, cols);
        using var a1 = one.Upload(a, rows, cols);
        using var g1 = one.Upload(g, 1, cols);
        using var y1 = one.Allocate(rows, cols);
        one.Add(x1, a1);
        one.RmsNorm(x1, g1, eps, y1);

        using var two = new CpuBackend(2);
        using var x2 = two.Upload(x, rows, cols);
        using var a2 = two.Upload(a, rows, cols);
        using var g2 = two.Upload(g, 1, cols);
        using var y2 = two.Allocate(rows, cols);
        two.AddRmsNorm(x2, a2, g2, eps, y2);

        float[] sumWant = new float[rows * cols], sumGot = new float[rows * cols], want = new float[rows * cols], got = new float[rows * cols];
        one.Download(x1, sumWant);
        two.Download(x2, sumGot);
        one.Download(y1, want);
        two.Download(y2, got);
        Assert.Equal(sumWant, sumGot);
        Assert.Equal(want, got);
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < cols; i++)
                ss += (double)(x[r * cols + i] + a[r * cols + i]) * (x[r * cols + i] + a[r * cols + i]);
            double inv = 1 / Math.Sqrt(ss / cols + eps);
            for (int i = 0; i < cols; i++)
            {
                double expected = g[i] * (x[r * cols + i] + a[r * cols + i]) * inv;
                Assert.True(Math.Abs(got[r * cols + i] - expected) <= 1e-5 * Math.Abs(expected) + 1e-6, $"row {r} column {i}: {got[r * cols + i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void MismatchedShapesAreRefused()
    {
        using var backend = new CpuBackend(1);
        using var x = backend.Allocate(2, 8);
        using var a = backend.Allocate(3, 8);
        using var g = backend.Allocate(1, 8);
        using var y = backend.Allocate(2, 8);
        Assert.ThrowsAny<ArgumentException>(() => backend.AddRmsNorm(x, a, g, 1e-5f, y));
    }
}
