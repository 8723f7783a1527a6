using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Cpu.Weights;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] that is a bf16 checkpoint's own bytes, used in place through the file's
/// read-only mapping: row-major, one or more <see cref="MappedTensor"/> parts stacked by rows (fused q/k/v and
/// gate/up stay separate tensors in the file). Nothing is copied at load, so resident memory is the pages the
/// GEMM touches, backed by the page cache. <see cref="Bf16RowGemm"/> reads it. Owns its parts: disposing the
/// weight releases them (and the mapping, once every tensor on it is released).
/// </summary>
internal sealed class MappedBf16Weight : DeviceTensor
{
    private readonly MappedTensor[] _parts;
    private readonly int[] _firstRows;
    /// <summary>Each part's first element, taken once (valid until the parts are disposed, which <see cref="Dispose"/>
    /// does last).</summary>
    private readonly nint[] _addresses;
    private int _disposed;

    private MappedBf16Weight(MappedTensor[] parts, int[] firstRows, int rows, int cols) : base(rows, cols, DType.BF16)
    {
        _parts = parts;
        _firstRows = firstRows;
        _addresses = [.. parts.Select(p => p.Address)];
    }

    /// <summary>Null unless every part is a BF16 matrix with the same columns (the caller then keeps the parts).</summary>
    public static MappedBf16Weight? TryCreate(IReadOnlyList<MappedTensor> parts)
    {
        if (parts.Count == 0 || parts.Any(p => p.DType != DType.BF16 || p.Cols != parts[0].Cols) || parts[0].Cols > int.MaxValue)
            return null;
        long rows = parts.Sum(p => p.Rows);
        if (rows > int.MaxValue || parts.Any(p => p.Rows * p.Cols > int.MaxValue))
            return null;
        var firstRows = new int[parts.Count];
        for (int i = 1; i < parts.Count; i++)
            firstRows[i] = firstRows[i - 1] + (int)parts[i - 1].Rows;
        return new MappedBf16Weight([.. parts], firstRows, (int)rows, (int)parts[0].Cols);
    }

    internal long StoredBytes => (long)Rows * Cols * sizeof(ushort);

    /// <summary>Throws once disposed (each MatMul checks before its rows are read).</summary>
    internal void RequireLive() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Row <paramref name="o"/>'s first element (Cols bf16 values follow); o in [0, Rows).</summary>
    internal ref ushort Row(int o)
    {
        int p = _addresses.Length - 1;
        while (_firstRows[p] > o)
            p--;
        return ref MappedRows.At<ushort>(_addresses[p], (long)(o - _firstRows[p]) * Cols);
    }

    /// <summary>Drops the parts' pages from this process's resident set (the page cache keeps the file's data): after
    /// packing, their bytes are not read again, while the mapping itself may stay (the embedding table uses it).</summary>
    internal void ReleasePages()
    {
        RequireLive();
        foreach (var p in _parts)
            MappedRows.Release(p);
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a packed weight has no row views");

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            foreach (var p in _parts)
                p.Dispose();
        base.Dispose();
    }
}
