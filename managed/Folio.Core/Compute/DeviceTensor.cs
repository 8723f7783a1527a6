namespace Folio.Core.Compute;

/// <summary>
/// A row-major matrix [Rows, Cols] of <see cref="DType"/> elements in a backend's memory. Model code never sees
/// its storage; it passes tensors to <see cref="IComputeBackend"/> ops. A scratch tensor is allocated once for the
/// largest step (<see cref="CapacityRows"/>) and <see cref="Resize"/>d to each step's rows, so a step allocates
/// nothing (and a GPU step can be captured and replayed at fixed addresses); <see cref="View"/> gives the first
/// rows of the same storage as a separate tensor.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    protected DeviceTensor(int rows, int cols, DType dtype = DType.F32)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Rows = rows;
        CapacityRows = rows;
        Cols = cols;
        DType = dtype;
    }

    public int Rows { get; private set; }
    public int Cols { get; }
    public DType DType { get; }

    /// <summary>The rows its storage holds: <see cref="Resize"/> goes up to this.</summary>
    public int CapacityRows { get; }

    /// <summary>Sets the rows in use (0 .. <see cref="CapacityRows"/>), keeping the storage.</summary>
    public void Resize(int rows)
    {
        if ((uint)rows > (uint)CapacityRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a tensor with room for {CapacityRows} rows");
        Rows = rows;
    }

    /// <summary>The first <paramref name="rows"/> rows, sharing storage with this tensor.</summary>
    public abstract DeviceTensor View(int rows);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
