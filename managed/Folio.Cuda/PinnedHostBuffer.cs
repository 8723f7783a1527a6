using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// Page-locked host memory from <c>folio_cuda_host_alloc</c> (mapped into the device's address space): the swap
/// space of the KV cache and the staging area of asynchronous copies. Released by <c>folio_cuda_host_free</c>.
/// </summary>
public sealed unsafe class PinnedHostBuffer : NativeBuffer
{
    private PinnedHostBuffer(nint pointer, long bytes) : base(pointer, bytes) { }

    /// <summary>The memory as a span of <typeparamref name="T"/> (whole elements only).</summary>
    public Span<T> AsSpan<T>() where T : unmanaged => new((void*)Pointer, checked((int)(Bytes / sizeof(T))));

    public static PinnedHostBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        void* p = null;
        FolioCudaException.Check(FolioCudaNative.HostAlloc((nuint)bytes, &p));
        return new PinnedHostBuffer((nint)p, bytes);
    }

    protected override bool ReleaseHandle() => FolioCudaNative.HostFree((void*)handle) == (int)FolioCudaStatus.Ok;
}
