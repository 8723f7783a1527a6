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
        var cache = new FolioCudaPagedKv { NumBlocks = 64, BlockSize = 16, NumKvHeads = 8, HeadDim = 128, Dtype = (int)FolioCudaDtype.Bf16 };
        var write = new FolioCudaKvWriteParams { StructSize = (uint)sizeof(FolioCudaKvWriteParams), NumTokens = 4, KeyTokenStride = 100, ValueTokenStride = 1024 };
        int status = FolioCudaNative.KvWrite(&cache, &write, null);
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
        // fp32 never takes the sm_90a kernel, whatever the device (or none): AUTO answers SM80, and asking for SM90
        // with head_dim 96 is refused on every build and card.
        Assert.Equal((int)FolioCudaPrefillKernel.Sm80,
            FolioCudaNative.PagedPrefillKernel((int)FolioCudaPrefillKernel.Auto, 128, 0.1f, (int)FolioCudaDtype.F32));
        Assert.Equal((int)FolioCudaPrefillKernel.Sm80,
            FolioCudaNative.PagedPrefillKernel((int)FolioCudaPrefillKernel.Sm80, 128, 0.1f, (int)FolioCudaDtype.Bf16));
        Assert.Equal((int)FolioCudaStatus.Unsupported,
            FolioCudaNative.PagedPrefillKernel((int)FolioCudaPrefillKernel.Sm90, 96, 0.1f, (int)FolioCudaDtype.Bf16));
        Assert.Contains("sm_90a kernel does not apply", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedPrefillKernel(3, 128, 0.1f, (int)FolioCudaDtype.Bf16));
    }
}
