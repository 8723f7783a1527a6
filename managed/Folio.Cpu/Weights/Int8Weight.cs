using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] quantized at load time: group-wise symmetric int8 along k, one group
/// per <see cref="GroupSize"/> = 32 consecutive inputs of one output column (llama.cpp's Q8_0 grouping), with
/// an fp16 scale d = fp16(max |w| / 127) per group and q = round(w / d) in [-127, 127]; w ≈ d · q.
/// 34 bytes per 32 weights (1.06 bytes a weight, against 4 for fp32). k is zero-padded to whole groups.
/// Layout for <see cref="Int8Gemm"/>: panels of 8 output columns; in a panel, per group, 8 quads of 4 inputs,
/// each quad 8 columns × 4 bytes (one 32-bit lane per column: the 4 bytes a byte dot product sums at once).
/// </summary>
internal sealed class Int8Weight : DeviceTensor
{
    public const int GroupSize = 32;
    public const int PanelCols = 8;
    /// <summary>Bytes of one group of one panel: 32 inputs × 8 columns.</summary>
    public const int GroupBytes = GroupSize * PanelCols;

    private Int8Weight(sbyte[] quants, ushort[] scales, float[]? singleScales, int[] quantOffsets, int rows, int cols) : base(rows, cols, DType.F32)
    {
        Quants = quants;
        Scales = scales;
        SingleScales = singleScales;
        QuantOffsets = quantOffsets;
    }

    internal sbyte[] Quants { get; }
    /// <summary>fp16 bits, [panel][group][8 columns]; empty where <see cref="SingleScales"/> holds them.</summary>
    internal ushort[] Scales { get; }
    /// <summary>fp32 scales in <see cref="Scales"/>' layout, for weights whose group scales are not fp16 values (GGUF
    /// IQ4_XS: d · (sc − 32)); null for the others.</summary>
    internal float[]? SingleScales { get; }
    /// <summary>−128 · Σ q over each group, [panel][group][8 columns]: the start value of the multi-row AVX-VNNI tile's
    /// int32 accumulators, which then sum Σ (x_q + 128) · q (it feeds the activations' stored unsigned bytes to vpdpbusd
    /// as they are) and so end at Σ x_q · q, with no subtraction per row. Resident only: 4 bytes per 32 weights that
    /// decode (one row, the sign trick) never reads, so not in <see cref="StoredBytes"/>.</summary>
    internal int[] QuantOffsets { get; }
    internal int Groups => (Cols + GroupSize - 1) / GroupSize;
    internal int Panels => (Rows + PanelCols - 1) / PanelCols;
    internal long StoredBytes => Quants.LongLength + Scales.LongLength * sizeof(ushort) + (SingleScales?.LongLength ?? 0) * sizeof(float);

    public static Int8Weight Quantize(ReadOnlySpan<float> w, int outFeatures, int inFeatures)
    {
        var q = Create(outFeatures, inFeatures);
        q.QuantizeRows(w, 0);
        return q;
    }

    /// <summary>An all-zero weight whose rows <see cref="QuantizeRows"/> fills (a large tensor, piece by piece).</summary>
    public static Int8Weight Create(int outFeatures, int inFeatures) => Create(outFeatures, inFeatures, singleScales: false);

    private static Int8Weight Create(int outFeatures, int inFeatures, bool singleScales)
    {
        int groups = (inFeatures + GroupSize - 1) / GroupSize;
        int panels = (outFeatures + PanelCols - 1) / PanelCols;
        int scales = checked(panels * groups * PanelCols);
        return new Int8Weight(HugePages.NewArray<sbyte>(checked((long)panels * groups * GroupBytes)), singleScales ? [] : new ushort[scales],
            singleScales ? new float[scales] : null, new int[scales], outFeatures, inFeatures);
    }

