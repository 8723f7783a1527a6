using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// Page-locked host memory from <c>folio_cuda_host_alloc</c> (mapped into the device's address space): the swap
/// space of the KV cache and the staging area of asynchronous copies. Released by <c>folio_cuda_host_free</c>.
/// </summary>
public sealed unsafe class PinnedHostBuffer : SafeHandle
{
    private PinnedHostBuffer(nint pointer, long bytes) : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
        Bytes = bytes;
    }

    public long Bytes { get; }

    public override bool IsInvalid => handle == 0 && Bytes != 0;

    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

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
