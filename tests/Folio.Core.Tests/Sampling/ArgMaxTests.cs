using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

/// <summary><see cref="ArgMax"/> against its rule written as a loop: the first index of the largest non-NaN value
/// (−0 equal to +0), 0 when every value is NaN; on rows of every length around the vector width, with planted ties.</summary>
public sealed class ArgMaxTests
{
    private static int Reference(float[] v)
    {
        int best = -1;
        for (int i = 0; i < v.Length; i++)
            if (!float.IsNaN(v[i]) && (best < 0 || v[i] > v[best]))
                best = i;
        return best < 0 ? 0 : best;
    }

    [Fact]
    public void RandomRowsWithTiesAndNaNsGiveTheFirstLargest()
    {
        var rng = new Random(3);
        for (int length = 1; length <= 70; length++)
        {
            for (int trial = 0; trial < 20; trial++)
            {
                var v = new float[length];
                for (int i = 0; i < length; i++)
                    v[i] = rng.Next(8) switch { 0 => float.NaN, 1 => float.NegativeInfinity, _ => rng.Next(-3, 4) };
                Assert.Equal(Reference(v), ArgMax.Of(v));
            }
        }
        var large = new float[32000];
        for (int i = 0; i < large.Length; i++)
            large[i] = (float)rng.NextDouble();
        large[31999] = large[17] = large[20000] = 2;
        Assert.Equal(17, ArgMax.Of(large));
    }

    [Fact]
    public void EdgesAreExplicit()
    {
        Assert.Equal(3, ArgMax.Of([float.NaN, 1, 1, 5, float.NaN, 5, 0, 0, 0, 0]));   // NaN first is not the max
        Assert.Equal(0, ArgMax.Of([float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN]));
        Assert.Equal(1, ArgMax.Of([float.NaN, float.NegativeInfinity, float.NegativeInfinity]));
        Assert.Equal(0, ArgMax.Of(Enumerable.Repeat(float.NegativeInfinity, 40).ToArray()));
        var zeros = new float[20];
        zeros[0] = -1;
        zeros[1] = -0f;
        zeros[12] = 0f;
        Assert.Equal(1, ArgMax.Of(zeros));   // −0 and +0 tie: the lower id
        // The same past the four-accumulator loop's width: the max ±0 in two accumulators, NaN in the others.
        var wide = Enumerable.Repeat(-1f, 70).ToArray();
        wide[13] = 0f;
        wide[5] = -0f;
        wide[40] = 0f;
        wide[2] = wide[22] = wide[63] = float.NaN;
        Assert.Equal(5, ArgMax.Of(wide));
        Assert.Equal(0, ArgMax.Of(Enumerable.Repeat(float.NaN, 40).ToArray()));
        Assert.Equal(0, ArgMax.Of([]));
    }
}
