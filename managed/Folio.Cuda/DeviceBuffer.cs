using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// Device memory from <c>folio_cuda_malloc</c>, released by <c>folio_cuda_free</c> when disposed or finalized.
/// </summary>
public sealed unsafe class DeviceBuffer : NativeBuffer
{
    private DeviceBuffer(nint pointer, long bytes) : base(pointer, bytes) { }

    /// <summary>Allocates <paramref name="bytes"/> of device memory on the current device.</summary>
    public static DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        void* p = null;
        FolioCudaException.Check(FolioCudaNative.Malloc((nuint)bytes, &p));
        return new DeviceBuffer((nint)p, bytes);
    }

    /// <summary>Copies <paramref name="source"/> into this buffer at <paramref name="offsetBytes"/>, in stream order;
    /// the copy waits for the stream (pageable host memory), so <paramref name="source"/> may be reused on return.</summary>
    public void Upload<T>(ReadOnlySpan<T> source, CudaStream stream, long offsetBytes = 0) where T : unmanaged
    {
        long bytes = (long)source.Length * sizeof(T);
        CheckRange(offsetBytes, bytes);
        fixed (T* src = source)
            FolioCudaException.Check(FolioCudaNative.MemcpyAsync((byte*)Pointer + offsetBytes, src, (nuint)bytes,
                (void*)stream.Pointer));
        stream.Synchronize();
    }

    /// <summary>Copies bytes from this buffer at <paramref name="offsetBytes"/> into <paramref name="destination"/>
    /// after the work enqueued on <paramref name="stream"/> so far (synchronizes the stream).</summary>
    public void Download<T>(Span<T> destination, CudaStream stream, long offsetBytes = 0) where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        CheckRange(offsetBytes, bytes);
        fixed (T* dst = destination)
            FolioCudaException.Check(FolioCudaNative.MemcpyAsync(dst, (byte*)Pointer + offsetBytes, (nuint)bytes,
                (void*)stream.Pointer));
        stream.Synchronize();
    }

    /// <summary>Sets every byte to <paramref name="value"/> in stream order.</summary>
    public void Fill(byte value, CudaStream stream) =>
        FolioCudaException.Check(FolioCudaNative.MemsetAsync((void*)Pointer, value, (nuint)Bytes, (void*)stream.Pointer));

    private void CheckRange(long offsetBytes, long bytes)
    {
        if (offsetBytes < 0 || bytes < 0 || offsetBytes > Bytes - bytes)
            throw new ArgumentOutOfRangeException(nameof(offsetBytes),
                $"{bytes} bytes at offset {offsetBytes} do not fit a buffer of {Bytes} bytes");
    }

    protected override bool ReleaseHandle() => FolioCudaNative.Free((void*)handle) == (int)FolioCudaStatus.Ok;
}
