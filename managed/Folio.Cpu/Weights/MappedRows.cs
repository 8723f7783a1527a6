using System.Runtime.InteropServices;
using Folio.Core.Models;

namespace Folio.Cpu.Weights;

/// <summary>Rows of a <see cref="MappedTensor"/> as spans over the mapping (the one place Folio.Cpu turns an address
/// into a span, and releases mapped pages). Valid while the tensor is not disposed; the weight types that hold one dispose it last.</summary>
internal static partial class MappedRows
{
    /// <summary>Rows [firstRow, firstRow + rowCount) of elements of <typeparamref name="T"/> (the stored type's width).</summary>
    public static unsafe ReadOnlySpan<T> Rows<T>(MappedTensor tensor, long firstRow, int rowCount) where T : unmanaged
    {
        if (sizeof(T) != Folio.Core.Compute.DTypes.SizeOf(tensor.DType))
            throw new ArgumentException($"tensor '{tensor.Name}' holds {tensor.DType}, not {sizeof(T)}-byte elements");
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > tensor.Rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows [{firstRow}, {firstRow + rowCount}) of tensor '{tensor.Name}' ({tensor.Rows})");
        long count = rowCount * tensor.Cols;
        if (count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"{count} elements exceed a span");
        return new ReadOnlySpan<T>((T*)tensor.Address + firstRow * tensor.Cols, (int)count);
    }

    /// <summary>madvise(MADV_DONTNEED) over the whole pages inside <paramref name="tensor"/>'s bytes (Linux; elsewhere
    /// nothing): they leave the resident set and a later read faults them in again from the file, so the data is
    /// unchanged. A failure is ignored: the pages merely stay resident.</summary>
    public static void Release(MappedTensor tensor)
    {
        if (!OperatingSystem.IsLinux())
            return;
        long page = Environment.SystemPageSize;
        long start = ((long)tensor.Address + page - 1) / page * page, end = ((long)tensor.Address + tensor.ByteLength) / page * page;
        if (end > start)
            _ = MAdvise((nint)start, (nuint)(end - start), MadvDontNeed);
    }

    private const int MadvDontNeed = 4;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int MAdvise(nint address, nuint length, int advice);

    /// <summary>Element <paramref name="index"/> of <typeparamref name="T"/> at <paramref name="address"/> (a live
    /// <see cref="MappedTensor.Address"/>, bounds checked by the caller): the kernels' per-row access, without a
    /// span's checks on every row.</summary>
    public static unsafe ref T At<T>(nint address, long index) where T : unmanaged => ref ((T*)address)[index];
}
