using Folio.Core.Compute;

namespace Folio.Cpu.Tests.KQuant;

/// <summary>Q4_K, Q5_K and Q6_K blocks for the tests: quantized from fp32 by a plain min/max rule (not llama.cpp's search,
/// which only picks better scales; any block the format can hold is valid input to the kernels), packed as
/// ggml stores them (the layout <c>GgufDequantize</c> reads, which is checked against gguf-py).</summary>
internal static class KQuantTestBlocks
{
    public static byte[] Quantize(KQuantFormat format, ReadOnlySpan<float> w) => format switch
    {
        KQuantFormat.Q4K => Q4K(w, five: false),
        KQuantFormat.Q5K => Q4K(w, five: true),
        KQuantFormat.Q6K => Q6K(w),
        _ => throw new ArgumentException($"no test quantizer for {format.Name()} (random blocks cover it)"),
    };

    /// <summary>Rows of 256-weight blocks: sub-block j of 32 gets scale (max − min) / 15 (Q5_K: / 31) and min −min
    /// (min ≤ 0), both as 6-bit multiples of fp16 d and dmin; Q5_K's fifth bits go to bit j of byte 16 + l.</summary>
    public static byte[] Q4K(ReadOnlySpan<float> w, bool five)
    {
        int size = five ? 176 : 144, levels = five ? 31 : 15, nibbles = five ? 48 : 16;
        var output = new byte[w.Length / 256 * size];
        for (int b = 0; b < w.Length / 256; b++)
        {
            var x = w.Slice(b * 256, 256);
            var block = output.AsSpan(b * size, size);
            float[] scale = new float[8], min = new float[8];
            for (int j = 0; j < 8; j++)
            {
                float lo = 0, hi = 0;
                for (int l = 0; l < 32; l++)
                {
                    lo = Math.Min(lo, x[32 * j + l]);
                    hi = Math.Max(hi, x[32 * j + l]);
                }
                scale[j] = (hi - lo) / levels;
                min[j] = -lo;
            }
            var d = (Half)(scale.Max() / 63);
            var dmin = (Half)(min.Max() / 63);
            BitConverter.TryWriteBytes(block[0..], BitConverter.HalfToUInt16Bits(d));
            BitConverter.TryWriteBytes(block[2..], BitConverter.HalfToUInt16Bits(dmin));
            int[] sc = new int[8], m = new int[8];
            for (int j = 0; j < 8; j++)
            {
                sc[j] = (float)d == 0 ? 0 : Math.Clamp((int)MathF.Round(scale[j] / (float)d), 0, 63);
                m[j] = (float)dmin == 0 ? 0 : Math.Clamp((int)MathF.Round(min[j] / (float)dmin), 0, 63);
            }
            var packed = block.Slice(4, 12);
            for (int j = 0; j < 4; j++)
            {
                packed[j] = (byte)(sc[j] | (sc[j + 4] >> 4) << 6);
                packed[j + 4] = (byte)(m[j] | (m[j + 4] >> 4) << 6);
                packed[j + 8] = (byte)((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
            }
            for (int j = 0; j < 8; j++)
            {
                float ds = (float)d * sc[j], dm = (float)dmin * m[j];
                for (int l = 0; l < 32; l++)
                {
                    int q = ds == 0 ? 0 : Math.Clamp((int)MathF.Round((x[32 * j + l] + dm) / ds), 0, levels);
                    block[nibbles + 32 * (j / 2) + l] |= (byte)((q & 0xF) << (4 * (j % 2)));
                    if (five)
                        block[16 + l] |= (byte)((q >> 4) << j);
                }
            }
        }
        return output;
    }

    /// <summary>Rows of 256-weight blocks: sub-block j of 16 gets the int8 scale round(a_j / d) with a_j = its largest
    /// |w| / 31 and d = fp16(max a_j / 127); q = clamp(round(w / (d · sc_j)), −32, 31), stored + 32.</summary>
    public static byte[] Q6K(ReadOnlySpan<float> w)
    {
        var output = new byte[w.Length / 256 * 210];
        for (int b = 0; b < w.Length / 256; b++)
        {
            var x = w.Slice(b * 256, 256);
            var block = output.AsSpan(b * 210, 210);
            float[] a = new float[16];
            for (int j = 0; j < 16; j++)
                for (int l = 0; l < 16; l++)
                    a[j] = Math.Max(a[j], Math.Abs(x[16 * j + l]) / 31);
            var d = (Half)(a.Max() / 127);
            BitConverter.TryWriteBytes(block[208..], BitConverter.HalfToUInt16Bits(d));
            for (int j = 0; j < 16; j++)
            {
                int sc = (float)d == 0 ? 0 : Math.Clamp((int)MathF.Round(a[j] / (float)d), -128, 127);
                // Alternate the sign of the scales (Q6_K's are signed) with the weights' so the values stay the same.
                if (j % 3 == 1)
                    sc = -sc;
                block[192 + j] = (byte)(sbyte)sc;
                float ds = (float)d * sc;
                for (int l = 0; l < 16; l++)
                {
                    int e = 16 * j + l, g = e / 32, i = e % 32, h = g / 4, r = g % 4;
                    int q = ds == 0 ? 0 : Math.Clamp((int)MathF.Round(x[e] / ds), -32, 31) + 32;
                    block[64 * h + 32 * (r % 2) + i] |= (byte)((q & 0xF) << (4 * (r / 2)));
                    block[128 + 32 * h + i] |= (byte)((q >> 4) << (2 * r));
                }
            }
        }
        return output;
    }
}
