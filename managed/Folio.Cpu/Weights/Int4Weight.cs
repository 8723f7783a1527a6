using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] at 4 bits: group-wise symmetric along k, one group per
/// <see cref="GroupSize"/> = 32 consecutive inputs of one output column, one fp16 scale per group; w ≈ d · q with
/// q in [-8, 7]. The rule is llama.cpp's Q4_0: m = the group's element of largest magnitude (signed, the first
/// on ties), d = fp16(m / -8) (so d can be negative and m maps to q = -8, using all 16 levels), and
/// q = clamp(round(w / d), -8, 7), divided by the stored fp16 scale. Re-quantizing a Q4_0 tensor's dequantized
/// values reproduces its d and q exactly (each value is d·k with k in [-8, 7], and the largest is -8·d), which
/// is how GGUF Q4_0 tensors stay at 4 bits. 18 bytes per 32 weights (0.56 bytes a weight), as Q4_0.
/// Layout for <see cref="Int4Gemm"/>: panels of 8 output columns; per group four 32-byte blocks, block t holding
/// quads 2t (low nibbles) and 2t + 1 (high nibbles) of 4 inputs × 8 columns as unsigned q + 8, so one load and
/// two mask/shift ops give two byte-dot-product operands in <see cref="Int8Weight"/>'s quad layout (each 32-bit
/// lane: 4 inputs of one column).
/// </summary>
internal sealed class Int4Weight : DeviceTensor
{
    public const int GroupSize = 32;
    public const int PanelCols = 8;
    /// <summary>Bytes of one group of one panel: 32 inputs × 8 columns × 4 bits.</summary>
    public const int GroupBytes = GroupSize * PanelCols / 2;

    private Int4Weight(byte[] nibbles, ushort[] scales, int rows, int cols) : base(rows, cols, DType.F32)
    {
        Nibbles = nibbles;
        Scales = scales;
    }

    /// <summary>q + 8 as nibbles, in the layout above.</summary>
    internal byte[] Nibbles { get; }
    /// <summary>fp16 bits (sign included), [panel][group][8 columns].</summary>
    internal ushort[] Scales { get; }
    internal int Groups => (Cols + GroupSize - 1) / GroupSize;
    internal int Panels => (Rows + PanelCols - 1) / PanelCols;
    internal long StoredBytes => Nibbles.LongLength + Scales.LongLength * sizeof(ushort);

    public static Int4Weight Quantize(ReadOnlySpan<float> w, int outFeatures, int inFeatures)
    {
        var q = Create(outFeatures, inFeatures);
        q.QuantizeRows(w, 0);
        return q;
    }

    /// <summary>An all-zero weight whose rows <see cref="QuantizeRows"/> fills (a large tensor, piece by piece).</summary>
    public static Int4Weight Create(int outFeatures, int inFeatures)
    {
        int groups = (inFeatures + GroupSize - 1) / GroupSize;
        int panels = (outFeatures + PanelCols - 1) / PanelCols;
        var nibbles = HugePages.NewArray<byte>(checked((long)panels * groups * GroupBytes));
        // Padding columns and k beyond the row hold q = 0 (nibble 8), so the kernels may read them.
        nibbles.AsSpan().Fill(0x88);
        return new Int4Weight(nibbles, new ushort[checked(panels * groups * PanelCols)], outFeatures, inFeatures);
    }

    /// <summary>Quantizes rows [firstRow, firstRow + w.Length / Cols) from their fp32 values; each row's groups depend
    /// on that row alone, so pieces give the bits the whole tensor gives.</summary>
    public void QuantizeRows(ReadOnlySpan<float> w, int firstRow)
    {
        int inFeatures = Cols, groups = Groups;
        var nibbles = Nibbles;
        var scales = Scales;
        if (w.Length % inFeatures != 0 || firstRow < 0 || firstRow + w.Length / inFeatures > Rows)
            throw new ArgumentException($"{w.Length} floats at row {firstRow} are not whole rows of [{Rows}, {Cols}]");
        for (int o = firstRow; o < firstRow + w.Length / inFeatures; o++)
        {
            int panel = o / PanelCols, j = o % PanelCols;
            var row = w.Slice((o - firstRow) * inFeatures, inFeatures);
            for (int g = 0; g < groups; g++)
            {
                int k0 = g * GroupSize, k1 = Math.Min(inFeatures, k0 + GroupSize);
                float amax = 0f, max = 0f;
                for (int i = k0; i < k1; i++)
                {
                    if (!float.IsFinite(row[i]))
                        throw new ArgumentException($"weight element [{o}, {i}] is {row[i]}");
                    if (Math.Abs(row[i]) > amax)
                    {
                        amax = Math.Abs(row[i]);
                        max = row[i];
                    }
                }
                var d = (Half)(max / -8f);
                if (Half.IsInfinity(d))
                    throw new ArgumentException($"weight [{o}, {k0}..{k1}): max |w| {amax} is beyond an fp16 scale");
                float scale = (float)d;
                scales[(panel * groups + g) * PanelCols + j] = BitConverter.HalfToUInt16Bits(d);
                for (int i = k0; i < k1; i++)
                {
                    int q = scale == 0f ? 0 : (int)Math.Clamp(MathF.Round(row[i] / scale), -8f, 7f);
                    Set(nibbles, Index(panel, groups, g, i - k0, j), q);
                }
            }
        }
    }

