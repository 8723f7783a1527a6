using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>A row-major fp32 matrix in managed memory; views share <see cref="Data"/>.</summary>
public sealed class CpuTensor : DeviceTensor
{
    internal CpuTensor(float[] data, int rows, int cols, bool packedWeight = false, int offset = 0) : base(rows, cols)
    {
        PackedWeight = packedWeight;
        Offset = offset;
        if (!packedWeight && (long)rows * cols > data.Length)
            throw new ArgumentException($"[{rows}, {cols}] does not fit {data.Length} floats");
        Data = data;
    }

    internal float[] Data { get; }

    /// <summary>Where a packed weight's panels start in <see cref="Data"/> (<see cref="AlignedPanels{T}"/>: on a 64-byte
    /// boundary); 0 for every other tensor.</summary>
    internal int Offset { get; }

    /// <summary>A MatMul weight of logical shape [Rows = out, Cols = in], stored in Gemm's panel layout.</summary>
    internal bool PackedWeight { get; }

    internal Span<float> Row(int r) => Data.AsSpan(r * Cols, Cols);

    internal Span<float> Span => Data.AsSpan(0, Rows * Cols);

    public override DeviceTensor View(int rows)
    {
        if ((uint)rows > (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(rows), $"a view of {rows} rows of a [{Rows}, {Cols}] tensor");
        if (PackedWeight)
            throw new InvalidOperationException("a packed weight has no row views");
        return new CpuTensor(Data, rows, Cols);
    }
}
