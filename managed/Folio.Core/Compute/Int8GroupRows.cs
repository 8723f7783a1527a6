namespace Folio.Core.Compute;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] whose stored values are exactly d · q for groups of 32 consecutive inputs
/// of a row, q an int8 in [−127, 127] and d a finite scale: the form of a backend's int8 weights, in which GGUF Q5_0
/// (q − 16 for a 5-bit q) and IQ4_NL (its 16-level table) tensors are held exactly with a non-negative fp16 d
/// (<see cref="Scales"/>), and IQ4_XS (the same table, d · (sc − 32) for each group of 32) with an fp32 d
/// (<see cref="SingleScales"/>).
/// Row-major: <see cref="Quants"/> [Rows, Cols], the scales [Rows, Cols / 32]. Checked on construction.
/// </summary>
public sealed class Int8GroupRows
{
    public const int GroupSize = 32;

    /// <summary>fp16 scales (their bits), each finite and non-negative.</summary>
    public Int8GroupRows(string name, int rows, int cols, sbyte[] quants, ushort[] scales) : this(name, rows, cols, quants, scales.LongLength)
    {
        for (long i = 0; i < scales.LongLength; i++)
            if ((scales[i] & 0x8000) != 0 || (scales[i] & 0x7C00) == 0x7C00)
                throw new ArgumentException($"tensor '{name}': group {i} has scale 0x{scales[i]:X4}, not a finite non-negative fp16");
        Scales = scales;
    }

    /// <summary>fp32 scales, each finite.</summary>
    public Int8GroupRows(string name, int rows, int cols, sbyte[] quants, float[] scales) : this(name, rows, cols, quants, scales.LongLength)
    {
        for (long i = 0; i < scales.LongLength; i++)
            if (!float.IsFinite(scales[i]))
                throw new ArgumentException($"tensor '{name}': group {i} has scale {scales[i]}");
        SingleScales = scales;
    }

    private Int8GroupRows(string name, int rows, int cols, sbyte[] quants, long scales)
    {
        if (rows <= 0 || cols <= 0 || cols % GroupSize != 0)
            throw new ArgumentException($"tensor '{name}': int8 groups need whole rows of {GroupSize}, shape is [{rows}, {cols}]");
        if (quants.LongLength != (long)rows * cols || scales != (long)rows * (cols / GroupSize))
            throw new ArgumentException($"tensor '{name}': {quants.LongLength} values and {scales} scales for [{rows}, {cols}]");
        for (long i = 0; i < quants.LongLength; i++)
            if (quants[i] == sbyte.MinValue)
                throw new ArgumentException($"tensor '{name}': value {i} is -128, outside [-127, 127]");
        Name = name;
        Rows = rows;
        Cols = cols;
        Quants = quants;
    }

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    public sbyte[] Quants { get; }
    /// <summary>fp16 bits; null where <see cref="SingleScales"/> holds the scales.</summary>
    public ushort[]? Scales { get; }
    /// <summary>fp32 scales; null where <see cref="Scales"/> holds them.</summary>
    public float[]? SingleScales { get; }

    /// <summary>Every group's values lie in [−8, 7], or in [−7, 8] (a negative scale taken as its magnitude with the
    /// values negated): a backend may hold them at 4 bits, as they were stored (GGUF Q4_0).</summary>
    public bool FourBit { get; init; }

    /// <summary>The rows of <paramref name="parts"/> stacked (a fused q/k/v, gate/up), which must share one width.</summary>
    public static int StackedRows(IReadOnlyList<Int8GroupRows> parts)
    {
        if (parts.Count == 0)
            throw new ArgumentException("a weight needs at least one part");
        int rows = 0;
        foreach (var p in parts)
            rows = p.Cols == parts[0].Cols ? checked(rows + p.Rows)
                : throw new ArgumentException($"tensor '{p.Name}' has {p.Cols} columns, '{parts[0].Name}' {parts[0].Cols}: parts of one weight must agree");
        return rows;
    }

    /// <summary>Scale <paramref name="i"/> as fp32.</summary>
    public float Scale(long i) => SingleScales is { } s ? s[i] : (float)BitConverter.UInt16BitsToHalf(Scales![i]);
}
