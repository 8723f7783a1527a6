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
    public void Dot4x3GivesEachOfItsTwelveDotsTheBitsOfDotTimesScale(int n)
    {
        // The two-pass kernel scores a GQA group's query heads three at a time against shared K rows: its bits must be
        // those of one Dot4 per head (so of Dot · scale), fp32 and bf16 rows, with the query vectors and the outputs at
        // strides as the kernel lays them out.
        const float scale = 0.125f * 1.1f;
        int stride = n + 3, dStride = 9;
        float[] a = Random(3 * stride, n + 11, 2f);
        float[][] b = [Random(n, n + 1, 1f), Random(n, n + 2, 3f), Random(n, n + 3, 1e-3f), Random(n, n + 4, 50f)];
        ushort[][] b16 = [.. b.Select(r => r.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray())];
        var d = new float[3 * dStride + 1];
        var d16 = new float[3 * dStride + 1];
        AttentionMath.Dot4x3<float, F32Elements>(ref a[0], stride, ref b[0][0], ref b[1][0], ref b[2][0], ref b[3][0], n, scale, ref d[1], dStride);
        AttentionMath.Dot4x3<ushort, Bf16Elements>(ref a[0], stride, ref b16[0][0], ref b16[1][0], ref b16[2][0], ref b16[3][0], n, scale,
            ref d16[1], dStride);
        var expected16 = new float[4];
        for (int h = 0; h < 3; h++)
        {
            var ah = a.AsSpan(h * stride, n);
            AttentionMath.Dot4<ushort, Bf16Elements>(ref ah[0], ref b16[0][0], ref b16[1][0], ref b16[2][0], ref b16[3][0], n, scale, ref expected16[0]);
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(AttentionMath.Dot(ah, b[j]) * scale), BitConverter.SingleToInt32Bits(d[1 + h * dStride + j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(expected16[j]), BitConverter.SingleToInt32Bits(d16[1 + h * dStride + j]));
            }
        }
        Assert.Equal(0f, d[0]);   // nothing written outside the twelve
        Assert.Equal(0f, d[5]);
        Assert.Equal(0f, d[^1]);
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
    public void Axpy4x3GivesEachSumTheBitsOfAxpy4(int n)
    {
        // The two-pass kernel adds a GQA group's V sums three at a time over shared V rows (fp32 and bf16 caches).
        float[][] x = [Random(n, n + 5, 1f), Random(n, n + 6, 3f), Random(n, n + 7, 1e-3f), Random(n, n + 8, 50f)];
        ushort[][] x16 = [.. x.Select(r => r.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray())];
        int weightStride = 6, yStride = n + 2;
        float[] w = Random(3 * weightStride, n + 12, 2f);
        float[] y = Random(3 * yStride, n + 9, 1f), y16 = (float[])y.Clone(), expected = (float[])y.Clone(), expected16 = (float[])y.Clone();
        AttentionMath.Axpy4x3<float, F32Elements>(ref w[0], weightStride, ref x[0][0], ref x[1][0], ref x[2][0], ref x[3][0], ref y[0], yStride, n);
        AttentionMath.Axpy4x3<ushort, Bf16Elements>(ref w[0], weightStride, ref x16[0][0], ref x16[1][0], ref x16[2][0], ref x16[3][0], ref y16[0], yStride, n);
        for (int h = 0; h < 3; h++)
        {
            int o = h * weightStride;
            AttentionMath.Axpy4<float, F32Elements>(w[o], w[o + 1], w[o + 2], w[o + 3], ref x[0][0], ref x[1][0], ref x[2][0], ref x[3][0],
                ref expected[h * yStride], n);
            AttentionMath.Axpy4<ushort, Bf16Elements>(w[o], w[o + 1], w[o + 2], w[o + 3], ref x16[0][0], ref x16[1][0], ref x16[2][0], ref x16[3][0],
                ref expected16[h * yStride], n);
        }
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));   // the gaps untouched too
        Assert.Equal(expected16.Select(BitConverter.SingleToInt32Bits), y16.Select(BitConverter.SingleToInt32Bits));
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
