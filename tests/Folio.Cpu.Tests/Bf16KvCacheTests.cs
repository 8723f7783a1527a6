using Folio.Core.Compute;

namespace Folio.Cpu.Tests;

/// <summary>
/// The CPU backend's bf16 KV cache: values rounded to nearest even on the way in (the vector path's bits equal the
/// scalar rule's), the one-pass attention over the bf16 cache equal bit for bit to the fp32 kernel over the same
/// rounded values (widening is exact), and a clear refusal where no kernel reads bf16. Block copies and swaps of a
/// bf16 cache: BlockMoveTests.
/// </summary>
public sealed class Bf16KvCacheTests
{
    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)]   // 1
    [InlineData(0x3F808000u, (ushort)0x3F80)]   // exactly half an ulp above 1, even below: down
    [InlineData(0x3F818000u, (ushort)0x3F82)]   // half an ulp, odd below: up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)]   // just past half: up
    [InlineData(0xBF807FFFu, (ushort)0xBF80)]   // just below half, negative: down in magnitude
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)]   // fp32's largest: past bf16's largest, to ∞
    [InlineData(0x7F800000u, (ushort)0x7F80)]   // ∞
    [InlineData(0x7F800001u, (ushort)0x7FC0)]   // a signalling NaN: a quiet NaN, not ∞
    [InlineData(0x00000001u, (ushort)0x0000)]   // the smallest denormal rounds to zero
    public void RoundsToNearestEven(uint bits, ushort expected)
    {
        Assert.Equal(expected, BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(bits)));
        var one = new ushort[1];
        Bf16Rounding.Round([BitConverter.UInt32BitsToSingle(bits)], one);
        Assert.Equal(expected, one[0]);
    }

    [Fact]
    public void TheVectorPathEqualsTheScalarRule()
    {
        var rng = new Random(3);
        var source = new float[1007];   // whole vectors and a tail
        for (int i = 0; i < source.Length; i++)
            source[i] = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));   // every kind of bits, NaNs included
        for (int i = 0; i < 64; i++)
            source[i * 13] = BitConverter.UInt32BitsToSingle(0x3F808000u + ((uint)i << 16));   // ties, both parities
        var rounded = new ushort[source.Length];
        Bf16Rounding.Round(source, rounded);
        for (int i = 0; i < source.Length; i++)
            Assert.True(BFloat16.FromSingle(source[i]) == rounded[i], $"element {i}: {BitConverter.SingleToUInt32Bits(source[i]):X8}");
    }

    /// <summary>Each attention kernel over a bf16 cache gives the bits it gives over the same values widened to fp32:
    /// the bf16 cache changes what is stored, not the arithmetic. The two-pass kernel on every CPU and head size, the
    /// one-pass one where AVX-512 runs and the head size is a multiple of 16.</summary>
    [Theory]
    [InlineData(1, 3, 64)]
    [InlineData(17, 1, 64)]
    [InlineData(160, 3, 64)]
    [InlineData(47, 2, 128)]
    [InlineData(37, 2, 16)]
    [InlineData(33, 3, 80)]
    [InlineData(29, 3, 8)]
    [InlineData(30, 2, 20)]
    public void AttentionOverBf16EqualsTheFp32KernelOverTheRoundedValues(int count, int group, int d)
    {
        var rng = new Random(count * 7 + d);
        const int kvHeads = 2;
        int slotFloats = kvHeads * d;
        int padded = (count + 15) / 16 * 16;
        var slots = Enumerable.Range(0, padded).Select(i => Math.Min(i, count - 1)).OrderBy(_ => rng.Next()).ToArray();
        for (int i = 0; i < padded; i++)
            slots[i] *= slotFloats;
        // Slot i of the row: a shuffled cache slot (the padding, which only the one-pass kernel reads, repeats valid ones).
        var (keys16, values16, keys, values, q) = RoundedCache(rng, count * slotFloats, kvHeads * group * d);
        var fromBf16 = new float[q.Length];
        var fromFp32 = new float[q.Length];
        PagedAttentionKernel.TwoPass<ushort, Bf16Elements>(ref keys16[0], ref values16[0], slots, count, q, fromBf16, kvHeads, group, d, 0.125f);
        PagedAttentionKernel.TwoPass<float, F32Elements>(ref keys[0], ref values[0], slots, count, q, fromFp32, kvHeads, group, d, 0.125f);
        Assert.Equal(fromFp32.Select(BitConverter.SingleToInt32Bits), fromBf16.Select(BitConverter.SingleToInt32Bits));
        Assert.Contains(fromBf16, v => v != 0f);
        if (!OnlineSoftmaxAttention.Supports(d))
            return;
        fromBf16 = new float[q.Length];
        fromFp32 = new float[q.Length];
        OnlineSoftmaxAttention.Run<ushort, Bf16Elements>(ref keys16[0], ref values16[0], slots, count, q, fromBf16, kvHeads, group, d, 0.125f);
        OnlineSoftmaxAttention.Run<float, F32Elements>(ref keys[0], ref values[0], slots, count, q, fromFp32, kvHeads, group, d, 0.125f);
        Assert.Equal(fromFp32.Select(BitConverter.SingleToInt32Bits), fromBf16.Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>Random K and V rounded to bf16 (<paramref name="cacheValues"/> each), the same values widened back to fp32,
    /// and random queries.</summary>
    private static (ushort[] Keys16, ushort[] Values16, float[] Keys, float[] Values, float[] Q) RoundedCache(Random rng, int cacheValues, int queryValues)
    {
        var keys16 = new ushort[cacheValues];
        var values16 = new ushort[cacheValues];
        Bf16Rounding.Round([.. Enumerable.Range(0, cacheValues).Select(_ => (float)(rng.NextDouble() * 2 - 1))], keys16);
        Bf16Rounding.Round([.. Enumerable.Range(0, cacheValues).Select(_ => (float)(rng.NextDouble() * 4 - 2))], values16);
        float[] keys = [.. keys16.Select(b => BitConverter.Int32BitsToSingle(b << 16))];
        float[] values = [.. values16.Select(b => BitConverter.Int32BitsToSingle(b << 16))];
        float[] q = [.. Enumerable.Range(0, queryValues).Select(_ => (float)(rng.NextDouble() * 8 - 4))];
        return (keys16, values16, keys, values, q);
    }

    [Fact]
    public void ACacheNoKernelReadsIsRefusedClearlyAndBf16IsKeptForEveryHeadSize()
    {
        using var backend = new CpuBackend(1);
        var f16 = Assert.Throws<ArgumentException>(() => backend.AllocateKvCache(1, 4, 16, 1, 64, DType.F16));
        Assert.Contains("F32 or BF16", f16.Message);
        Assert.Throws<ArgumentException>(() => new CpuBackend(1, kvCacheType: DType.F16));
        foreach (int d in new[] { 64, 8 })
        {
            using var bf16 = backend.AllocateKvCache(1, 4, 16, 1, d, DType.BF16);
            Assert.Equal(DType.BF16, bf16.DType);
            Assert.Equal(16L * d * 2, bf16.BlockBytes);
        }
    }
}
