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
                break;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = Half(src, 2 * i);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b * 32 < dst.Length; b++)
                {
                    var block = src.Slice(b * 34, 34);
                    float d = Half(block, 0);
                    for (int j = 0; j < 32; j++)
                        dst[b * 32 + j] = (sbyte)block[2 + j] * d;
                }
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b * 32 < dst.Length; b++)
                {
                    var block = src.Slice(b * 18, 18);
                    float d = Half(block, 0);
                    for (int j = 0; j < 16; j++)
                    {
                        dst[b * 32 + j] = d * ((block[2 + j] & 0xF) - 8);
                        dst[b * 32 + j + 16] = d * ((block[2 + j] >> 4) - 8);
                    }
                }
                break;
            case GgmlType.Q4_K:
                for (int b = 0; b * 256 < dst.Length; b++)
                    Q4K(src.Slice(b * 144, 144), dst.Slice(b * 256, 256));
                break;
            case GgmlType.Q6_K:
                for (int b = 0; b * 256 < dst.Length; b++)
                    Q6K(src.Slice(b * 210, 210), dst.Slice(b * 256, 256));
                break;
            default:
                throw new ArgumentException($"GGML type {GgmlTypes.Name(type)} has no dequantizer");
        }
    }

    private static float Half(ReadOnlySpan<byte> s, int at) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s[at..]));

    /// <summary>256 weights in 8 sub-blocks of 32: w = d · scale[s] · q − dmin · min[s], q a nibble; scales and
    /// mins are 6-bit, packed in 12 bytes (the first four of each in bytes 0..7, the upper bits of the last four
    /// in bytes 8..11 and the top 2 bits of bytes 0..7). Nibbles: byte 32c + l holds sub-block 2c (low) and 2c + 1 (high).</summary>
    private static void Q4K(ReadOnlySpan<byte> block, Span<float> dst)
    {
        float d = Half(block, 0), dmin = Half(block, 2);
        var scales = block.Slice(4, 12);
        var qs = block.Slice(16, 128);
        for (int s = 0; s < 8; s++)
        {
            int sc, m;
            if (s < 4)
            {
                sc = scales[s] & 63;
                m = scales[s + 4] & 63;
            }
            else
            {
                sc = (scales[s + 4] & 0xF) | ((scales[s - 4] >> 6) << 4);
                m = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
            }
            float ds = d * sc, dm = dmin * m;
            int chunk = s / 2, shift = s % 2 * 4;
            for (int l = 0; l < 32; l++)
                dst[s * 32 + l] = ds * ((qs[chunk * 32 + l] >> shift) & 0xF) - dm;
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
