namespace Folio.Cpu;

/// <summary>
/// How many rows a register tile multiplies, as a type argument: the JIT compiles each count's tile with only its own
/// accumulators (the tests on <see cref="Count"/> fold away), so one method body serves every row count.
/// </summary>
internal interface IRowCount
{
    static abstract int Count { get; }
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
