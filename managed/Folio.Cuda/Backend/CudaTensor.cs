using Folio.Core.Compute;

namespace Folio.Cuda.Backend;

/// <summary>A row-major [Rows, Cols] tensor in device memory; a view shares its parent's buffer and frees nothing.</summary>
internal sealed class CudaTensor : DeviceTensor
{
    private readonly DeviceBuffer _buffer;
    private readonly bool _owner;

    public CudaTensor(DeviceBuffer buffer, int rows, int cols, DType dtype, bool owner) : base(rows, cols, dtype)
    {
        _buffer = buffer;
        _owner = owner;
    }

    public DeviceBuffer Buffer => _buffer;

    /// <summary>The first element's address (hold the tensor across the call that uses it).</summary>
    public nint Pointer => _buffer.Pointer;

    public int ElementSize => DTypes.SizeOf(DType);

    public long RowBytes => (long)Cols * ElementSize;

    public override DeviceTensor View(int rows)
    {
        if ((uint)rows > (uint)CapacityRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a tensor with room for {CapacityRows} rows");
        return new CudaTensor(_buffer, rows, Cols, DType, owner: false);
    }

    public override void Dispose()
    {
        if (_owner)
            _buffer.Dispose();
        base.Dispose();
    }
}
