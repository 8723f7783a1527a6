using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// A bf16 MatMul weight in 12 bits a value, losslessly: every value decodes to exactly its 16-bit pattern. A bf16
/// value is a sign, an 8-bit exponent and 7 mantissa bits; the sign and mantissa are kept as one byte, and the
/// exponent as a 4-bit code into a table of its panel's 15 most frequent exponents (code 0: exponent 0, i.e. zeros
/// and subnormals, whose bits the byte then holds whole). A trained weight's exponents crowd into a few values (its
/// magnitudes span a few powers of two), so a row of 32 values falls outside its panel's table about once in a
/// thousand rows (b8 1.3e-3, Qwen3-0.6B 9.5e-4); such a row is kept as its 16 words of <see cref="HalfWeight"/>
/// panel format beside the codes (an exception). A decode step reads 0.75 × the bytes of <see cref="HalfWeight"/>.
/// Layout, per panel of 32 output columns (the <see cref="HalfWeight"/> panels' columns, lanes in the same order:
/// 16-bit lane L of a decoded panel row is half-word L of its 16 words): groups of 4 k rows, each 192 bytes, three
/// cache lines: the sign-and-mantissa bytes of rows 0 and 1, of rows 2 and 3, then the codes of all four. In each
/// line the bytes sit where the in-lane byte unpacks (vpunpcklbw / vpunpckhbw, per 128-bit lane) put them: lane
/// L = 8i + j (i = L / 8) comes from byte 16i + j of the line for the first row of the line and from byte 16i + 8 + j
/// for the second; unpacking a sign-and-mantissa line with itself gives each lane byte · 0x101 (the sign lands at bit
/// 15, the mantissa stays at bits 0..6), and unpacking the code line with zeros gives per lane a byte holding row 0's
/// (row 2's) code in its low nibble and row 1's (row 3's) in its high one. A last partial group is zero-filled.
/// Decoding needs AVX-512 BW (<see cref="IsSupported"/>): 3 loads and 16 ops a group, a table lookup (vpermw) per row.
/// </summary>
internal sealed class CodedBf16Weight : DeviceTensor, IHalfBits
{
    public const int PanelCols = HalfWeight.PanelCols;
    public const int GroupRows = 4;
    private const int LineBytes = 64;                        // a cache line: two rows' bytes, or four rows' codes
    public const int GroupBytes = 3 * LineBytes;
    private const int Lanes = PanelCols;
    private const int Codes = 16;

    private CodedBf16Weight(int rows, int cols, AlignedPanels<byte> groups, ushort[] tables, int[] exceptionStart,
        int[] exceptionRows, uint[] exceptionWords) : base(rows, cols, DType.BF16)
    {
        Groups = groups;
        Tables = tables;
        ExceptionStart = exceptionStart;
        ExceptionRows = exceptionRows;
        ExceptionWords = exceptionWords;
    }

    /// <summary>Whether this machine decodes the codes (AVX-512 BW, with Vector512 compiled natively).</summary>
    public static bool IsSupported => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The groups of every panel, panel after panel (<see cref="PanelBytes"/> each).</summary>
    internal AlignedPanels<byte> Groups { get; }

    /// <summary>Per panel 32 table entries: code c's exponent e shifted into place (e &lt;&lt; 7) at c and c + 16 (entry 0
    /// and 16: 0). vpermw reads 5 index bits, and bit 4 of a lane's code byte is the low bit of the other row's code.</summary>
    internal ushort[] Tables { get; }

    /// <summary>Panel p's exceptions are entries ExceptionStart[p] .. ExceptionStart[p + 1] − 1 of ExceptionRows
    /// (their k, ascending) and of ExceptionWords (16 words each, <see cref="HalfWeight"/>'s panel row).</summary>
    internal int[] ExceptionStart { get; }

    internal int[] ExceptionRows { get; }

    internal uint[] ExceptionWords { get; }

    internal int PanelCount => (Rows + PanelCols - 1) / PanelCols;

    internal int GroupCount => (Cols + GroupRows - 1) / GroupRows;

    internal long PanelBytes => (long)GroupCount * GroupBytes;

    /// <summary>Bytes a decode step reads: the groups, the tables and the exception rows.</summary>
    internal long StoredBytes => PanelCount * PanelBytes + Tables.LongLength * sizeof(ushort)
        + ExceptionWords.LongLength * sizeof(uint) + ExceptionRows.LongLength * sizeof(int);

    /// <summary>The coded form of a bf16 <see cref="HalfWeight"/> (its panels' 16-bit lanes, exactly).</summary>
    public static CodedBf16Weight Encode(HalfWeight w, ParallelRunner runner)
    {
        if (w.DType != DType.BF16)
            throw new ArgumentException($"only bf16 weights are exponent-coded, not {w.DType}");
        return Encode(w.Rows, w.Cols, runner, w, static (w, p, lanes) =>
            MemoryMarshal.Cast<uint, ushort>(w.Words.Span.Slice(p * w.Cols * (Lanes / 2), w.Cols * (Lanes / 2))).CopyTo(lanes));
    }