    /// <summary>The weight of <paramref name="parts"/> (each <see cref="Int8GroupRows.FourBit"/>) stacked by rows, their
    /// values and scales as they are: a group whose values reach 8 (a negative Q4_0 scale taken as its magnitude) is
    /// stored negated with its scale's sign set, the file's own q and d (the same products).</summary>
    public static Int4Weight FromGroups(IReadOnlyList<Int8GroupRows> parts)
    {
        if (parts.Any(p => !p.FourBit || p.Scales is null))
            throw new ArgumentException("an int4 weight takes parts of 4-bit values with fp16 scales");
        int rows = Int8GroupRows.StackedRows(parts), cols = parts[0].Cols;
        var w = Create(rows, cols);
        int groups = w.Groups, first = 0;
        foreach (var p in parts)
        {
            for (int r = 0; r < p.Rows; r++)
            {
                int o = first + r, panel = o / PanelCols, j = o % PanelCols;
                for (int g = 0; g < groups; g++)
                {
                    var q = p.Quants.AsSpan((int)((long)r * cols + g * GroupSize), GroupSize);
                    bool flip = q.Contains((sbyte)8);
                    ushort scale = p.Scales![(long)r * groups + g];
                    w.Scales[(panel * groups + g) * PanelCols + j] = flip ? (ushort)(scale | 0x8000) : scale;
                    for (int i = 0; i < GroupSize; i++)
                    {
                        int v = flip ? -q[i] : q[i];
                        if (v is < -8 or > 7)
                            throw new ArgumentException($"tensor '{p.Name}': row {r}, group {g} holds {q[i]}, not a 4-bit value");
                        Set(w.Nibbles, Index(panel, groups, g, i, j), v);
                    }
                }
            }
            first += p.Rows;
        }
        return w;
    }

    /// <summary>Where input i (0..31) of group g, column j of a panel lives: byte offset, and whether in the high nibble.</summary>
    internal static (long Byte, bool High) Index(int panel, int groups, int g, int i, int j)
    {
        int quad = i / 4;
        return (((long)panel * groups + g) * GroupBytes + quad / 2 * (PanelCols * 4) + j * 4 + i % 4, quad % 2 == 1);
    }

    private static void Set(byte[] nibbles, (long Byte, bool High) at, int q)
    {
        int u = q + 8;
        ref byte b = ref nibbles[at.Byte];
        b = at.High ? (byte)((b & 0x0F) | (u << 4)) : (byte)((b & 0xF0) | u);
    }

    internal float Scale(int o, int g) =>
        (float)BitConverter.UInt16BitsToHalf(Scales[(o / PanelCols * Groups + g) * PanelCols + o % PanelCols]);

    internal int Quant(int o, int i)
    {
        var (at, high) = Index(o / PanelCols, Groups, i / GroupSize, i % GroupSize, o % PanelCols);
        return (high ? Nibbles[at] >> 4 : Nibbles[at] & 0x0F) - 8;
    }

    /// <summary>The dequantized weight d · q (the reference the kernels are tested against).</summary>
    internal float Dequantized(int o, int i) => Scale(o, i / GroupSize) * Quant(o, i);

    /// <summary>Row <paramref name="o"/> as d · q values into <paramref name="destination"/>: the embedding lookup of a
    /// table held in this form.</summary>
    internal void DequantizeRow(int o, Span<float> destination)
    {
        int groups = Groups, panel = o / PanelCols, j = o % PanelCols;
        for (int g = 0; g < groups; g++)
        {
            float d = Scale(o, g);
            long at = ((long)panel * groups + g) * GroupBytes + j * 4;
            // Quads 2t (low nibbles) and 2t + 1 (high) share block t's 4 bytes of this column.
            for (int quad = 0; quad < GroupSize / 4; quad++)
                for (int i = 0; i < 4 && g * GroupSize + 4 * quad + i < Cols; i++)
                {
                    byte b = Nibbles[at + quad / 2 * (PanelCols * 4) + i];
                    destination[g * GroupSize + 4 * quad + i] = d * ((quad % 2 == 1 ? b >> 4 : b & 0x0F) - 8);
                }
        }
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");
}
