using System.Runtime.CompilerServices;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// The panel layout of <see cref="KQuantWeight"/>: llama.cpp's row-major k-quant super-blocks regrouped so that one
/// 32-byte vector holds 4 consecutive inputs of each of 8 output columns (byte 4c + i: column c, input i), the
/// operand layout of vpdpbusd against 4 broadcast activations. One panel super-block (8 columns × 256 inputs):
/// <code>
/// Q4_K (1,216 bytes)                                  Q6_K (1,696 bytes)
///    0  nibbles, vector 4j + t (j sub-block of 32,       0  low nibbles, vector u: values of inputs 8u..8u+3
///       t = 0..3): low = inputs 32j + 8t .. +3,             (low), 8u+4..8u+7 (high nibble)
///       high = inputs 32j + 8t + 4 .. +7              1024  high 2 bits, vector h: bits 2s of byte 4c + i =
/// 1024  sc[j][c], 6-bit, one byte each                      input 16h + 4s + i of column c
/// 1088  m[k][c][2] = m_2k, m_2k+1 (for vpmaddwd)      1536  sc[j][c], int8 (sub-block j of 16 inputs)
/// 1152  d[c] as fp32                                  1664  d[c] as fp32
/// 1184  −dmin[c] as fp32
/// </code>
/// Values, scales and mins are the stored ones; fp16 → fp32 is exact. So a panel gives back each block bit for bit
/// (<see cref="DequantizeColumn"/> equals ggml's dequantization, tested).
/// </summary>
internal static class KQuantPanels
{
    public const int Q4KBytes = 1216, Q6KBytes = 1696;
    public const int Q4KScales = 1024, Q4KMins = 1088, Q4KD = 1152, Q4KNegMin = 1184;
    public const int Q6KHighs = 1024, Q6KScales = 1536, Q6KD = 1664;
    private const int Cols = KQuantWeight.PanelCols;

    public static int BlockBytes(KQuantFormat f) => f == KQuantFormat.Q4K ? Q4KBytes : Q6KBytes;

    /// <summary>Row-major <paramref name="blocks"/> ([rows, cols / 256] super-blocks) into panels; columns past
    /// <paramref name="rows"/> in the last panel stay zero. Optimized at once: it runs once per tensor, so tiered
    /// compilation would leave most of a model's repack in unoptimized code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Repack(KQuantFormat format, ReadOnlySpan<byte> blocks, int rows, int cols)
    {
        int perRow = cols / KQuantFormats.BlockElements, panels = (rows + Cols - 1) / Cols;
        int stored = format.BlockBytes(), bytes = BlockBytes(format);
        var result = new byte[checked((long)panels * perRow * bytes)];
        Span<byte> q = stackalloc byte[256];
        Span<int> sc = stackalloc int[16];
        Span<int> mins = stackalloc int[8];
        for (int o = 0; o < rows; o++)
            for (int b = 0; b < perRow; b++)
            {
                var block = blocks.Slice((int)(((long)o * perRow + b) * stored), stored);
                var dst = result.AsSpan((int)(((long)(o / Cols) * perRow + b) * bytes), bytes);
                int c = o % Cols;
                if (format == KQuantFormat.Q4K)
                {
                    Q4KUnpack(block, q, sc, mins);
                    for (int e = 0; e < 256; e++)
                        SetNibble(dst, e, c, q[e]);
                    for (int j = 0; j < 8; j++)
                    {
                        dst[Q4KScales + Cols * j + c] = (byte)sc[j];
                        dst[Q4KMins + 2 * Cols * (j / 2) + 2 * c + j % 2] = (byte)mins[j];
                    }
                    BitConverter.TryWriteBytes(dst[(Q4KD + 4 * c)..], Half(block, 0));
                    BitConverter.TryWriteBytes(dst[(Q4KNegMin + 4 * c)..], -Half(block, 2));
                }
                else
                {
                    Q6KUnpack(block, q);
                    for (int e = 0; e < 256; e++)
                    {
                        SetNibble(dst, e, c, q[e] & 0xF);
                        dst[Q6KHighs + 32 * (e / 16) + 4 * c + e % 4] |= (byte)((q[e] >> 4) << (2 * (e % 16 / 4)));
                    }
                    for (int j = 0; j < 16; j++)
                        dst[Q6KScales + Cols * j + c] = block[192 + j];
                    BitConverter.TryWriteBytes(dst[(Q6KD + 4 * c)..], Half(block, 208));
                }
            }
        return result;
    }

