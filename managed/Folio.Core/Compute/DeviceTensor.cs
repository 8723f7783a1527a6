namespace Folio.Core.Compute;

/// <summary>
/// A row-major fp32 matrix [Rows, Cols] in a backend's memory. Model code never sees its storage; it passes
/// tensors to <see cref="IComputeBackend"/> ops. <see cref="View"/> gives the first rows of the same storage,
/// so scratch buffers sized for the largest step serve every smaller one without allocating.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    protected DeviceTensor(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Rows = rows;
        Cols = cols;
    }

    public int Rows { get; }
    public int Cols { get; }

    /// <summary>The first <paramref name="rows"/> rows, sharing storage with this tensor.</summary>
    public abstract DeviceTensor View(int rows);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
