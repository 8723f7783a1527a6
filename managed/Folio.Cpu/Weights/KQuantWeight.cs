using Folio.Core.Compute;
using Folio.Core.Models.Gguf;

namespace Folio.Cpu.Weights;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] from llama.cpp's k-quant blocks (Q4_K, Q5_K, Q6_K; Q3_K held as Q6_K), one or more parts stacked
/// by rows (a fused q/k/v may hold Q4_K q/k and a Q6_K v). Each part is repacked once at load into panels of
/// <see cref="PanelCols"/> output columns (<see cref="KQuantPanels"/>: the quantized values, scales and mins exactly
/// as stored, only moved, the sub-block scales unpacked to bytes and d / dmin widened to fp32), so
/// <see cref="KQuantGemm"/> multiplies 4 inputs × 8 columns per instruction and unpacks each weight once for a tile
/// of activation rows. Q4_K: 1,216 bytes per 256 inputs × 8 columns (4.75 bits a weight, stored 4.5); Q5_K: 1,472
/// (5.75 bits, stored 5.5); Q6_K: 1,696 (6.63 bits, stored 6.56). The last panel of a part is zero-padded (d = 0) and its padding columns never written.
/// </summary>
internal sealed class KQuantWeight : DeviceTensor
{
    public const int PanelCols = 8;

    private KQuantWeight(Part[] parts, int rows, int cols) : base(rows, cols, DType.F32) => Parts = parts;

    /// <summary>Rows [FirstRow, FirstRow + Rows) of the weight, in <see cref="Format"/> (the file's <see cref="Source"/>:
    /// Q3_K runs as Q6_K); <see cref="Panels"/> holds
    /// panel p's super-block b at (p · blocks + b) · <see cref="KQuantPanels.BlockBytes"/>.</summary>
    internal sealed record Part(KQuantFormat Format, KQuantFormat Source, int FirstRow, int Rows, byte[] Panels)
    {
        internal int PanelCount => (Rows + PanelCols - 1) / PanelCols;
    }

    internal Part[] Parts { get; }
    internal int BlocksPerRow => Cols / KQuantFormats.BlockElements;
    internal long StoredBytes => Parts.Sum(p => p.Panels.LongLength);
    internal bool HasFormat(KQuantFormat f) => Parts.Any(p => p.Format == f);

    /// <summary>Stacks <paramref name="parts"/> (all of one width), repacked (on <paramref name="runner"/>'s threads
    /// when given). Every fp16 scale (d, and Q4_K's/Q5_K's dmin) must be finite: such a block is a corrupt file.</summary>
    public static KQuantWeight Create(IReadOnlyList<KQuantRows> parts, ParallelRunner? runner = null)
    {
        if (parts.Count == 0)
            throw new ArgumentException("a k-quant weight needs at least one part");
        int cols = parts[0].Cols, rows = 0;
        var stacked = new Part[parts.Count];
        for (int i = 0; i < parts.Count; i++)
        {
            var p = parts[i];
            if (p.Cols != cols)
                throw new ArgumentException($"tensor '{p.Name}' has {p.Cols} columns, '{parts[0].Name}' {cols}: parts of one weight must agree");
            stacked[i] = new Part(p.Format.PanelFormat(), p.Format, rows, p.Rows, ReadAndRepack(p, runner));
            rows = checked(rows + p.Rows);
        }
        return new KQuantWeight(stacked, rows, cols);
    }

    /// <summary>The part's blocks read into native memory, checked, repacked, and the buffer freed at once: a managed
    /// copy would stay garbage until a full collection (on b8 Q4_K_M that held peak RSS ~55 MB higher).</summary>
    private static unsafe byte[] ReadAndRepack(KQuantRows p, ParallelRunner? runner)
    {
        int length = checked(p.Rows * p.RowBytes);
        byte* buffer = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)length);
        try
        {
            var blocks = new Span<byte>(buffer, length);
            p.CopyBlocksTo(blocks);
            CheckScales(p, blocks);
            return KQuantPanels.Repack(p.Format, buffer, length, p.Rows, p.Cols, runner);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(buffer);
        }
    }

    private static void CheckScales(KQuantRows p, ReadOnlySpan<byte> blocks)
    {
        int bytes = p.Format.BlockBytes();
        // Q4_K and Q5_K: d at 0, dmin at 2; Q6_K: d at 208; Q3_K: d at 108.
        int first = p.Format.HasMins() ? 0 : p.Format == KQuantFormat.Q3K ? 108 : 208, count = p.Format.HasMins() ? 2 : 1;
        for (int at = 0; at < blocks.Length; at += bytes)
            for (int s = 0; s < count; s++)
            {
                int h = blocks[at + first + 2 * s] | blocks[at + first + 2 * s + 1] << 8;
                if ((h & 0x7C00) == 0x7C00)
                    throw new ArgumentException(
                        $"tensor '{p.Name}': block {at / bytes} (row {at / p.RowBytes}) has a non-finite fp16 scale (0x{h:X4})");
            }
    }

    /// <summary>The part that holds output row <paramref name="o"/>.</summary>
    internal Part PartOf(int o)
    {
        foreach (var p in Parts)
            if (o < p.FirstRow + p.Rows)
                return p;
        throw new ArgumentOutOfRangeException(nameof(o), o, $"a weight of {Rows} rows");
    }

    /// <summary>Row <paramref name="o"/> dequantized by ggml's rule (<see cref="GgufDequantize"/>'s arithmetic, read
    /// from the panels): the reference the kernels are tested against.</summary>
    internal float[] DequantizedRow(int o)
    {
        var row = new float[Cols];
        DequantizeRow(o, row);
        return row;
    }

    /// <summary>Row <paramref name="o"/> by ggml's rule into <paramref name="destination"/>: the embedding lookup of a
    /// k-quant token table (the values an fp32 copy of the table would hold, bit for bit).</summary>
    internal void DequantizeRow(int o, Span<float> destination)
    {
        var p = PartOf(o);
        KQuantPanels.DequantizeColumn(p.Format, p.Panels, BlocksPerRow, o - p.FirstRow, destination[..Cols]);
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");
}
