using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// A non-blocking CUDA stream from <c>folio_cuda_stream_create</c>, destroyed by <c>folio_cuda_stream_destroy</c>.
/// <see cref="Default"/> is the legacy default stream (null), which is never destroyed.
/// </summary>
public sealed unsafe class CudaStream : SafeHandle
{
    private readonly bool _isDefault;

    private CudaStream(nint stream, bool isDefault) : base(0, ownsHandle: !isDefault)
    {
        SetHandle(stream);
        _isDefault = isDefault;
    }

    /// <summary>The legacy default stream.</summary>
    public static CudaStream Default { get; } = new(0, isDefault: true);

    public override bool IsInvalid => handle == 0 && !_isDefault;

    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    public static CudaStream Create()
    {
        void* s = null;
        FolioCudaException.Check(FolioCudaNative.StreamCreate(&s));
        return new CudaStream((nint)s, isDefault: false);
    }

    /// <summary>Waits for everything enqueued on this stream.</summary>
    public void Synchronize() => FolioCudaException.Check(FolioCudaNative.StreamSynchronize((void*)Pointer));

    /// <summary>Work enqueued on this stream from now on waits for <paramref name="cudaEvent"/>'s last record.</summary>
    public void Wait(CudaEvent cudaEvent)
    {
        ArgumentNullException.ThrowIfNull(cudaEvent);
        FolioCudaException.Check(FolioCudaNative.StreamWaitEvent((void*)Pointer, (void*)cudaEvent.Pointer));
    }

    /// <summary>Starts recording this stream's work into a graph instead of running it (thread-local capture: this
    /// thread may not allocate or synchronise until <see cref="EndCapture"/>). The default stream cannot be
    /// captured.</summary>
    public void BeginCapture() => FolioCudaException.Check(FolioCudaNative.StreamBeginCapture((void*)Pointer));

    /// <summary>Ends the capture begun by <see cref="BeginCapture"/>: the graph of the work enqueued since.</summary>
    public CudaGraph EndCapture()
    {
        void* graph = null;
        FolioCudaException.Check(FolioCudaNative.StreamEndCapture((void*)Pointer, &graph));
        return new CudaGraph((nint)graph);
    }

    protected override bool ReleaseHandle() => FolioCudaNative.StreamDestroy((void*)handle) == (int)FolioCudaStatus.Ok;
}
