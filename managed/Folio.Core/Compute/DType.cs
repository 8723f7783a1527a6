namespace Folio.Core.Compute;

/// <summary>Element type of a tensor or KV cache. The CPU backend computes in <see cref="F32"/>; the 16-bit types
/// are what checkpoints and GPU backends store (room for quantized formats is left by appending).</summary>
public enum DType
{
    F32,
    BF16,
    F16,
}

public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(DType type) => type switch
    {
        DType.F32 => 4,
        DType.BF16 or DType.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown dtype"),
    };

    /// <summary>Throws an <see cref="ArgumentException"/> naming the operation and both types unless
    /// <paramref name="actual"/> is <paramref name="expected"/> (ops check their operands with it).</summary>
    public static void Require(DType actual, DType expected, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"{what} is {actual}, expected {expected}");
    }
}
