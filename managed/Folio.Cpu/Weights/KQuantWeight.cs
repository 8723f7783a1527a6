using Folio.Core.Compute;
using Folio.Core.Models.Gguf;

namespace Folio.Cpu.Weights;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] kept in llama.cpp's k-quant blocks (Q4_K, Q6_K) exactly as the GGUF
/// file stores them, one or more parts stacked by rows (a fused q/k/v may hold Q4_K q/k and a Q6_K v). Each part
/// is row-major: row o is Cols / 256 super-blocks, so a row's weights are contiguous and <see cref="KQuantGemm"/>
/// reads them in place. 144 bytes per 256 weights for Q4_K (4.5 bits a weight), 210 for Q6_K (6.56 bits).
/// </summary>
internal sealed class KQuantWeight : DeviceTensor
{
    private KQuantWeight(Part[] parts, int rows, int cols) : base(rows, cols, DType.F32) => Parts = parts;

    /// <summary>Rows [FirstRow, FirstRow + Rows) of the weight, in <see cref="Format"/>.</summary>
    internal sealed record Part(KQuantFormat Format, int FirstRow, int Rows, int RowBytes, byte[] Blocks);

    internal Part[] Parts { get; }
    internal int BlocksPerRow => Cols / KQuantFormats.BlockElements;
    internal long StoredBytes => Parts.Sum(p => p.Blocks.LongLength);
    internal bool HasFormat(KQuantFormat f) => Parts.Any(p => p.Format == f);

    /// <summary>Stacks <paramref name="parts"/> (all of one width). Every fp16 scale (d, and Q4_K's dmin) must be
    /// finite: the kernels widen them with a shift that has no Inf/NaN case, and such a block is a corrupt file.</summary>
    public static KQuantWeight Create(IReadOnlyList<KQuantRows> parts)
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
            CheckScales(p);
            stacked[i] = new Part(p.Format, rows, p.Rows, p.RowBytes, p.Blocks);
            rows = checked(rows + p.Rows);
        }
        return new KQuantWeight(stacked, rows, cols);
    }

    private static void CheckScales(KQuantRows p)
    {
        int bytes = p.Format.BlockBytes();
        // Q4_K: d at 0, dmin at 2; Q6_K: d at 208.
        int first = p.Format == KQuantFormat.Q4K ? 0 : 208, count = p.Format == KQuantFormat.Q4K ? 2 : 1;
        for (long at = 0; at < p.Blocks.LongLength; at += bytes)
            for (int s = 0; s < count; s++)
            {
                int h = p.Blocks[at + first + 2 * s] | p.Blocks[at + first + 2 * s + 1] << 8;
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

    /// <summary>Row <paramref name="o"/> dequantized by ggml's rule (<see cref="GgufDequantize"/>): the reference the
    /// kernels are tested against.</summary>
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
        GgufDequantize.Blocks(p.Format == KQuantFormat.Q4K ? GgmlType.Q4_K : GgmlType.Q6_K,
            p.Blocks.AsSpan((int)((long)(o - p.FirstRow) * p.RowBytes), p.RowBytes), destination[..Cols]);
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");
}
