using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

/// <summary>
/// <see cref="BlockSums"/>: the vector path equals the scalar definition bit for bit (full and partial blocks,
/// zeros), and a draw lands where the exact cumulative mass crosses u × total — the same token as the old in-order
/// walk everywhere but within rounding of a boundary — never on a zero, with the documented ends.
/// </summary>
public sealed class BlockSumsTests
{
    private static float[] Row(Random rng, int length, double zeroFraction)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++)
            v[i] = rng.NextDouble() < zeroFraction ? 0f : MathF.Exp((float)(rng.NextDouble() * 12 - 10));
        return v;
    }

    [Fact]
    public void ComputeEqualsTheScalarDefinitionBitForBit()
    {
        var rng = new Random(16);
        foreach (int length in new[] { 1, 15, 16, 63, 64, 65, 127, 128, 200, 1000, 32000, 32001 })
        {
            var v = Row(rng, length, length % 2 == 0 ? 0.3 : 0);
            var sums = new double[BlockSums.BlockCount(length)];
            double total = BlockSums.Compute(v, sums);
            double expectedTotal = 0;
            for (int b = 0; b < sums.Length; b++)
            {
                double expected = BlockSumsScalar.Block(v.AsSpan(b * 64, Math.Min(64, length - b * 64)));
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(sums[b]));
                expectedTotal += expected;
            }
            Assert.Equal(BitConverter.DoubleToInt64Bits(expectedTotal), BitConverter.DoubleToInt64Bits(total));
            Assert.Equal(v.Sum(x => (double)x), total, 1e-12 * total);
        }
    }

    [Fact]
    public void TheScalarBlockSumAddsSixteenLanesThenPairs()
    {
        // 2^60 absorbs a 1 added to it: in index order 2^60 − 2^60 + 1 = 1, but lane 0 adds values 0 and 16
        // (2^60 + 1 = 2^60) before lane 4's −2^60 joins it, so the block's sum is 0.
        var block = new float[64];
        block[0] = MathF.Pow(2, 60);
        block[4] = -MathF.Pow(2, 60);
        block[16] = 1;
        Assert.Equal(0, BlockSumsScalar.Block(block));
        block[16] = 0;
        block[5] = 1;   // lane 5 alone: 1
        Assert.Equal(1, BlockSumsScalar.Block(block));
    }

    [Fact]
    public void TheDrawLandsWhereTheExactMassCrossesTheTarget()
    {
        var rng = new Random(7);
        int changed = 0, draws = 0;
        for (int r = 0; r < 200; r++)
        {
            int length = rng.Next(1, 3000);
            var v = Row(rng, length, r % 3 == 0 ? 0.5 : 0.01);
            if (v.All(x => x == 0))
                v[rng.Next(length)] = 1;
            var sums = new double[BlockSums.BlockCount(length)];
            double total = BlockSums.Compute(v, sums);
            for (int d = 0; d < 50; d++)
            {
                double u = rng.NextDouble();
                int token = BlockSums.Draw(v, sums, u * total);
                Assert.NotEqual(0f, v[token]);
                // The exact mass before the token and through it bracket the target, within rounding.
                double before = 0;
                for (int i = 0; i < token; i++)
                    before += v[i];
                double target = u * total, slack = 1e-12 * total;
                Assert.True(before <= target + slack, $"mass before {token} is {before}, past the target {target}");
                Assert.True(before + v[token] > target - slack, $"mass through {token} does not reach {target}");
                draws++;
                if (token != InOrderWalk(v, u))
                    changed++;
            }
        }
        // Before blocks, the draw walked one running sum over the whole row: only a target within rounding of a
        // boundary can land elsewhere now (none did here).
        Assert.Equal(10_000, draws);
        Assert.Equal(0, changed);
    }

    [Fact]
    public void TheEndsOfTheRowAreTheFirstAndLastNonzeroValues()
    {
        var v = new float[300];
        v[70] = 0.25f;
        v[130] = 0.5f;
        v[200] = 0.25f;
        var sums = new double[BlockSums.BlockCount(v.Length)];
        double total = BlockSums.Compute(v, sums);
        Assert.Equal(1.0, total);
        Assert.Equal(70, BlockSums.Draw(v, sums, 0));
        Assert.Equal(130, BlockSums.Draw(v, sums, 0.25));   // "exceeds": a target on a boundary goes to the next token
        Assert.Equal(200, BlockSums.Draw(v, sums, 0.75));
        Assert.Equal(200, BlockSums.Draw(v, sums, 1.0));    // u × total rounded up to the total: the last nonzero
        Assert.Equal(200, BlockSums.Draw(v, sums, (1 - Math.Pow(2, -53)) * total));
    }

    /// <summary>The draw before blocks: one running double sum in index order, the first value past u × that sum.</summary>
    private static int InOrderWalk(float[] v, double u)
    {
        double sum = 0;
        foreach (float x in v)
            sum += x;
        double target = u * sum, running = 0;
        int last = -1;
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] == 0)
                continue;
            last = i;
            running += v[i];
            if (running > target)
                break;
        }
        return last;
    }
}
