using System.Buffers.Binary;
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
/// Q3_K is repacked as Q6_K: its values q (−4..3) stored as q + 32, its signed 6-bit scales as int8, its d.
/// Q5_K (1,472 bytes) is Q4_K's layout (the values' low 4 bits in the nibbles) and then, at 1216, one 32-byte
/// vector per sub-block j of their fifth bits: byte 4c + i holds in bits 2t and 2t + 1 the fifth bits of inputs
/// 32j + 8t + i and 32j + 8t + 4 + i of column c (the low- and high-nibble inputs of nibble vector 4j + t).
/// Values, scales and mins are the stored ones; fp16 → fp32 is exact. So a panel gives back each block bit for bit
/// (<see cref="DequantizeColumn"/> equals ggml's dequantization, tested).
/// </summary>
internal static class KQuantPanels
{
    public const int Q4KBytes = 1216, Q6KBytes = 1696, Q5KBytes = 1472;
    public const int Q4KScales = 1024, Q4KMins = 1088, Q4KD = 1152, Q4KNegMin = 1184, Q5KHighs = 1216;
    public const int Q6KHighs = 1024, Q6KScales = 1536, Q6KD = 1664;
    private const int Cols = KQuantWeight.PanelCols;

    public static int BlockBytes(KQuantFormat f) => f switch { KQuantFormat.Q4K => Q4KBytes, KQuantFormat.Q5K => Q5KBytes, _ => Q6KBytes };

    /// <summary>Row-major blocks ([rows, cols / 256] super-blocks, <paramref name="length"/> bytes at
    /// <paramref name="blocks"/>) into panels, a panel's 8 rows at a time on <paramref name="runner"/>'s threads (each
    /// panel's bytes are its rows' alone); columns past <paramref name="rows"/> in the last panel stay zero.</summary>
    public static unsafe byte[] Repack(KQuantFormat format, byte* blocks, long length, int rows, int cols, ParallelRunner? runner)
    {
        int perRow = cols / KQuantFormats.BlockElements, panels = (rows + Cols - 1) / Cols;
        var result = HugePages.NewArray<byte>(checked((long)panels * perRow * BlockBytes(format.PanelFormat())));
        var job = new RepackJob(format, (nint)blocks, length, rows, cols, result);
        if (runner is null)
            RepackPanels(job, 0, panels);
        else
            runner.For(panels, length * 4, job, static (j, p) => RepackPanels(j, p, p + 1));
        return result;
    }

    private readonly record struct RepackJob(KQuantFormat Format, nint Blocks, long Length, int Rows, int Cols, byte[] Result);

    /// <summary>Panels [p0, p1) of <see cref="Repack"/>. Optimized at once: it runs once per tensor, so tiered
    /// compilation would leave most of a model's repack in unoptimized code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RepackPanels(RepackJob job, int p0, int p1)
    {
        var (format, rows, cols, result) = (job.Format, job.Rows, job.Cols, job.Result);
        var blocks = new ReadOnlySpan<byte>((void*)job.Blocks, checked((int)job.Length));
        int perRow = cols / KQuantFormats.BlockElements;
        int stored = format.BlockBytes(), bytes = BlockBytes(format.PanelFormat());
        Span<byte> q = stackalloc byte[256];
        Span<int> sc = stackalloc int[16];
        Span<int> mins = stackalloc int[8];
        for (int o = p0 * Cols; o < Math.Min(rows, p1 * Cols); o++)
            for (int b = 0; b < perRow; b++)
            {
                var block = blocks.Slice((int)(((long)o * perRow + b) * stored), stored);
                var dst = result.AsSpan((int)(((long)(o / Cols) * perRow + b) * bytes), bytes);
                int c = o % Cols;
                if (format.HasMins())
                {
                    Q4KUnpack(block, q, sc, mins, format == KQuantFormat.Q5K);
                    Nibbles(q, dst, c);
                    if (format == KQuantFormat.Q5K)
                        FifthBits(q, dst, c);
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
                    float d;
                    if (format == KQuantFormat.Q3K)
                    {
                        d = Q3KUnpack(block, q, sc);
                    }
                    else
                    {
                        Q6KUnpack(block, q);
                        for (int j = 0; j < 16; j++)
                            sc[j] = (sbyte)block[192 + j];
                        d = Half(block, 208);
                    }
                    Nibbles(q, dst, c);
                    for (int h = 0; h < 16; h++)
                    {
                        // Bits 2s of each of the 4 bytes: the high 2 bits of inputs 16h + 4s .. + 3.
                        uint u0 = Word(q, 16 * h), u1 = Word(q, 16 * h + 4), u2 = Word(q, 16 * h + 8), u3 = Word(q, 16 * h + 12);
                        uint high = ((u0 >> 4) & 0x03030303) | (((u1 >> 4) & 0x03030303) << 2)
                            | (((u2 >> 4) & 0x03030303) << 4) | (((u3 >> 4) & 0x03030303) << 6);
                        BinaryPrimitives.WriteUInt32LittleEndian(dst[(Q6KHighs + 32 * h + 4 * c)..], high);
                    }
                    for (int j = 0; j < 16; j++)
                        dst[Q6KScales + Cols * j + c] = (byte)(sbyte)sc[j];
                    BitConverter.TryWriteBytes(dst[(Q6KD + 4 * c)..], d);
                }
            }
    }

