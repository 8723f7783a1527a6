using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>A row-major fp32 matrix in managed memory; views share <see cref="Data"/>.</summary>
public sealed class CpuTensor : DeviceTensor
{
    internal CpuTensor(float[] data, int rows, int cols) : base(rows, cols)
    {
        if ((long)rows * cols > data.Length)
            throw new ArgumentException($"[{rows}, {cols}] does not fit {data.Length} floats");
        Data = data;
    }

    internal float[] Data { get; }

    internal Span<float> Row(int r) => Data.AsSpan(r * Cols, Cols);

    internal Span<float> Span => Data.AsSpan(0, Rows * Cols);

    public override DeviceTensor View(int rows)
    {
        if ((uint)rows > (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(rows), $"a view of {rows} rows of a [{Rows}, {Cols}] tensor");
        return new CpuTensor(Data, rows, Cols);
    }
}
