using Folio.Cuda.Native;

namespace Folio.Cuda.Tests;

/// <summary>Events and graphs (folio_cuda.h, "Events and graphs"): the host-side refusals, which need no GPU. Capture
/// and replay themselves are checked on a GPU (tests/gpu/test_graphs.py).</summary>
public sealed unsafe class EventGraphTests
{
    [CudaLibraryFact]
    public void DefaultStreamCannotBeCaptured()
    {
        var e = Assert.Throws<FolioCudaException>(() => CudaStream.Default.BeginCapture());
        Assert.Equal(FolioCudaStatus.InvalidArgument, e.Status);
        Assert.Contains("default stream cannot be captured", e.Message, StringComparison.Ordinal);
    }

    [CudaLibraryFact]
    public void NullHandlesAreRefusedAndNullReleasesSucceed()
    {
        void* handle = null;
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.EventCreate(2, &handle));
        Assert.Contains("timing must be 0 or 1", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.EventCreate(1, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.EventRecord(null, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.EventSynchronize(null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.EventElapsedMs(null, null, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.StreamWaitEvent(null, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.StreamEndCapture(null, &handle));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.GraphInstantiate(null, &handle));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.GraphLaunch(null, null));
        Assert.Equal((int)FolioCudaStatus.Ok, FolioCudaNative.EventDestroy(null));
        Assert.Equal((int)FolioCudaStatus.Ok, FolioCudaNative.GraphDestroy(null));
        Assert.Equal((int)FolioCudaStatus.Ok, FolioCudaNative.GraphExecDestroy(null));
    }
}
