using System.Diagnostics;
using Folio.Cuda.Native;

namespace Folio.Cuda.Tests;

/// <summary>The bindings against the built library, on paths that need no GPU: version, exports, refusals.</summary>
public sealed unsafe class CudaLibraryTests
{
    [CudaLibraryFact]
    public void VersionMatchesTheHeader()
    {
        Assert.Equal(FolioCudaVersion.Major * 10000 + FolioCudaVersion.Minor * 100 + FolioCudaVersion.Patch, CudaLibrary.Version);
        CudaLibrary.RequireCompatible();
    }

    [CudaLibraryFact]
    public void ExportedSymbolsAreTheHeadersFunctions()
    {
        var start = new ProcessStartInfo("nm", ["-D", "--defined-only", CudaLibraryFactAttribute.LibraryPath])
        {
            RedirectStandardOutput = true,
        };
        using var nm = Process.Start(start)!;
        string output = nm.StandardOutput.ReadToEnd();
        nm.WaitForExit();
        Assert.Equal(0, nm.ExitCode);
        var exported = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ').Last()).Where(s => s.StartsWith("folio_", StringComparison.Ordinal)).ToHashSet();
        var declared = HeaderModel.Read().Functions.Keys.ToHashSet();
        Assert.Empty(declared.Except(exported));
        Assert.Empty(exported.Except(declared));
    }

    [CudaLibraryFact]
    public void RefusalIsANegativeStatusWithAMessage()
    {
        // A short key stride is refused on the host, before any CUDA call.
        int status = FolioCudaNative.KvWrite(null, null, null, null, null, 4, 8, 128, 16, (int)FolioCudaKvLayout.Nhd,
            100, 1024, 64, 2, null);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, status);
        var e = Assert.Throws<FolioCudaException>(() => FolioCudaException.Check(status));
        Assert.Equal(FolioCudaStatus.InvalidArgument, e.Status);
        Assert.Contains("key_token_stride", e.Message, StringComparison.Ordinal);
    }

    [CudaLibraryFact]
    public void NullOutPointerIsRefused()
    {
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.Malloc(16, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.StreamCreate(null));
    }

    [CudaLibraryFact]
    public void ZeroByteBufferHoldsNoMemory()
    {
        // folio_cuda_malloc of 0 bytes succeeds without touching the device (none is needed).
        using var empty = DeviceBuffer.Allocate(0);
        Assert.Equal(0, empty.Pointer);
        Assert.False(empty.IsInvalid);
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceBuffer.Allocate(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => empty.Upload<int>([1], CudaStream.Default));
    }

    [CudaLibraryFact]
    public void PrefillKernelQueryNeedsNoDevice()
    {
        // fp32 never takes the sm_90a kernel, whatever the device (or none).
        Assert.Equal((int)FolioCudaPrefillKernel.Sm80,
            FolioCudaNative.PagedPrefillKernel(128, 0.1f, (int)FolioCudaDtype.F32));
    }
}