    /// <summary>The low nibbles of a row's 256 values (input order) into column c: input e goes to vector e / 8 (32
    /// bytes each), byte 4c + e % 4, in the high nibble for the second four inputs of the eight. Four bytes at a time:
    /// each value's low nibble shifted by 4 stays inside its byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Nibbles(ReadOnlySpan<byte> q, Span<byte> dst, int c)
    {
        for (int v = 0; v < 32; v++)
            BinaryPrimitives.WriteUInt32LittleEndian(dst[(32 * v + 4 * c)..],
                (Word(q, 8 * v) & 0x0F0F0F0F) | ((Word(q, 8 * v + 4) & 0x0F0F0F0F) << 4));
    }

    /// <summary>The fifth bits of a Q5_K row's values (bit 4, input order) into column c's bytes of the high vectors
    /// (<see cref="Q5KHighs"/>, layout in the class comment).</summary>
    private static void FifthBits(ReadOnlySpan<byte> q, Span<byte> dst, int c)
    {
        for (int j = 0; j < 8; j++)
            for (int i = 0; i < 4; i++)
            {
                int bits = 0;
                for (int t = 0; t < 4; t++)
                    bits |= (q[32 * j + 8 * t + i] >> 4) << (2 * t) | (q[32 * j + 8 * t + 4 + i] >> 4) << (2 * t + 1);
                dst[Q5KHighs + 32 * j + 4 * c + i] = (byte)bits;
            }
    }

    private static uint Word(ReadOnlySpan<byte> q, int at) => BinaryPrimitives.ReadUInt32LittleEndian(q[at..]);

    private static int Nibble(ReadOnlySpan<byte> src, int e, int c) => (src[32 * (e / 8) + 4 * c + e % 4] >> (e % 8 < 4 ? 0 : 4)) & 0xF;

    private static float Half(ReadOnlySpan<byte> s, int at) => (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(s[at..]));

    /// <summary>A Q4_K block's 256 nibbles in input order, its 8 scales and 8 mins (ggml's 6-bit unpacking). Nibbles:
    /// byte 32c + l holds input 64c + l (low) and 64c + 32 + l (high); four bytes at a time. A Q5_K block
    /// (<paramref name="five"/>): its nibbles after the 32 fifth-bit bytes, and bit j of byte l added as bit 4 of
    /// input 32j + l.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KUnpack(ReadOnlySpan<byte> block, Span<byte> q, Span<int> sc, Span<int> m, bool five)
    {
        var s = block.Slice(4, 12);
        for (int j = 0; j < 8; j++)
        {
            sc[j] = j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
            m[j] = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
        var qs = block.Slice(five ? 48 : 16, 128);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l += 4)
            {
                uint a = Word(qs, 32 * c + l);
                BinaryPrimitives.WriteUInt32LittleEndian(q[(64 * c + l)..], a & 0x0F0F0F0F);
                BinaryPrimitives.WriteUInt32LittleEndian(q[(64 * c + 32 + l)..], (a >> 4) & 0x0F0F0F0F);
            }
        if (five)
            for (int e = 0; e < 256; e++)
                q[e] |= (byte)(((block[16 + e % 32] >> (e / 32)) & 1) << 4);
    }

