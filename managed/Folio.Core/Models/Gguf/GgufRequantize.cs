namespace Folio.Core.Models.Gguf;

/// <summary>
/// The block types whose values no compact Folio format holds exactly — an affine d · q + m per group (Q4_1, Q5_1)
/// or per 16 weights (Q2_K): the int8 tiles have no min term — held as int8 groups of 32 re-quantized from the
/// block's exact fp32 values (<see cref="GgufDequantize.Blocks"/>): scale = max |value| / 127 in fp32, q = the value
/// / scale rounded to nearest even. Each weight moves by at most half a step (max |value| / 254 of its group): 8.5
/// bits a weight where fp32 took 32 (Q2_K's file holds 2.6), at the measured cost in bench/RESULTS.md (KL against
/// the F32 file beside llama.cpp's own on the same file).
/// </summary>
public static class GgufRequantize
{
    /// <summary>Whether <paramref name="type"/> is read this way.</summary>
    public static bool Applies(GgmlType type) => type is GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q2_K;

    /// <summary>One block of <paramref name="type"/> as int8 groups of 32: <paramref name="q"/> holds the block's
    /// elements, <paramref name="scales"/> one fp32 scale per 32 of them. <paramref name="values"/> is scratch of the
    /// block's element count.</summary>
    public static void Int8Groups(GgmlType type, ReadOnlySpan<byte> block, Span<float> values, Span<sbyte> q, Span<float> scales)
    {
        if (!Applies(type))
            throw new ArgumentException($"GGML type {GgmlTypes.Name(type)} is not re-quantized to int8");
        GgufDequantize.Blocks(type, block, values);
        for (int g = 0; g < scales.Length; g++)
        {
            var group = values.Slice(g * 32, 32);
            float max = 0;
            foreach (float v in group)
                max = MathF.Max(max, MathF.Abs(v));
            float scale = max / 127f;
            scales[g] = scale;
            var quants = q.Slice(g * 32, 32);
            if (scale == 0)
            {
                quants.Clear();
                continue;
            }
            for (int j = 0; j < 32; j++)
                quants[j] = (sbyte)Math.Clamp(MathF.Round(group[j] / scale, MidpointRounding.ToEven), -127f, 127f);
        }
    }
}
