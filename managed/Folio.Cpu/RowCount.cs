namespace Folio.Cpu;

/// <summary>
/// How many rows a register tile multiplies, as a type argument: the JIT compiles each count's tile with only its own
/// accumulators (the tests on <see cref="Count"/> fold away), so one method body serves every row count.
/// </summary>
internal interface IRowCount
{
    static abstract int Count { get; }
}

/// <summary>Rows split into tiles of at most a given count, as evenly as that allows (32 rows in tiles of at most 6:
/// 6, 6, 5, 5, 5, 5), so that no tile is left with a lone row whose few FMA chains keep the units idle.</summary>
internal static class EvenRowTiles
{
    /// <summary>How many tiles <paramref name="rows"/> rows take at <paramref name="max"/> rows a tile.</summary>
    public static int Count(int rows, int max) => (rows + max - 1) / max;

    /// <summary>Rows in tile <paramref name="t"/> of <paramref name="tiles"/>: the first rows % tiles tiles take one more.</summary>
    public static int Size(int rows, int tiles, int t) => rows / tiles + (t < rows % tiles ? 1 : 0);
}

internal readonly struct OneRow : IRowCount
{
    public static int Count => 1;
}

internal readonly struct TwoRows : IRowCount
{
    public static int Count => 2;
}

internal readonly struct ThreeRows : IRowCount
{
    public static int Count => 3;
}

internal readonly struct FourRows : IRowCount
{
    public static int Count => 4;
}

internal readonly struct FiveRows : IRowCount
{
    public static int Count => 5;
}

internal readonly struct SixRows : IRowCount
{
    public static int Count => 6;
}

internal readonly struct EightRows : IRowCount
{
    public static int Count => 8;
}
