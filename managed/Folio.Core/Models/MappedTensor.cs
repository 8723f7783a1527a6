using System.Runtime.InteropServices;

namespace Folio.Core.Models;

/// <summary>
/// A checkpoint tensor used in place: its bytes inside a read-only memory mapping of the file, not copied. The
/// mapping is a <see cref="SafeHandle"/> that this object holds a reference on (<see cref="SafeHandle.DangerousAddRef"/>),
/// so the file's reader may be disposed first: the pages stay mapped until the last tensor on them is disposed
/// (then munmap). <see cref="Address"/> is valid from construction until <see cref="Dispose"/>; a backend that
/// keeps one owns it, and disposing the model's weight disposes it. Row-major [Rows, Cols] little-endian elements.
/// </summary>
public sealed class MappedTensor : IDisposable
{
    private readonly SafeHandle _mapping;
    private readonly nint _address;
    private int _disposed;

    /// <summary>Takes a reference on <paramref name="mapping"/>; <paramref name="byteOffset"/> is from its start.</summary>
    internal MappedTensor(string name, SafeHandle mapping, long byteOffset, Compute.DType dtype, long rows, long cols)
    {
        bool added = false;
        mapping.DangerousAddRef(ref added);
        _mapping = mapping;
        _address = mapping.DangerousGetHandle() + (nint)byteOffset;
        Name = name;
        DType = dtype;
        Rows = rows;
        Cols = cols;
    }

    public string Name { get; }
    /// <summary>The stored element type (F32, F16 or BF16).</summary>
    public Compute.DType DType { get; }
    public long Rows { get; }
    public long Cols { get; }
    public long ByteLength => Rows * Cols * Compute.DTypes.SizeOf(DType);

    /// <summary>The first element's address; readable for <see cref="ByteLength"/> bytes until <see cref="Dispose"/>.</summary>
    public nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _address;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _mapping.DangerousRelease();
    }
}
