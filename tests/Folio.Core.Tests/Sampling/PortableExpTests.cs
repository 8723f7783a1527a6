using System.Runtime.Intrinsics;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

/// <summary>
/// <see cref="PortableExp"/>: each vector width (called explicitly, whatever this machine would pick; a width it does
/// not accelerate runs emulated) equals the scalar definition bit for bit — random inputs over a sampler's range,
/// the tails, lanes that overflow inside a vector, lengths that are no multiple of any width, in place — and the
/// definition is within 1 ulp of e^x over the normal range, with exp(0) exactly 1.
/// </summary>
public sealed class PortableExpTests
{
    private delegate void ExpSpan(ReadOnlySpan<float> x, float shift, float scale, Span<float> destination);

    public static TheoryData<string> Widths => ["scalar", "128", "256", "512", "dispatch"];

    private static ExpSpan Width(string name) => name switch
    {
        "scalar" => (x, shift, scale, d) => PortableExp.ExpShiftedScalar(x, shift, scale, d, 0),
        "128" => PortableExp.ExpShifted128,
        "256" => PortableExp.ExpShifted256,
        "512" => PortableExp.ExpShifted512,
        _ => PortableExp.ExpShifted,
    };

    private static readonly float Cutoff = PortableExp.UnderflowBelow;

