namespace Folio.Cpu.Tests;

/// <summary>SiluAndMul's vector path (whole 16- or 8-lane vectors) and scalar tail against the formula in double,
/// and each row alone = the same row in a batch split over two threads.</summary>
public sealed class SiluAndMulTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 37)]
    [InlineData(64, 2048)]
    public void MatchesTheFormulaAndEachRowAloneEqualsItInTheBatch(int rows, int f)
    {
        var rng = new Random(rows * 1000 + f);
        // Gates over [-20, 20]: exp(-g) from ~2e-9 to ~5e8, both tails of the sigmoid.
        float[] gu = [.. Enumerable.Range(0, rows * 2 * f).Select(i => (float)((rng.NextDouble() * 2 - 1) * (i % (2 * f) < f ? 20 : 3)))];
        using var two = new CpuBackend(2);
        using var tgu = two.Upload(gu, rows, 2 * f);
        using var tout = two.Allocate(rows, f);
        two.SiluAndMul(tgu, tout);
        var batch = new float[rows * f];
        two.Download(tout, batch);
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < f; i++)
            {
                double g = gu[r * 2 * f + i], u = gu[r * 2 * f + f + i];
                double expected = g / (1 + Math.Exp(-g)) * u;
                Assert.True(Math.Abs(batch[r * f + i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-30,
                    $"row {r} column {i}: {batch[r * f + i]} vs {expected}");
            }
            using var one = two.Upload(gu.AsSpan(r * 2 * f, 2 * f), 1, 2 * f);
            using var oneOut = two.Allocate(1, f);
            two.SiluAndMul(one, oneOut);
            var alone = new float[f];
            two.Download(oneOut, alone);
            Assert.True(alone.AsSpan().SequenceEqual(batch.AsSpan(r * f, f)), $"row {r} differs alone");
        }
    }
}
