using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// A CUDA event from <c>folio_cuda_event_create</c>, destroyed by <c>folio_cuda_event_destroy</c>: a point in a
/// stream's work that another stream can wait for (<see cref="CudaStream.Wait"/>) or the host can wait on, and, for
/// a timing event, a GPU timestamp (<see cref="ElapsedMilliseconds"/>).
/// </summary>
public sealed unsafe class CudaEvent : SafeHandle
{
    private CudaEvent(nint cudaEvent, bool timing) : base(0, ownsHandle: true)
    {
        SetHandle(cudaEvent);
        IsTiming = timing;
    }

    /// <summary>Whether the event records timestamps (created with timing on).</summary>
    public bool IsTiming { get; }

    public override bool IsInvalid => handle == 0;

    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>A new event; <paramref name="timing"/> off makes it cheaper to record and wait on.</summary>
    public static CudaEvent Create(bool timing = false)
    {
        void* e = null;
        FolioCudaException.Check(FolioCudaNative.EventCreate(timing ? 1 : 0, &e));
        return new CudaEvent((nint)e, timing);
    }

    /// <summary>Completes when the work enqueued on <paramref name="stream"/> so far has.</summary>
    public void Record(CudaStream stream) =>
        FolioCudaException.Check(FolioCudaNative.EventRecord((void*)Pointer, (void*)stream.Pointer));

    /// <summary>Waits on the host for the last <see cref="Record"/>.</summary>
    public void Synchronize() => FolioCudaException.Check(FolioCudaNative.EventSynchronize((void*)Pointer));

    /// <summary>GPU time from <paramref name="start"/>'s last record to <paramref name="end"/>'s (both completed
    /// timing events).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        if (!start.IsTiming || !end.IsTiming)
            throw new ArgumentException("both events must be created with timing on");
        float ms = 0;
        FolioCudaException.Check(FolioCudaNative.EventElapsedMs((void*)start.Pointer, (void*)end.Pointer, &ms));
        return ms;
    }

    protected override bool ReleaseHandle() => FolioCudaNative.EventDestroy((void*)handle) == (int)FolioCudaStatus.Ok;
}