    /// <summary>The coded form of a mapped bf16 weight, straight from the mapping's rows (no 16-bit panel copy on the
    /// way: a model's resident memory stays one coded copy).</summary>
    public static CodedBf16Weight Encode(MappedBf16Weight w, ParallelRunner runner) =>
        Encode(w.Rows, w.Cols, runner, w, static (w, p, lanes) =>
        {
            // HalfWeight's lane order: column j (j < 16) is the high half of word j, column j + 16 its low half.
            int k = w.Cols, end = Math.Min(w.Rows, (p + 1) * PanelCols);
            lanes.Clear();
            for (int o = p * PanelCols; o < end; o++)
            {
                int c = o % PanelCols, lane = c < PanelCols / 2 ? 2 * c + 1 : 2 * (c - PanelCols / 2);
                ref ushort row = ref w.Row(o);
                for (int i = 0; i < k; i++)
                    lanes[i * Lanes + lane] = Unsafe.Add(ref row, i);
            }
        });

    /// <summary>Panels coded in parallel (one item a panel): fill writes panel p's k × 32 lanes (padding columns
    /// zero), which are then coded into the panel's groups; exception rows are gathered per panel, then joined in
    /// panel order.</summary>
    private static CodedBf16Weight Encode<TSource>(int rows, int k, ParallelRunner runner, TSource source, Action<TSource, int, Span<ushort>> fill)
    {
        int panels = (rows + PanelCols - 1) / PanelCols, groupCount = (k + GroupRows - 1) / GroupRows;
        long panelBytes = (long)groupCount * GroupBytes;
        var groups = AlignedPanels<byte>.Allocate(panels * panelBytes);
        var tables = new ushort[panels * Lanes];
        var exceptions = new (List<int> Rows, List<uint> Words)?[panels];
        runner.For(panels, (long)rows * k, (groups, tables, exceptions, source, fill, k, panelBytes), static (s, p) =>
        {
            var (groups, tables, exceptions, source, fill, k, panelBytes) = s;
            var panel = Buffers.Lanes(k * Lanes);
            fill(source, p, panel);
            exceptions[p] = EncodePanel(panel, k, groups.Span.Slice((int)(p * panelBytes), (int)panelBytes), tables.AsSpan(p * Lanes, Lanes));
        });
        var exceptionStart = new int[panels + 1];
        var exceptionRows = new List<int>();
        var exceptionWords = new List<uint>();
        for (int p = 0; p < panels; p++)
        {
            if (exceptions[p] is { } e)
            {
                exceptionRows.AddRange(e.Rows);
                exceptionWords.AddRange(e.Words);
            }
            exceptionStart[p + 1] = exceptionRows.Count;
        }
        return new CodedBf16Weight(rows, k, groups, tables, exceptionStart, [.. exceptionRows], [.. exceptionWords]);
    }

    /// <summary>One panel's lanes (k rows of 32) into its groups (dst, zeroed) and table; returns its exception rows
    /// (k and words), or null if it has none.</summary>
    private static (List<int> Rows, List<uint> Words)? EncodePanel(ReadOnlySpan<ushort> panel, int k, Span<byte> dst, Span<ushort> table)
    {
        Span<int> counts = stackalloc int[256];
        Span<byte> codeOf = stackalloc byte[256];
        ChooseTable(panel, counts, codeOf, table);
        (List<int> Rows, List<uint> Words)? exceptions = null;
        for (int i = 0; i < k; i++)
        {
            var row = panel.Slice(i * Lanes, Lanes);
            var group = dst.Slice(i / GroupRows * GroupBytes, GroupBytes);
            int r = i % GroupRows;
            bool exception = false;
            for (int lane = 0; lane < Lanes; lane++)
            {
                ushort bits = row[lane];
                group[ByteAt(r, lane)] = (byte)((bits >> 8 & 0x80) | (bits & 0x7F));
                int exponent = bits >> 7 & 0xFF;
                byte code = codeOf[exponent];
                exception |= exponent != 0 && code == 0;
                group[CodeAt(r, lane)] |= (byte)(code << (r % 2 * 4));
            }
            if (exception)
            {
                exceptions ??= ([], []);
                exceptions.Value.Rows.Add(i);
                exceptions.Value.Words.AddRange(MemoryMarshal.Cast<ushort, uint>(row));
            }
        }
        return exceptions;
    }

    /// <summary>A panel's lanes while it is coded, per thread, grown to the largest panel seen.</summary>
    private static class Buffers
    {
        [ThreadStatic] private static ushort[]? _lanes;

        public static Span<ushort> Lanes(int length) => ThreadBuffer.AtLeast(ref _lanes, length, 4096).AsSpan(0, length);
    }

    /// <summary>Offset in its group of row r's sign-and-mantissa byte for lane L (see the layout above).</summary>
    private static int ByteAt(int r, int lane) => r / 2 * LineBytes + InLine(r % 2, lane);

    /// <summary>Offset in its group of the byte holding row r's code for lane L (in the nibble r % 2 picks).</summary>
    private static int CodeAt(int r, int lane) => 2 * LineBytes + InLine(r / 2, lane);