    /// <summary>Quantizes rows [firstRow, firstRow + w.Length / Cols) from their fp32 values; each row's groups depend
    /// on that row alone, so pieces give the bits the whole tensor gives.</summary>
    public void QuantizeRows(ReadOnlySpan<float> w, int firstRow)
    {
        int inFeatures = Cols, groups = Groups;
        var quants = Quants;
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
                float amax = 0f;
                for (int i = k0; i < k1; i++)
                {
                    if (!float.IsFinite(row[i]))
                        throw new ArgumentException($"weight element [{o}, {i}] is {row[i]}");
                    amax = Math.Max(amax, Math.Abs(row[i]));
                }
                var d = (Half)(amax / 127f);
                if (Half.IsInfinity(d))
                    throw new ArgumentException($"weight [{o}, {k0}..{k1}): max |w| {amax} is beyond an fp16 scale");
                float scale = (float)d;
                scales[(panel * groups + g) * PanelCols + j] = BitConverter.HalfToUInt16Bits(d);
                int sum = 0;
                for (int i = k0; i < k1; i++)
                {
                    int q = scale == 0f ? 0 : (int)Math.Clamp(MathF.Round(row[i] / scale), -127f, 127f);
                    quants[Index(panel, groups, g, i - k0, j)] = (sbyte)q;
                    sum += q;
                }
                QuantOffsets[(panel * groups + g) * PanelCols + j] = -128 * sum;
            }
        }
    }

    /// <summary>The weight of <paramref name="parts"/> stacked by rows, their values and scales as they are (a GGUF
    /// Q5_0, IQ4_NL or IQ4_XS tensor's exact values; <see cref="Int8GroupRows"/> checks the ranges). fp32 scales
    /// (<see cref="SingleScales"/>) where any part has them.</summary>
    public static Int8Weight FromGroups(IReadOnlyList<Int8GroupRows> parts)
    {
        int rows = Int8GroupRows.StackedRows(parts), cols = parts[0].Cols;
        bool single = parts.Any(p => p.SingleScales is not null);
        var w = Create(rows, cols, single);
        int groups = w.Groups, first = 0;
        foreach (var p in parts)
        {
            for (int r = 0; r < p.Rows; r++)
            {
                int o = first + r, panel = o / PanelCols, j = o % PanelCols;
                for (int g = 0; g < groups; g++)
                {
                    int sum = 0;
                    for (int i = 0; i < GroupSize; i++)
                    {
                        sbyte q = p.Quants[(long)r * cols + g * GroupSize + i];
                        w.Quants[Index(panel, groups, g, i, j)] = q;
                        sum += q;
                    }
                    int at = (panel * groups + g) * PanelCols + j;
                    long from = (long)r * groups + g;
                    if (single)
                        w.SingleScales![at] = p.Scale(from);
                    else
                        w.Scales[at] = p.Scales![from];
                    w.QuantOffsets[(panel * groups + g) * PanelCols + j] = -128 * sum;
                }
            }
            first += p.Rows;
        }
        return w;
    }

    /// <summary>Byte offset of input i (0..31) of group g, column j of a panel.</summary>
    internal static long Index(int panel, int groups, int g, int i, int j) =>
        ((long)panel * groups + g) * GroupBytes + i / 4 * (PanelCols * 4) + j * 4 + i % 4;

    internal float Scale(int o, int g)
    {
        int at = (o / PanelCols * Groups + g) * PanelCols + o % PanelCols;
        return SingleScales is { } s ? s[at] : (float)BitConverter.UInt16BitsToHalf(Scales[at]);
    }

    internal sbyte Quant(int o, int i) => Quants[Index(o / PanelCols, Groups, i / GroupSize, i % GroupSize, o % PanelCols)];

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
            // A group's 32 inputs: 8 quads of 4 consecutive bytes, one quad every PanelCols · 4 bytes.
            for (int t = 0; t < GroupSize / 4; t++)
                for (int i = 0; i < 4 && g * GroupSize + 4 * t + i < Cols; i++)
                    destination[g * GroupSize + 4 * t + i] = d * Quants[at + t * PanelCols * 4 + i];
        }
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");
}