    /// <summary>Edge values: zeros, the underflow cut-off ± 1 ulp, the rounding boundaries of n (x·log₂e near k + ½),
    /// the overflow region, infinities and NaN.</summary>
    private static float[] Edges()
    {
        var edges = new List<float>
        {
            0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f,
            Cutoff, MathF.BitDecrement(Cutoff), MathF.BitIncrement(Cutoff), -87.5f, -88f, -100f, -103.97f, -110f, -1e30f, float.MinValue,
            float.NegativeInfinity, float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7FC01234),
            87.9f, 88f, MathF.BitIncrement(88f), 88.3f, 88.5f, 88.7228f, 88.72283f, 88.72284f, 88.8f, 89f, MathF.BitIncrement(89f), 100f,
            float.MaxValue, float.PositiveInfinity,
        };
        for (int k = -127; k <= 1; k++)
        {
            float half = (float)((k + 0.5) * Math.Log(2));
            edges.AddRange([half, MathF.BitDecrement(half), MathF.BitIncrement(half), (float)(k * Math.Log(2))]);
        }
        return [.. edges];
    }

    private static float[] Inputs(int length, int seed)
    {
        var rng = new Random(seed);
        var edges = Edges();
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = rng.Next(8) == 0 ? edges[rng.Next(edges.Length)] : (float)(rng.NextDouble() * 111 - 110);
        return x;
    }

    private static void AssertSameBits(float expected, float actual, string where)
    {
        // NaN in, NaN out: which NaN payload survives depends on operand order, which the JIT may choose.
        if (float.IsNaN(expected))
            Assert.True(float.IsNaN(actual), $"{where}: {actual} for NaN");
        else
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"{where}: {actual:R} ({BitConverter.SingleToInt32Bits(actual):X8}), expected {expected:R} ({BitConverter.SingleToInt32Bits(expected):X8})");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void EachWidthEqualsTheScalarDefinitionBitForBit(string width)
    {
        var exp = Width(width);
        foreach (int length in new[] { 0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 64, 100, 1000, 32000, 200_003 })
        foreach (var (shift, scale) in new[] { (0f, 1f), (0.37f, 1f), (2.5f, 1f / 0.7f), (-1.25f, 1f / 1.3f) })
        {
            var x = Inputs(length, length * 31 + (int)(shift * 100));
            var actual = new float[length];
            exp(x, shift, scale, actual);
            for (int i = 0; i < length; i++)
                AssertSameBits(PortableExp.Exp((x[i] - shift) * scale), actual[i], $"{width}, length {length}, x {x[i]:R}, shift {shift}, scale {scale}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void EachWidthEqualsTheDefinitionOnEveryEdgeInEveryLane(string width)
    {
        var exp = Width(width);
        var edges = Edges();
        // Each edge in each lane of a 16-wide vector among ordinary values (an overflowing lane sends its vector
        // lane by lane), then the edges alone, then in place.
        for (int lane = 0; lane < 16; lane++)
            foreach (float e in edges)
            {
                var x = Enumerable.Range(0, 35).Select(i => -0.3f * i).ToArray();
                x[lane] = e;
                x[lane + 16] = e;
                var actual = new float[x.Length];
                exp(x, 0f, 1f, actual);
                for (int i = 0; i < x.Length; i++)
                    AssertSameBits(PortableExp.Exp(x[i]), actual[i], $"{width}, lane {lane}, edge {e:R}, x {x[i]:R}");
            }
        var inPlace = (float[])edges.Clone();
        exp(inPlace, 0f, 1f, inPlace);
        for (int i = 0; i < edges.Length; i++)
            AssertSameBits(PortableExp.Exp(edges[i]), inPlace[i], $"{width} in place, x {edges[i]:R}");
    }

    [Fact]
    public void TheTailsAreAsDefined()
    {
        Assert.Equal(0x3F800000, BitConverter.SingleToInt32Bits(PortableExp.Exp(0f)));
        Assert.Equal(0x3F800000, BitConverter.SingleToInt32Bits(PortableExp.Exp(-0f)));
        Assert.Equal(0, BitConverter.SingleToInt32Bits(PortableExp.Exp(float.NegativeInfinity)));   // +0
        Assert.Equal(0, BitConverter.SingleToInt32Bits(PortableExp.Exp(MathF.BitDecrement(Cutoff))));
        Assert.Equal(0, BitConverter.SingleToInt32Bits(PortableExp.Exp(-1e30f)));
        // The cut-off is the least fp32 whose e^x is a normal: the one below it is not.
        Assert.True(Math.Exp(Cutoff) >= Math.Pow(2, -126) && Math.Exp(MathF.BitDecrement(Cutoff)) < Math.Pow(2, -126));
        Assert.True(float.IsNormal(PortableExp.Exp(Cutoff)));
        Assert.True(float.IsNaN(PortableExp.Exp(float.NaN)));
        Assert.Equal(float.PositiveInfinity, PortableExp.Exp(float.PositiveInfinity));
        Assert.Equal(float.PositiveInfinity, PortableExp.Exp(MathF.BitIncrement(PortableExp.OverflowAbove)));
        Assert.Equal(float.PositiveInfinity, PortableExp.Exp(88.72284f));   // e^x past MaxValue (1 + 2⁻²⁴)
        // Just under MaxValue: 2ⁿ with n = 128 taken as 2·2¹²⁷.
        Assert.True(Math.Abs(PortableExp.Exp(88.72283f) / Math.Exp(88.72283f) - 1) < 3e-7);
        Assert.True(Math.Abs(PortableExp.Exp(88.5f) / Math.Exp(88.5f) - 1) < 3e-7);
    }

    /// <summary>ulps between <paramref name="actual"/> and the exact <paramref name="exact"/>, in units of the
    /// fp32 spacing at <paramref name="exact"/>.</summary>
    private static double UlpError(float actual, double exact)
    {
        float rounded = (float)exact;
        double ulp = MathF.BitIncrement(rounded) - (double)rounded;
        return Math.Abs(actual - exact) / ulp;
    }

    [Fact]
    public void WithinOneUlpOfExpOverTheNormalRange()
    {
        // A dense sweep of [−87, 0] (a sampler's range), then [0, 88.7] and every fp32 next to 0.
        double worst = 0;
        float worstAt = 0;
        void Check(float x)
        {
            double e = UlpError(PortableExp.Exp(x), Math.Exp(x));
            if (e > worst)
                (worst, worstAt) = (e, x);
        }
        const int Steps = 1 << 23;
        for (int i = 0; i <= Steps; i++)
            Check(-87f * i / Steps);
        for (int i = 0; i <= Steps / 8; i++)
            Check(88.7f * i / (Steps / 8));
        float near = 0;
        for (int i = 0; i < 100_000; i++)
        {
            near = MathF.BitDecrement(near);
            Check(near);
            Check(-near);
        }
        Assert.True(worst < 1, $"{worst:F3} ulp at {worstAt:R}");
    }
}