    /// <summary>Input e's nibble of column c: vector e / 8 (32 bytes each), byte 4c + e % 4, high nibble for the
    /// second four inputs of the eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetNibble(Span<byte> dst, int e, int c, int value)
    {
        ref byte at = ref dst[32 * (e / 8) + 4 * c + e % 4];
        at |= (byte)(e % 8 < 4 ? value : value << 4);
    }

    private static int Nibble(ReadOnlySpan<byte> src, int e, int c) => (src[32 * (e / 8) + 4 * c + e % 4] >> (e % 8 < 4 ? 0 : 4)) & 0xF;

    private static float Half(ReadOnlySpan<byte> s, int at) => (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(s[at..]));

    /// <summary>A Q4_K block's 256 nibbles in input order, its 8 scales and 8 mins (ggml's 6-bit unpacking).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KUnpack(ReadOnlySpan<byte> block, Span<byte> q, Span<int> sc, Span<int> m)
    {
        var s = block.Slice(4, 12);
        for (int j = 0; j < 8; j++)
        {
            sc[j] = j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
            m[j] = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
            for (int l = 0; l < 32; l++)
                q[32 * j + l] = (byte)((block[16 + 32 * (j / 2) + l] >> (4 * (j % 2))) & 0xF);
        }
    }

    /// <summary>A Q6_K block's 256 six-bit values (q + 32 as stored, 0..63) in input order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KUnpack(ReadOnlySpan<byte> block, Span<byte> q)
    {
        for (int e = 0; e < 256; e++)
        {
            int g = e / 32, l = e % 32, h = g / 4, r = g % 4;
            int low = (block[64 * h + 32 * (r % 2) + l] >> (4 * (r / 2))) & 0xF;
            int high = (block[128 + 32 * h + l] >> (2 * r)) & 3;
            q[e] = (byte)(low | (high << 4));
        }
    }

    /// <summary>Q4_K value (0..15) of input e (within the super-block) of column c.</summary>
    internal static int Q4KValue(ReadOnlySpan<byte> block, int e, int c) => Nibble(block, e, c);

    /// <summary>Q6_K stored value (q + 32, 0..63) of input e of column c.</summary>
    internal static int Q6KValue(ReadOnlySpan<byte> block, int e, int c) =>
        Nibble(block, e, c) | ((block[Q6KHighs + 32 * (e / 16) + 4 * c + e % 4] >> (2 * (e % 16 / 4))) & 3) << 4;

    internal static int Q4KScale(ReadOnlySpan<byte> block, int j, int c) => block[Q4KScales + Cols * j + c];
    internal static int Q4KMin(ReadOnlySpan<byte> block, int j, int c) => block[Q4KMins + 2 * Cols * (j / 2) + 2 * c + j % 2];
    internal static int Q6KScale(ReadOnlySpan<byte> block, int j, int c) => (sbyte)block[Q6KScales + Cols * j + c];
    internal static float Float(ReadOnlySpan<byte> block, int at, int c) => BitConverter.ToSingle(block[(at + 4 * c)..]);

    /// <summary>Column <paramref name="c"/> of a part (its row c as stored) by ggml's rule: Q4_K
    /// (d · sc) · q − dmin · m, Q6_K (d · sc) · (q − 32), the same fp32 operations as <c>GgufDequantize</c>.</summary>
    public static void DequantizeColumn(KQuantFormat format, byte[] panels, int blocks, int c, Span<float> destination)
    {
        int bytes = BlockBytes(format), pc = c % Cols;
        for (int b = 0; b < blocks; b++)
        {
            var block = panels.AsSpan((int)(((long)(c / Cols) * blocks + b) * bytes), bytes);
            var dst = destination.Slice(256 * b, 256);
            if (format == KQuantFormat.Q4K)
            {
                float d = Float(block, Q4KD, pc), dmin = -Float(block, Q4KNegMin, pc);
                for (int j = 0; j < 8; j++)
                {
                    float ds = d * Q4KScale(block, j, pc), dm = dmin * Q4KMin(block, j, pc);
                    for (int e = 32 * j; e < 32 * j + 32; e++)
                        dst[e] = ds * Q4KValue(block, e, pc) - dm;
                }
            }
            else
            {
                float d = Float(block, Q6KD, pc);
                for (int j = 0; j < 16; j++)
                {
                    float ds = d * Q6KScale(block, j, pc);
                    for (int e = 16 * j; e < 16 * j + 16; e++)
                        dst[e] = ds * (Q6KValue(block, e, pc) - 32);
                }
            }
        }
    }
}
