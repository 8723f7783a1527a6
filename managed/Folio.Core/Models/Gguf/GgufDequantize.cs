using System.Buffers.Binary;

namespace Folio.Core.Models.Gguf;

/// <summary>
/// ggml's block formats to fp32, element for element as ggml's dequantize_row_* (and gguf-py's
/// dequantize_blocks, which the tests compare against bit for bit): every product is one fp32 multiply of
/// fp32 operands, no fused multiply-add, so the rounding is the reference's.
/// </summary>
public static class GgufDequantize
{
    /// <summary>Whole blocks of <paramref name="type"/> in <paramref name="src"/> to <paramref name="dst"/>.</summary>
    public static void Blocks(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                return;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = Half(src, 2 * i);
                return;
            case GgmlType.BF16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                return;
        }
        // Block formats: the sizes from ggml's type traits (GgmlTypes), one block at a time.
        if (!GgmlTypes.TryBlock(type, out int elements, out int bytes))
            throw new ArgumentException($"GGML type {GgmlTypes.Name(type)} has no dequantizer");
        for (int b = 0; b * elements < dst.Length; b++)
            Block(type, src.Slice(b * bytes, bytes), dst.Slice(b * elements, elements));
    }

    /// <summary>One block of <paramref name="type"/> into its <paramref name="dst"/> values.</summary>
    private static void Block(GgmlType type, ReadOnlySpan<byte> block, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.Q8_0:
            {
                float d = Half(block, 0);
                for (int j = 0; j < 32; j++)
                    dst[j] = (sbyte)block[2 + j] * d;
                break;
            }
            case GgmlType.Q4_0:
            {
                float d = Half(block, 0);
                for (int j = 0; j < 32; j++)
                    dst[j] = d * (Nibble(block[2..], j) - 8);
                break;
            }
            case GgmlType.IQ4_NL:
            {
                float d = Half(block, 0);
                for (int j = 0; j < 32; j++)
                    dst[j] = d * NonLinear4[Nibble(block[2..], j)];
                break;
            }
            case GgmlType.Q4_1:
                Q4Or5(block, hasMin: true, highBits: false, dst);
                break;
            case GgmlType.Q5_0:
                Q4Or5(block, hasMin: false, highBits: true, dst);
                break;
            case GgmlType.Q5_1:
                Q4Or5(block, hasMin: true, highBits: true, dst);
                break;
            case GgmlType.Q2_K:
                Q2K(block, dst);
                break;
            case GgmlType.Q3_K:
                Q3K(block, dst);
                break;
            case GgmlType.Q4_K:
                Q4KOr5K(block, highBits: false, dst);
                break;
            case GgmlType.Q5_K:
                Q4KOr5K(block, highBits: true, dst);
                break;
            case GgmlType.Q6_K:
                Q6K(block, dst);
                break;
            case GgmlType.IQ4_XS:
                IQ4XS(block, dst);
                break;
            default:
                throw new ArgumentException($"GGML type {GgmlTypes.Name(type)} has no dequantizer");
        }
    }

    /// <summary>A Q8_0, Q5_0, Q4_0 or IQ4_NL block as d · q with q int8 and d a non-negative fp16 (<paramref name="scale"/>,
    /// its bits): Q8_0's values, Q5_0's q − 16, Q4_0's q − 8 or IQ4_NL's table level, negated with d where d is negative, so that
    /// d · q is the block's value exactly as <see cref="Blocks"/> computes it (a Q8_0 −128 with a negative d, whose
    /// negation no int8 holds, comes out clamped to 127: the caller checks for −128 in the file first).</summary>
    public static void Int8Group(GgmlType type, ReadOnlySpan<byte> block, Span<sbyte> q, out ushort scale)
    {
        ushort d = BinaryPrimitives.ReadUInt16LittleEndian(block);
        int sign = (d & 0x8000) != 0 ? -1 : 1;
        scale = (ushort)(d & 0x7FFF);
        if (type == GgmlType.Q8_0)
        {
            // Q8_0's values as they are (a −128 stays −128 here: the caller refuses the int8 form for it).
            for (int j = 0; j < 32; j++)
                q[j] = (sbyte)Math.Clamp(sign * (sbyte)block[2 + j], sbyte.MinValue, sbyte.MaxValue);
            return;
        }
        uint high = type == GgmlType.Q5_0 ? BinaryPrimitives.ReadUInt32LittleEndian(block[2..]) : 0;
        var qs = block.Slice(type == GgmlType.Q5_0 ? 6 : 2, 16);
        for (int j = 0; j < 32; j++)
        {
            int nibble = Nibble(qs, j);
            int value = type switch
            {
                GgmlType.Q5_0 => (nibble | (int)((high >> j) & 1) << 4) - 16,
                GgmlType.Q4_0 => nibble - 8,
                GgmlType.IQ4_NL => NonLinear4[nibble],
                _ => throw new ArgumentException($"GGML type {GgmlTypes.Name(type)} has no int8 group form"),
            };
            q[j] = (sbyte)(sign * value);
        }
    }

    /// <summary>An IQ4_XS block (256 weights) as 8 groups d_s · q: q the table levels, d_s = d · (scale[s] − 32) the
    /// fp32 product <see cref="Blocks"/> computes, so that d_s · q is the block's value exactly.</summary>
    public static void Int8Groups(ReadOnlySpan<byte> block, Span<sbyte> q, Span<float> scales)
    {
        float d = Half(block, 0);
        int high = BinaryPrimitives.ReadUInt16LittleEndian(block[2..]);
        var low = block.Slice(4, 4);
        var qs = block.Slice(8, 128);
        for (int s = 0; s < 8; s++)
        {
            int scale = ((low[s / 2] >> (4 * (s % 2))) & 0xF) | ((high >> (2 * s)) & 3) << 4;
            scales[s] = d * (sbyte)(scale - 32);
            for (int j = 0; j < 16; j++)
            {
                q[s * 32 + j] = NonLinear4[qs[16 * s + j] & 0xF];
                q[s * 32 + j + 16] = NonLinear4[qs[16 * s + j] >> 4];
            }
        }
    }

    /// <summary>Value j (0..31) of a 32-value block's 16 nibble bytes: low nibbles are values 0..15, high 16..31.</summary>
    private static int Nibble(ReadOnlySpan<byte> qs, int j) => j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4;

    private static float Half(ReadOnlySpan<byte> s, int at) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s[at..]));

    /// <summary>IQ4_NL's and IQ4_XS's 16 levels, which a nibble indexes (ggml's kvalues_iq4nl).</summary>
    private static ReadOnlySpan<sbyte> NonLinear4 => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>Q4_1, Q5_0 and Q5_1's 32 weights: fp16 d, then (Q4_1, Q5_1) fp16 m, then (Q5_*) 32 high bits
    /// (little-endian, bit j for weight j), then 16 bytes whose low nibbles are weights 0..15 and high nibbles
    /// 16..31. With a min w = d · q + m (q unsigned, 4 or 5 bits); Q5_0: w = d · (q − 16).</summary>
    private static void Q4Or5(ReadOnlySpan<byte> block, bool hasMin, bool highBits, Span<float> dst)
    {
        float d = Half(block, 0), m = hasMin ? Half(block, 2) : 0f;
        int at = hasMin ? 4 : 2;
        uint high = highBits ? BinaryPrimitives.ReadUInt32LittleEndian(block[at..]) : 0;
        var qs = block.Slice(highBits ? at + 4 : at, 16);
        for (int j = 0; j < 32; j++)
        {
            int q = Nibble(qs, j) | (int)((high >> j) & 1) << 4;
            dst[j] = hasMin ? d * q + m : d * (q - 16);
        }
    }

    /// <summary>256 weights in 16 sub-blocks of 16: w = d · (scale[s] &amp; 15) · q − dmin · (scale[s] &gt;&gt; 4), q 2
    /// bits. Weight e = 128c + 32k + l is bits 2k of byte 32c + l of the values.</summary>
    private static void Q2K(ReadOnlySpan<byte> block, Span<float> dst)
    {
        var scales = block[..16];
        var qs = block.Slice(16, 64);
        float d = Half(block, 80), dmin = Half(block, 82);
        for (int e = 0; e < 256; e++)
        {
            int c = e / 128, k = e % 128 / 32, l = e % 32, s = e / 16;
            float dl = d * (scales[s] & 0xF), ml = dmin * (scales[s] >> 4);
            dst[e] = dl * ((qs[32 * c + l] >> (2 * k)) & 3) - ml;
        }
    }

    /// <summary>256 weights in 16 sub-blocks of 16: w = d · (scale[s] − 32) · (q − 4 · (1 − h)), q 2 bits (weight
    /// e = 128c + 32k + l: bits 2k of byte 32c + l) and h its bit e / 32 of high-bit byte e % 32. The 6-bit scales:
    /// low nibbles from bytes 0..7 (s &lt; 8 the low nibble of byte s, else the high nibble of byte s − 8), top two bits
    /// from bytes 8..11 (bits 2(s / 4) of byte 8 + s % 4).</summary>
    private static void Q3K(ReadOnlySpan<byte> block, Span<float> dst)
    {
        var hmask = block[..32];
        var qs = block.Slice(32, 64);
        var scales = block.Slice(96, 12);
        float d = Half(block, 108);
        for (int e = 0; e < 256; e++)
        {
            int c = e / 128, k = e % 128 / 32, l = e % 32, s = e / 16;
            int low = s < 8 ? scales[s] & 0xF : scales[s - 8] >> 4;
            int top = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
            float dl = d * (sbyte)((low | top << 4) - 32);
            int q = ((qs[32 * c + l] >> (2 * k)) & 3) - (((hmask[l] >> (e / 32)) & 1) ^ 1) * 4;
            dst[e] = dl * q;
        }
    }

    /// <summary>Q4_K's 6-bit scale and min of sub-block s (of 8) from its 12 packed bytes: the first four of each in
    /// bytes 0..7, the upper bits of the last four in bytes 8..11 and the top 2 bits of bytes 0..7.</summary>
    private static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> scales, int s) => s < 4
        ? (scales[s] & 63, scales[s + 4] & 63)
        : ((scales[s + 4] & 0xF) | ((scales[s - 4] >> 6) << 4), (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));

    /// <summary>256 weights in 8 sub-blocks of 32: w = d · (scale[s] − 32) · level[nibble], the product of
    /// <see cref="Int8Groups"/>'s decode (the 6-bit scales are a nibble of byte s / 2 of the 4 low-scale bytes, low
    /// first, and bits 2s of the 16-bit high-scale word; sub-block s's nibbles are bytes 16s .. 16s + 15, low nibbles
    /// weights 0..15, high 16..31).</summary>
    private static void IQ4XS(ReadOnlySpan<byte> block, Span<float> dst)
    {
        Span<sbyte> q = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[8];
        Int8Groups(block, q, scales);
        for (int i = 0; i < 256; i++)
            dst[i] = scales[i / 32] * q[i];
    }

    /// <summary>Q4_K and Q5_K's 256 weights in 8 sub-blocks of 32: w = d · scale[s] · q − dmin · min[s]; scales and
    /// mins are 6-bit, packed in 12 bytes (<see cref="ScaleMin"/>). q is a nibble (byte 32c + l holds sub-block 2c
    /// low, 2c + 1 high); Q5_K's 32 high-bit bytes come before the nibbles, bit s of byte l the fifth bit.</summary>
    private static void Q4KOr5K(ReadOnlySpan<byte> block, bool highBits, Span<float> dst)
    {
        float d = Half(block, 0), dmin = Half(block, 2);
        var scales = block.Slice(4, 12);
        var qh = highBits ? block.Slice(16, 32) : default;
        var qs = block.Slice(highBits ? 48 : 16, 128);
        for (int s = 0; s < 8; s++)
        {
            var (sc, m) = ScaleMin(scales, s);
            float ds = d * sc, dm = dmin * m;
            int chunk = s / 2, shift = s % 2 * 4;
            for (int l = 0; l < 32; l++)
            {
                int q = (qs[chunk * 32 + l] >> shift) & 0xF;
                if (highBits)
                    q |= ((qh[l] >> s) & 1) << 4;
                dst[s * 32 + l] = ds * q - dm;
            }
        }
    }

    /// <summary>256 weights in 16 sub-blocks of 16: w = d · scale[e / 16] · (q − 32), q 6 bits: a nibble of ql
    /// and 2 bits of qh. Group G = e / 32 (h = G / 4, r = G % 4): ql byte 64h + 32(r % 2) + l, nibble r / 2;
    /// qh byte 32h + l, bits 2r.</summary>
    private static void Q6K(ReadOnlySpan<byte> block, Span<float> dst)
    {
        var ql = block[..128];
        var qh = block.Slice(128, 64);
        var scales = block.Slice(192, 16);
        float d = Half(block, 208);
        for (int e = 0; e < 256; e++)
        {
            int g = e / 32, l = e % 32, h = g / 4, r = g % 4;
            int low = (ql[64 * h + 32 * (r % 2) + l] >> (4 * (r / 2))) & 0xF;
            int high = (qh[32 * h + l] >> (2 * r)) & 3;
            float ds = d * (sbyte)scales[e / 16];
            dst[e] = ds * ((low | (high << 4)) - 32);
        }
    }
}
