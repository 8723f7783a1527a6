using System.Runtime.Intrinsics;

namespace Folio.Cpu.Tests;

/// <summary>FastExp against double-precision exp: every fp32 input in steps across its whole useful range and at
/// random, within 2 ulp of the correctly rounded value; its fixed points (0 → 1, −∞ → 0, +∞ → ∞, NaN → NaN).</summary>
public sealed class FastExpTests
{
    // The kernels that call it run only where it is supported (checked by the attention/SiLU tests).
    [KernelFact(CpuKernel.FastExp)]
    public void IsWithinTwoUlpOfTheCorrectlyRoundedExpAcrossTheRange()
    {
        var rng = new Random(7);
        var xs = new List<float>();
        for (double x = -87.3; x <= 88.7; x += 0.0137)
            xs.Add((float)x);
        for (int i = 0; i < 100_000; i++)
            xs.Add((float)(rng.NextDouble() * 2 - 1) * (i % 2 == 0 ? 1f : 30f));
        xs.AddRange([0f, -0f, 1e-30f, -1e-30f, 0.34657359f, -0.34657359f, 1f, -1f, 88.5f, -87f]);
        var lanes = new float[16];
        for (int start = 0; start < xs.Count; start += 16)
        {
            int n = Math.Min(16, xs.Count - start);
            xs.CopyTo(start, lanes, 0, n);
            var e = FastExp.Exp(Vector512.Create(lanes));
            for (int j = 0; j < n; j++)
            {
                float expected = (float)Math.Exp(lanes[j]);
                Assert.True(UlpDistance(e[j], expected) <= 2, $"exp({lanes[j]:R}) = {e[j]:R}, expected {expected:R}");
            }
        }
    }

    [KernelFact(CpuKernel.FastExp)]
    public void KeepsItsFixedPoints()
    {
        var e = FastExp.Exp(Vector512.Create([0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, -200f, 200f, -104f, 89f,
            -0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f]));
        Assert.Equal(1f, e[0]);
        Assert.Equal(0f, e[1]);
        Assert.Equal(float.PositiveInfinity, e[2]);
        Assert.True(float.IsNaN(e[3]));
        Assert.Equal(0f, e[4]);
        Assert.Equal(float.PositiveInfinity, e[5]);
        Assert.Equal(1f, e[8]);
    }

    private static long UlpDistance(float a, float b)
    {
        if (a == b)
            return 0;
        int ia = BitConverter.SingleToInt32Bits(a), ib = BitConverter.SingleToInt32Bits(b);
        if ((ia < 0) != (ib < 0))
            return long.MaxValue;
        return Math.Abs((long)ia - ib);
    }
}
