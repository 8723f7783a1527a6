using Folio.Cpu;
using Xunit;

namespace Folio.Cpu.Tests;

/// <summary>
/// The vector pieces of the CPU paged attention against double-precision references on lengths that exercise the
/// 512-bit body, the 256-bit body and the scalar tails (1 … 150, odd and even).
/// </summary>
public class AttentionMathTests
{
    public static TheoryData<int> Lengths => new() { 1, 7, 8, 15, 16, 17, 33, 64, 100, 128, 131, 150 };

    private static float[] Random(int n, int seed, float range)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * range;
        return x;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void DotEqualsTheDoubleSumUpToFp32Rounding(int n)
    {
        float[] a = Random(n, n, 1f), b = Random(n, n + 1, 1f);
        double exact = 0, magnitude = 0;
        for (int i = 0; i < n; i++)
        {
            exact += (double)a[i] * b[i];
            magnitude += Math.Abs((double)a[i] * b[i]);
        }
        Assert.InRange(AttentionMath.Dot(a, b), exact - 1e-6 * magnitude - 1e-30, exact + 1e-6 * magnitude + 1e-30);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Dot4GivesEachRowTheBitsOfDotTimesScale(int n)
    {
        // The paged kernel scores four positions per call: batch invariance and the results before it rely on each of
        // the four being exactly Dot(a, b_j) · scale, not merely close.
        float[] a = Random(n, n, 1f);
        float[][] b = [Random(n, n + 1, 1f), Random(n, n + 2, 3f), Random(n, n + 3, 1e-3f), Random(n, n + 4, 50f)];
        const float scale = 0.125f * 1.1f;
        var d = new float[6];
        AttentionMath.Dot4(ref a[0], ref b[0][0], ref b[1][0], ref b[2][0], ref b[3][0], n, scale, ref d[1]);
        Assert.Equal(0f, d[0]);
        Assert.Equal(0f, d[5]);
        for (int j = 0; j < 4; j++)
            Assert.Equal(BitConverter.SingleToInt32Bits(AttentionMath.Dot(a, b[j]) * scale), BitConverter.SingleToInt32Bits(d[j + 1]));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Axpy4GivesTheBitsOfFourAxpysInTurn(int n)
    {
        // The two-pass kernel adds four positions' V rows per pass over a head's sums: its results before and its batch
        // invariance rely on that being exactly four Axpy calls.
        float[][] x = [Random(n, n + 5, 1f), Random(n, n + 6, 3f), Random(n, n + 7, 1e-3f), Random(n, n + 8, 50f)];
        float[] alpha = [0.37f, -1.9f, 12.5f, 3e-4f];
        float[] y = Random(n, n + 9, 1f), expected = (float[])y.Clone();
        for (int j = 0; j < 4; j++)
            AttentionMath.Axpy(alpha[j], x[j], expected);
        AttentionMath.Axpy4<float, F32Elements>(alpha[0], alpha[1], alpha[2], alpha[3], ref x[0][0], ref x[1][0], ref x[2][0], ref x[3][0], ref y[0], n);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AxpyAddsAlphaTimesXToEveryElement(int n)
    {
        float[] x = Random(n, n, 1f), y = Random(n, n + 2, 1f), before = (float[])y.Clone();
        AttentionMath.Axpy(0.37f, x, y);
        for (int i = 0; i < n; i++)
            Assert.Equal(before[i] + 0.37 * x[i], y[i], 1e-6);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ExpShiftedMatchesTheReferenceSoftmaxNumerator(int n)
    {
        float[] x = Random(n, n, 20f), original = (float[])x.Clone();
        float sum = AttentionMath.ExpShiftedInPlace(x);
        double max = original.Max(), expectedSum = 0;
        for (int i = 0; i < n; i++)
        {
            // The kernel subtracts in fp32 (rounding |x - max| ≤ 40 by up to 2.4e-6 absolute): exp of that difference.
            double e = Math.Exp(original[i] - (float)max);
            expectedSum += e;
            // The vector exp is within a few ulp of the exact value; 2e-6 relative is ~16 ulp at most.
            Assert.InRange(x[i], e * (1 - 2e-6) - 1e-37, e * (1 + 2e-6) + 1e-37);
        }
        // .NET's vector exp gives exp(0) = 1.00000012 (one ulp high): within the bound above, not exactly 1.
        Assert.Equal(1.0, sum / expectedSum, 1e-5);
    }
}