    /// <summary>A Q6_K block's 256 six-bit values (q + 32 as stored, 0..63) in input order: input 128h + 32r + l is
    /// a nibble of ql (byte 64h + 32(r % 2) + l, high nibble for r ≥ 2) and bits 2r of qh byte 32h + l; four at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KUnpack(ReadOnlySpan<byte> block, Span<byte> q)
    {
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l += 4)
            {
                uint a = Word(block, 64 * h + l), b = Word(block, 64 * h + 32 + l), hh = Word(block, 128 + 32 * h + l);
                BinaryPrimitives.WriteUInt32LittleEndian(q[(128 * h + l)..], (a & 0x0F0F0F0F) | ((hh & 0x03030303) << 4));
                BinaryPrimitives.WriteUInt32LittleEndian(q[(128 * h + 32 + l)..], (b & 0x0F0F0F0F) | (((hh >> 2) & 0x03030303) << 4));
                BinaryPrimitives.WriteUInt32LittleEndian(q[(128 * h + 64 + l)..], ((a >> 4) & 0x0F0F0F0F) | (((hh >> 4) & 0x03030303) << 4));
                BinaryPrimitives.WriteUInt32LittleEndian(q[(128 * h + 96 + l)..], ((b >> 4) & 0x0F0F0F0F) | (((hh >> 6) & 0x03030303) << 4));
            }
    }

    /// <summary>A Q3_K block as Q6_K's stored values: its 256 values q (−4..3: 2 bits, less 4 where the high bit is
    /// clear) as q + 32 in input order (input e = 128c + 32k + l: bits 2k of byte 32c + l of the values, high bit
    /// e / 32 of byte l), its 16 signed 6-bit scales and d; returns d. The same products d · sc · q as ggml's.</summary>
    private static float Q3KUnpack(ReadOnlySpan<byte> block, Span<byte> q, Span<int> sc)
    {
        var hmask = block[..32];
        var qs = block.Slice(32, 64);
        var scales = block.Slice(96, 12);
        for (int e = 0; e < 256; e++)
        {
            int value = ((qs[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32))) & 3) - (((hmask[e % 32] >> (e / 32)) & 1) ^ 1) * 4;
            q[e] = (byte)(value + 32);
        }
        for (int s = 0; s < 16; s++)
        {
            int low = s < 8 ? scales[s] & 0xF : scales[s - 8] >> 4;
            int top = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
            sc[s] = (low | top << 4) - 32;
        }
        return Half(block, 108);
    }

    /// <summary>Q4_K value (0..15) of input e (within the super-block) of column c.</summary>
    internal static int Q4KValue(ReadOnlySpan<byte> block, int e, int c) => Nibble(block, e, c);

    /// <summary>Q5_K value (0..31) of input e of column c: the nibble and its fifth bit.</summary>
    internal static int Q5KValue(ReadOnlySpan<byte> block, int e, int c) =>
        Nibble(block, e, c) | ((block[Q5KHighs + 32 * (e / 32) + 4 * c + e % 4] >> (2 * (e % 32 / 8) + e % 8 / 4)) & 1) << 4;

    /// <summary>Q6_K stored value (q + 32, 0..63) of input e of column c.</summary>
    internal static int Q6KValue(ReadOnlySpan<byte> block, int e, int c) =>
        Nibble(block, e, c) | ((block[Q6KHighs + 32 * (e / 16) + 4 * c + e % 4] >> (2 * (e % 16 / 4))) & 3) << 4;

    internal static int Q4KScale(ReadOnlySpan<byte> block, int j, int c) => block[Q4KScales + Cols * j + c];
    internal static int Q4KMin(ReadOnlySpan<byte> block, int j, int c) => block[Q4KMins + 2 * Cols * (j / 2) + 2 * c + j % 2];
    internal static int Q6KScale(ReadOnlySpan<byte> block, int j, int c) => (sbyte)block[Q6KScales + Cols * j + c];
    internal static float Float(ReadOnlySpan<byte> block, int at, int c) => BitConverter.ToSingle(block[(at + 4 * c)..]);

    /// <summary>Column <paramref name="c"/> of a part (its row c as stored) by ggml's rule: Q4_K and Q5_K
    /// (d · sc) · q − dmin · m, Q6_K (d · sc) · (q − 32), the same fp32 operations as <c>GgufDequantize</c>.</summary>
    public static void DequantizeColumn(KQuantFormat format, byte[] panels, int blocks, int c, Span<float> destination)
    {
        int bytes = BlockBytes(format), pc = c % Cols;
        for (int b = 0; b < blocks; b++)
        {
            var block = panels.AsSpan((int)(((long)(c / Cols) * blocks + b) * bytes), bytes);
            var dst = destination.Slice(256 * b, 256);
            if (format.HasMins())
            {
                float d = Float(block, Q4KD, pc), dmin = -Float(block, Q4KNegMin, pc);
                for (int j = 0; j < 8; j++)
                {
                    float ds = d * Q4KScale(block, j, pc), dm = dmin * Q4KMin(block, j, pc);
                    for (int e = 32 * j; e < 32 * j + 32; e++)
                        dst[e] = ds * (format == KQuantFormat.Q5K ? Q5KValue(block, e, pc) : Q4KValue(block, e, pc)) - dm;
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
