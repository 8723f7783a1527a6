using Folio.Cpu;
using Xunit;

namespace Folio.Cpu.Tests;

/// <summary>
/// The one-pass AVX-512 attention against a double-precision softmax on odd position counts (partial last blocks),
/// GQA groups that split into chunks of four, two head sizes, scattered slots, and scores that rise along the row (the
/// running max, and so the rescale of the sums, changes in every block); and the bits of a head independent of which
/// other KV heads share its call (the kernel's batch-invariance premise).
/// </summary>
public class OnlineSoftmaxAttentionTests
{
    private static float[] Random(int n, Random rng, float range)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * range;
        return x;
    }

    /// <summary>A cache of `positions` slots of `kvHeads`·d floats each at shuffled slot indices, plus padding.</summary>
    private sealed record Case(float[] Keys, float[] Values, int[] Slots, float[] Q, int Count, int KvHeads, int Group, int D)
    {
        public static Case Make(int count, int kvHeads, int group, int d, int seed, float qRange, bool rising)
        {
            var rng = new Random(seed);
            int slotFloats = kvHeads * d + 16;  // other heads' data between rows, as in the real cache
            int slotsInCache = count + 7;
            float[] keys = Random(slotsInCache * slotFloats, rng, 1f), values = Random(slotsInCache * slotFloats, rng, 2f);
            var order = Enumerable.Range(0, slotsInCache).OrderBy(_ => rng.Next()).ToArray();
            int padded = (count + 15) / 16 * 16;
            var slots = new int[padded];
            for (int i = 0; i < padded; i++)
                slots[i] = order[Math.Min(i, count - 1) % slotsInCache] * slotFloats + 16;
            if (rising)
            {
                // K rows along q's direction growing with the position: each block's scores exceed the last's.
                for (int i = 0; i < count; i++)
                    for (int c = 0; c < kvHeads * d; c++)
                        keys[slots[i] + c] += 0.02f * i;
            }
            float[] q = Random(kvHeads * group * d, rng, qRange);
            if (rising)
                for (int c = 0; c < q.Length; c++)
                    q[c] = Math.Abs(q[c]);
            return new Case(keys, values, slots, q, count, kvHeads, group, d);
        }

        public float[] Run(float scale)
        {
            var output = new float[KvHeads * Group * D];
            OnlineSoftmaxAttention.Run<float, F32Elements>(ref Keys[0], ref Values[0], Slots, Count, Q, output, KvHeads, Group, D, scale);
            return output;
        }

        /// <summary>The two-pass path's result (<see cref="PagedAttentionKernel.TwoPass"/>: every CPU, every head size).</summary>
        public float[] RunTwoPass(float scale)
        {
            var output = new float[KvHeads * Group * D];
            PagedAttentionKernel.TwoPass<float, F32Elements>(ref Keys[0], ref Values[0], Slots, Count, Q, output, KvHeads, Group, D, scale);
            return output;
        }

        public double[] Reference(float scale)
        {
            var output = new double[KvHeads * Group * D];
            for (int h = 0; h < KvHeads; h++)
                for (int g = h * Group; g < (h + 1) * Group; g++)
                {
                    var s = new double[Count];
                    for (int i = 0; i < Count; i++)
                        for (int c = 0; c < D; c++)
                            s[i] += (double)Q[g * D + c] * scale * Keys[Slots[i] + h * D + c];
                    double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
                    for (int i = 0; i < Count; i++)
                        for (int c = 0; c < D; c++)
                            output[g * D + c] += Math.Exp(s[i] - max) / sum * Values[Slots[i] + h * D + c];
                }
            return output;
        }
    }

    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 1, 3, 64, false }, { 15, 3, 64, false }, { 16, 3, 64, false }, { 17, 1, 64, false }, { 100, 4, 64, false },
        { 160, 3, 64, true }, { 333, 5, 64, true }, { 47, 2, 128, false }, { 150, 8, 128, true },
        { 1, 2, 16, false }, { 37, 2, 16, true }, { 70, 3, 32, false }, { 129, 1, 48, true }, { 33, 3, 80, false },
    };

    /// <summary>The one-pass kernel (where AVX-512 runs; one and two KV heads a call) and the two-pass path (every CPU;
    /// one, two and four KV heads a call, read position by position) against the double softmax.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTheDoubleSoftmaxUpToFp32Rounding(int count, int group, int d, bool rising)
    {
        const float scale = 0.125f;
        foreach (int kvHeads in new[] { 1, 2, 4 })
        {
            var c = Case.Make(count, kvHeads, group, d, seed: count * 31 + group, qRange: 4f, rising);
            double[] expected = c.Reference(scale);
            AssertNear(expected, c.RunTwoPass(scale));
            if (kvHeads <= 2 && OnlineSoftmaxAttention.Supports(d))
                AssertNear(expected, c.Run(scale));
        }

        // Each output is a convex combination of V values within ±2: fp32 rounding in the scores (|s| ≲ 40 here)
        // and the sums leaves a few 1e-6 relative; 2e-5 absolute is far below any wrong weighting or position.
        static void AssertNear(double[] expected, float[] got)
        {
            for (int i = 0; i < got.Length; i++)
                Assert.InRange(got[i], expected[i] - 2e-5, expected[i] + 2e-5);
        }
    }

    /// <summary>The two-pass path's batch-invariance premise: a query head's bits are those of its KV head run alone,
    /// whatever other KV heads share the call (head sizes with and without a vector tail).</summary>
    [Theory]
    [InlineData(150, 64)]
    [InlineData(33, 80)]
    [InlineData(7, 20)]
    public void TheTwoPassPathsHeadBitsDoNotDependOnTheOtherKvHeadsOfItsCall(int count, int d) =>
        AssertHeadsIndependent(Case.Make(count, kvHeads: 4, group: 3, d, seed: 11, qRange: 4f, rising: false), c => c.RunTwoPass(0.125f));

    /// <summary>The two-pass path scores a group's query heads three at a time (<see cref="AttentionMath.Dot4x3"/>) and
    /// the rest one by one, and adds their V sums the same way (<see cref="AttentionMath.Axpy4x3"/>): a query head's
    /// bits are those it gets as the only head of its group, for groups that split 3, 3 + 1, 3 + 2 and 3 + 3 (b8 has 3,
    /// Llama-3 4); an fp32 cache here, bf16 rows in AttentionMathTests.</summary>
    [Theory]
    [InlineData(3, 64)]
    [InlineData(4, 64)]
    [InlineData(5, 20)]
    [InlineData(6, 64)]
    public void TheTwoPassPathsHeadBitsDoNotDependOnItsGroupsSize(int group, int d)
    {
        var all = Case.Make(45, kvHeads: 2, group, d, seed: group * 13 + d, qRange: 4f, rising: false);
        float[] together = all.RunTwoPass(0.125f);
        for (int g = 0; g < all.KvHeads * group; g++)
        {
            int h = g / group;
            var alone = all with { Slots = all.Slots.Select(s => s + h * all.D).ToArray(), Q = all.Q[(g * d)..((g + 1) * d)], KvHeads = 1, Group = 1 };
            float[] one = alone.RunTwoPass(0.125f);
            Assert.Equal(together[(g * d)..((g + 1) * d)].Select(BitConverter.SingleToInt32Bits), one.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [KernelFact(CpuKernel.OnePassAttention)]
    public void AHeadsBitsDoNotDependOnTheOtherKvHeadsOfItsCall()
    {
        AssertHeadsIndependent(Case.Make(150, kvHeads: 2, group: 3, d: 64, seed: 5, qRange: 4f, rising: false), c => c.Run(0.125f));
    }

    /// <summary>Each KV head of <paramref name="all"/> run alone (its slots shifted by h·d, its query heads) gives the
    /// bits it gets beside the others.</summary>
    private static void AssertHeadsIndependent(Case all, Func<Case, float[]> run)
    {
        float[] together = run(all);
        int headFloats = all.Group * all.D;
        for (int h = 0; h < all.KvHeads; h++)
        {
            var alone = all with { Slots = all.Slots.Select(s => s + h * all.D).ToArray(), Q = all.Q[(h * headFloats)..((h + 1) * headFloats)], KvHeads = 1 };
            float[] one = run(alone);
            Assert.Equal(together[(h * headFloats)..((h + 1) * headFloats)].Select(BitConverter.SingleToInt32Bits), one.Select(BitConverter.SingleToInt32Bits));
        }
    }

    /// <summary>
    /// RunRows (a prompt tile: rows sharing one KV head's blocks) gives every row the bits Run gives it alone, for
    /// causal rows (all from position 0, one more position each) and sliding-window rows (each row's positions from
    /// its own first, so the rows' blocks start at different slots), fp32 and bf16 caches, head sizes of both score
    /// paths and GQA groups split into chunks of four.
    /// </summary>
    [KernelTheory(CpuKernel.OnePassAttention)]
    [InlineData(13, 3, 64, 0, 0)]
    [InlineData(16, 3, 64, 40, 0)]
    [InlineData(7, 5, 128, 17, 0)]
    [InlineData(16, 2, 16, 3, 0)]
    [InlineData(9, 1, 48, 30, 0)]
    [InlineData(16, 3, 64, 70, 21)]
    [InlineData(11, 4, 16, 50, 5)]
    [InlineData(5, 3, 128, 0, 16)]
    public void ARowsBitsInATileAreItsBitsAlone(int rows, int group, int d, int cached, int window)
    {
        Assert.True(OnlineSoftmaxAttention.Supports(d), $"head size {d}");
        int last = cached + rows - 1;
        int First(int position) => window > 0 ? Math.Max(0, position - window + 1) : 0;
        int first0 = First(cached);
        var c = Case.Make(last + 1 - first0, kvHeads: 1, group, d, seed: rows * 7 + d + window, qRange: 4f, rising: false);
        // The case's slots (shuffled, padded with its last position's slot) as the tile's slot list over first0 .. last.
        var slots = c.Slots.Concat(Enumerable.Repeat(c.Slots[0], 16)).ToArray();
        int[] starts = new int[rows], counts = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            starts[i] = First(cached + i) - first0;
            counts[i] = cached + i + 1 - First(cached + i);
        }
        var rng = new Random(rows + d);
        int heads = group * d, stride = heads + 32;   // rows of a wider tensor, as a tile's q and output are
        float[] q = Random(rows * stride, rng, 4f);
        ushort[] keys16 = c.Keys.Select(Bf16).ToArray(), values16 = c.Values.Select(Bf16).ToArray();
        foreach (bool bf16 in new[] { false, true })
        {
            var tile = new float[rows * stride];
            if (bf16)
                OnlineSoftmaxAttention.RunRows<ushort, Bf16Elements>(ref keys16[0], ref values16[0], slots, starts, counts, q, stride,
                    tile, stride, 1, group, d, 0.125f);
            else
                OnlineSoftmaxAttention.RunRows<float, F32Elements>(ref c.Keys[0], ref c.Values[0], slots, starts, counts, q, stride,
                    tile, stride, 1, group, d, 0.125f);
            for (int i = 0; i < rows; i++)
            {
                var alone = new float[heads];
                // Run's own padding: its slots past the row's count repeat the row's first slot.
                int padded = (counts[i] + 15) / 16 * 16;
                var own = Enumerable.Range(0, padded).Select(j => slots[starts[i] + (j < counts[i] ? j : 0)]).ToArray();
                var qi = q.AsSpan(i * stride, heads);
                if (bf16)
                    OnlineSoftmaxAttention.Run<ushort, Bf16Elements>(ref keys16[0], ref values16[0], own, counts[i], qi, alone, 1, group, d, 0.125f);
                else
                    OnlineSoftmaxAttention.Run<float, F32Elements>(ref c.Keys[0], ref c.Values[0], own, counts[i], qi, alone, 1, group, d, 0.125f);
                Assert.Equal(alone.Select(BitConverter.SingleToInt32Bits), tile.AsSpan(i * stride, heads).ToArray().Select(BitConverter.SingleToInt32Bits));
                Assert.All(tile.AsSpan(i * stride + heads, stride - heads).ToArray(), x => Assert.Equal(0f, x));   // nothing past the row's heads
            }
        }
    }

    /// <summary>The high half of x's bits (truncation: any bf16 will do for a bits comparison).</summary>
    private static ushort Bf16(float x) => (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16);
}