    /// <summary>Byte of a line that the low (half 0) or high (half 1) in-lane unpack puts in 16-bit lane L.</summary>
    private static int InLine(int half, int lane) => 16 * (lane / 8) + 8 * half + lane % 8;

    /// <summary>The panel's table: its 15 most frequent nonzero exponents (ties to the larger), in ascending order as
    /// codes 1 .. 15; codeOf maps an exponent to its code (0 for exponent 0 and for those left out).</summary>
    private static void ChooseTable(ReadOnlySpan<ushort> panel, Span<int> counts, Span<byte> codeOf, Span<ushort> table)
    {
        counts.Clear();
        codeOf.Clear();
        table.Clear();
        foreach (ushort bits in panel)
            counts[bits >> 7 & 0xFF]++;
        counts[0] = 0;
        Span<bool> chosen = stackalloc bool[256];
        for (int n = 0; n < Codes - 1; n++)
        {
            int best = -1;
            for (int e = 255; e > 0; e--)
                if (!chosen[e] && counts[e] > 0 && (best < 0 || counts[e] > counts[best]))
                    best = e;
            if (best < 0)
                break;
            chosen[best] = true;
        }
        byte code = 1;
        for (int e = 1; e < 256; e++)
        {
            if (!chosen[e])
                continue;
            codeOf[e] = code;
            table[code] = table[code + Codes] = (ushort)(e << 7);
            code++;
        }
    }

    /// <summary>The 16-bit pattern of element [o, i] (tests and the scalar remainder): decoded as the kernel does.</summary>
    public ushort Bits(int o, int i)
    {
        int p = o / PanelCols, c = o % PanelCols;
        // Lane of column c in a panel row: column j (j &lt; 16) is the high half of word j, column j + 16 its low half.
        int lane = c < PanelCols / 2 ? 2 * c + 1 : 2 * (c - PanelCols / 2);
        int e = Array.BinarySearch(ExceptionRows, ExceptionStart[p], ExceptionStart[p + 1] - ExceptionStart[p], i);
        if (e >= 0)
        {
            uint word = ExceptionWords[e * (Lanes / 2) + lane / 2];
            return (ushort)(lane % 2 == 1 ? word >> 16 : word);
        }
        long at = p * PanelBytes + (long)i / GroupRows * GroupBytes;
        int r = i % GroupRows;
        byte b = Groups[at + ByteAt(r, lane)];
        int code = Groups[at + CodeAt(r, lane)] >> (r % 2 * 4) & 0xF;
        return (ushort)((b & 0x80) << 8 | Tables[p * Lanes + code] | (b & 0x7F));
    }

    /// <summary>Decodes the 4 k rows of the group at g into their 16 <see cref="HalfWeight"/> words each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector512<uint>, Vector512<uint>, Vector512<uint>, Vector512<uint>) DecodeGroup(ref byte g, Vector512<ushort> table)
    {
        var rows01 = Vector512.LoadUnsafe(ref g);
        var rows23 = Vector512.LoadUnsafe(ref g, LineBytes);
        var codes = Vector512.LoadUnsafe(ref g, 2 * LineBytes);
        // Lane codes: row 0's (2's) in bits 0..3, row 1's (3's) in bits 4..7; vpermw reads bits 0..4 of an index and
        // the table repeats in its upper 16 entries, so the low nibble needs no mask.
        var codes01 = Avx512BW.UnpackLow(codes, Vector512<byte>.Zero).AsUInt16();
        var codes23 = Avx512BW.UnpackHigh(codes, Vector512<byte>.Zero).AsUInt16();
        return (Row(Avx512BW.UnpackLow(rows01, rows01), Avx512BW.PermuteVar32x16(table, codes01)),
            Row(Avx512BW.UnpackHigh(rows01, rows01), Avx512BW.PermuteVar32x16(table, Avx512BW.ShiftRightLogical(codes01, 4))),
            Row(Avx512BW.UnpackLow(rows23, rows23), Avx512BW.PermuteVar32x16(table, codes23)),
            Row(Avx512BW.UnpackHigh(rows23, rows23), Avx512BW.PermuteVar32x16(table, Avx512BW.ShiftRightLogical(codes23, 4))));
    }

    /// <summary>A row's words from its bytes doubled into 16-bit lanes (byte · 0x101: the sign at bit 15, the
    /// mantissa at bits 0..6) and its exponents (at bits 7..14): (doubled &amp; 0x807F) | exponents.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Row(Vector512<byte> doubled, Vector512<ushort> exponents) =>
        Avx512F.TernaryLogic(doubled.AsUInt16(), exponents, Vector512.Create((ushort)0x807F), 0xEC).AsUInt32();

    /// <summary>Row r of the group at g (the slow paths: a group holding an exception, a last partial group).</summary>
    internal static Vector512<uint> DecodeRow(ref byte g, int r, Vector512<ushort> table)
    {
        var (v0, v1, v2, v3) = DecodeGroup(ref g, table);
        return r switch { 0 => v0, 1 => v1, 2 => v2, _ => v3 };
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");
}
