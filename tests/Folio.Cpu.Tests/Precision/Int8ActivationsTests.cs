using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>Per-row activation quantization (vectorised 32 at a time) gives exactly the bytes, scales, signed copy and
/// group sums of its documented rule, written out here element by element.</summary>
public sealed class Int8ActivationsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 31)]
    [InlineData(2, 32)]
    [InlineData(5, 100)]
    [InlineData(4, 768)]
    public void QuantizeFollowsTheRuleByteForByte(int rows, int k)
    {
        float[] x = HalfGemmTests.Random(rows * k, 21, 3f);
        // Exact ties: with max |x| = 127 the scale is 1, so ±n.5 must round to even, as MathF.Round does.
        if (k >= 8)
        {
            x[0] = 127f; x[1] = 2.5f; x[2] = -2.5f; x[3] = 3.5f; x[4] = -0.5f; x[5] = 0.5f; x[6] = -127f; x[7] = 0f;
        }
        if (rows > 1)
            Array.Clear(x, k, k);   // an all-zero row: scale 0, every q 0
        var act = new Int8Activations();
        act.Quantize(x, rows, k, groupSums: true);
        int padded = (k + 31) / 32 * 32;
        Assert.Equal(padded, act.RowBytes);
        for (int r = 0; r < rows; r++)
        {
            float amax = 0;
            for (int i = 0; i < k; i++)
                amax = Math.Max(amax, Math.Abs(x[r * k + i]));
            float scale = amax / 127f;
            float inverse = scale == 0f ? 0f : 1f / scale;
            Assert.Equal(scale, act.Scales[r]);
            for (int g = 0; g < padded / 32; g++)
            {
                int sum = 0;
                for (int i = g * 32; i < g * 32 + 32; i++)
                {
                    int q = i < k ? (int)Math.Clamp(MathF.Round(x[r * k + i] * inverse), -127f, 127f) : 0;
                    Assert.True(act.Quants[r * padded + i] == q + 128, $"row {r}, element {i}: {act.Quants[r * padded + i]}, want {q + 128}");
                    Assert.Equal(q, act.Signed[r * padded + i]);
                    sum += q;
                }
                Assert.Equal(8 * sum, act.GroupSums[r * (padded / 32) + g]);
            }
        }
        if (k >= 8)
            Assert.Equal([255, 130, 126, 132, 128, 128, 1, 128], act.Quants[..8]);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 31)]
    [InlineData(6, 32)]
    [InlineData(6, 100)]
    [InlineData(6, 768)]
    [InlineData(2, 2048)]
    public void ThePerRowQuantizersFollowTheRuleWithSums(int rows, int k)
    {
        float[] x = HalfGemmTests.Random(rows * k, 23, 3f);
        if (k >= 8)
        {
            x[0] = 127f; x[1] = 2.5f; x[2] = -2.5f; x[3] = 3.5f; x[4] = -0.5f; x[5] = 0.5f; x[6] = -127f; x[7] = 0f;
        }
        if (rows >= 6)
        {
            Array.Clear(x, k, k);                 // an all-zero row
            x[2 * k + k / 2] = float.NaN;         // a NaN row: scale NaN, every q 0
            x[3 * k + k - 1] = float.PositiveInfinity;
            x[4 * k + 1] = 1e-40f;                // a row of one subnormal and zeros
            Array.Clear(x, 4 * k + 2, k - 2);
            x[4 * k] = 0f;
        }
        var want = RowRule.Of(x, rows, k);
        int padded = want.RowBytes, groups = padded / 32;
        var got = new Int8Activations();
        got.Quantize(HalfGemmTests.Random(rows * k + 7, 1), 1, rows * k + 7, groupSums: true);   // stale, longer buffers
        got.Quantize(x, rows, k, groupSums: true);
        Assert.Equal(padded, got.RowBytes);
        Assert.False(got.PerGroup);
        Assert.Equal(want.Quants.AsSpan(0, rows * padded), got.Quants.AsSpan(0, rows * padded));
        Assert.Equal(want.Signed.AsSpan(0, rows * padded), got.Signed.AsSpan(0, rows * padded));
        Assert.Equal(want.Scales.AsSpan(0, rows).ToArray().Select(BitConverter.SingleToUInt32Bits), got.Scales.AsSpan(0, rows).ToArray().Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(want.GroupSums.AsSpan(0, rows * groups), got.GroupSums.AsSpan(0, rows * groups));
        // The k-quant rule: the row rule applied to each block of 256 inputs (a block a "row", when k is whole blocks),
        // and its sums from the same pass against the sums over the expected bytes.
        var kq = new Int8Activations();
        kq.QuantizeWithKQuantSums(x, rows, k, q4k: true, q6k: true);
        var blockRule = k % 256 == 0 ? RowRule.Of(x, rows * (k / 256), 256) : want;
        Assert.Equal(blockRule.Quants.AsSpan(0, rows * padded), kq.Quants.AsSpan(0, rows * padded));
        int scalesPerRow = k % 256 == 0 ? k / 256 : 1;
        Assert.Equal(blockRule.Scales.AsSpan(0, rows * scalesPerRow).ToArray().Select(BitConverter.SingleToUInt32Bits),
            kq.Scales.AsSpan(0, rows * scalesPerRow).ToArray().Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(blockRule.Q6KOffsets.AsSpan(0, rows * padded / 16), kq.Q6KOffsets.AsSpan(0, rows * padded / 16));
        Assert.Equal(blockRule.PairedGroupSums.AsSpan(0, rows * (padded / 64)), kq.PairedGroupSums.AsSpan(0, rows * (padded / 64)));
        if (rows >= 6)
            Assert.True(float.IsNaN(got.Scales[2]) && got.Quants.AsSpan(2 * padded, padded).IndexOfAnyExcept((byte)128) < 0);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 31, 1)]
    [InlineData(2, 32, 1)]
    [InlineData(5, 100, 1)]
    [InlineData(4, 768, 1)]
    [InlineData(9, 1000, 2)]    // rows on two threads (enough work for the runner to fork), a partial last group
    [InlineData(32, 2048, 2)]   // a decode step's down_proj input
    public void QuantizePerGroupFollowsTheRuleByteForByte(int rows, int k, int threads)
    {
        float[] x = HalfGemmTests.Random(rows * k, 22, 3f);
        if (k >= 40)
        {
            x[0] = 127f; x[1] = 2.5f; x[2] = -2.5f; x[3] = 3.5f; x[4] = -0.5f; x[5] = 0.5f; x[6] = -127f; x[7] = 0f;
            x[33] = 1e4f;   // an outlier in group 1: group 0 keeps its own scale
            x[38] = float.NaN;   // a NaN in group 1: that group quantizes to zeros, the others do not notice
        }
        if (rows > 1)
            Array.Clear(x, k, k);   // an all-zero row: every scale 0, every q 0
        var act = new Int8Activations();
        act.Quantize(x, rows, k);   // the other rule first: the per-group call must not depend on it
        using var runner = new ParallelRunner(threads);
        act.QuantizePerGroup(x, rows, k, threads > 1 ? runner : null);
        Assert.True(act.PerGroup);
        int padded = (k + 31) / 32 * 32, groups = padded / 32;
        Assert.Equal(padded, act.RowBytes);
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < groups; g++)
            {
                int end = Math.Min(k, g * 32 + 32);
                float amax = 0;
                for (int i = g * 32; i < end; i++)
                    amax = float.IsNaN(x[r * k + i]) || float.IsNaN(amax) ? float.NaN : Math.Max(amax, Math.Abs(x[r * k + i]));
                float scale = amax / 127f;
                float inverse = scale == 0f || !float.IsFinite(scale) ? 0f : 1f / scale;
                Assert.Equal(scale, act.GroupScales[r * groups + g]);
                int sum = 0;
                for (int i = g * 32; i < g * 32 + 32; i++)
                {
                    int q = i < k ? (int)Math.Clamp(MathF.Round(x[r * k + i] * inverse), -127f, 127f) : 0;
                    sum += q;
                    Assert.True(act.Quants[r * padded + i] == q + 128, $"row {r}, element {i}: {act.Quants[r * padded + i]}, want {q + 128}");
                    Assert.Equal(q, act.Signed[r * padded + i]);
                    Assert.Equal(scale * q, act.Dequantized(r, i));   // a NaN group dequantizes to NaN, as a NaN row does
                }
                // −4 · Σ q in both int16 halves (where the int8 tile's high-nibble sums start).
                int pair = act.GroupSums[r * groups + g];
                Assert.True((short)pair == -4 * sum && (short)(pair >> 16) == -4 * sum, $"row {r}, group {g}: {pair:X8}, want −4 · {sum} in both int16 halves");
            }
        if (k >= 40)
        {
            Assert.Equal([255, 130, 126, 132, 128, 128, 1, 128], act.Quants[..8]);
            Assert.True(float.IsNaN(act.GroupScales[1]));
            Assert.All(act.Quants[32..64], b => Assert.Equal(128, b));
        }
    }

    /// <summary>A row or group whose max |x| is so small that 1 / scale overflows (a subnormal scale) quantizes to
    /// zeros in every quantizer and on the vector and scalar paths alike (the vector path of Quantize once gave
    /// q = −127 for such a row's zeros: 0 · ∞ is NaN).</summary>
    [Theory]
    [InlineData(5)]     // scalar tail only
    [InlineData(64)]    // whole groups: the vector paths
    [InlineData(70)]    // both
    public void ATinyRowQuantizesToZeros(int k)
    {
        foreach (float tiny in new[] { 1e-40f, 3e-38f, -2e-39f })
        {
            float[] x = new float[2 * k];
            x[1 % k] = tiny;                       // row 0: one tiny value and zeros
            for (int i = 0; i < k; i++)            // row 1: tiny values only
                x[k + i] = i % 2 == 0 ? tiny : -tiny / 2;
            foreach (string rule in new[] { "row", "row+sums", "k-quant", "group" })
            {
                var act = new Int8Activations();
                switch (rule)
                {
                    case "row": act.Quantize(x, 2, k); break;
                    case "row+sums": act.Quantize(x, 2, k, groupSums: true); break;
                    case "k-quant": act.QuantizeWithKQuantSums(x, 2, k, q4k: true, q6k: true); break;
                    default: act.QuantizePerGroup(x, 2, k); break;
                }
                int padded = act.RowBytes;
                Assert.True(act.Quants.AsSpan(0, 2 * padded).IndexOfAnyExcept((byte)128) < 0, $"{rule}, {tiny}, k {k}: a q is not 0");
                Assert.True(act.Signed.AsSpan(0, 2 * padded).IndexOfAnyExcept((sbyte)0) < 0, $"{rule}, {tiny}, k {k}: a signed q is not 0");
                if (rule is "row+sums" or "group")
                    Assert.True(act.GroupSums.AsSpan(0, 2 * padded / 32).IndexOfAnyExcept(0) < 0);
            }
        }
    }
}
