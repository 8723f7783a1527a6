using Folio.Cuda.Native;

namespace Folio.Cuda.Tests;

/// <summary>The attention, KV write and block move launchers of folio_cuda.h 2.x (paged-cache view + parameter
/// struct): every refusal below happens on the host, before any CUDA call, so no GPU is needed.</summary>
public sealed unsafe class LauncherRefusalTests
{
    private static FolioCudaPagedKv Cache(int blockSize = 16, FolioCudaDtype dtype = FolioCudaDtype.Bf16) => new()
    {
        NumBlocks = 8, BlockSize = blockSize, NumKvHeads = 4, HeadDim = 128, Layout = (int)FolioCudaKvLayout.Hnd, Dtype = (int)dtype,
    };

    private static FolioCudaPagedAttentionDecodeParams Decode() => new()
    {
        StructSize = (uint)sizeof(FolioCudaPagedAttentionDecodeParams), NumSeqs = 1, NumQHeads = 8, MaxBlocksPerSeq = 1,
        MaxContextLen = 16, Scale = 0.1f,
    };

    private static FolioCudaPagedPrefillParams Prefill() => new()
    {
        StructSize = (uint)sizeof(FolioCudaPagedPrefillParams), NumSeqs = 1, NumQHeads = 8, MaxBlocksPerSeq = 1,
        MaxQueryLen = 16, Scale = 0.1f, Kernel = (int)FolioCudaPrefillKernel.Sm80,
    };

    [CudaLibraryFact]
    public void DecodeChecksTheStructAndTheView()
    {
        var cache = Cache();
        var p = Decode();
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedAttentionDecode(&cache, &p, null));
        Assert.Contains("must be non-null", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedAttentionDecode(null, &p, null));
        Assert.Contains("cache must be non-null", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        p.StructSize = 16;   // a header older than the one this library knows
        Assert.Equal((int)FolioCudaStatus.StructSize, FolioCudaNative.PagedAttentionDecode(&cache, &p, null));
        p = Decode();
        cache = Cache(dtype: FolioCudaDtype.F32);
        Assert.Equal((int)FolioCudaStatus.Unsupported, FolioCudaNative.PagedAttentionDecode(&cache, &p, null));
        cache = Cache(blockSize: 24);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedAttentionDecode(&cache, &p, null));
        Assert.Contains("power of two", FolioCudaTestText.LastError(), StringComparison.Ordinal);
    }

    [CudaLibraryFact]
    public void PrefillTakesItsKernelFromTheCall()
    {
        var cache = Cache();
        var p = Prefill();
        p.Kernel = 7;
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedPrefill(&cache, &p, null));
        Assert.Contains("kernel must be", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        // Asking for the sm_90a kernel where it cannot run (a negative scale) is refused, not run on the other one.
        p.Kernel = (int)FolioCudaPrefillKernel.Sm90;
        p.Scale = -0.1f;
        Assert.Equal((int)FolioCudaStatus.Unsupported, FolioCudaNative.PagedPrefill(&cache, &p, null));
        Assert.Contains("sm_90a kernel does not apply", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        p = Prefill();
        p.Reserved = 1;
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedPrefill(&cache, &p, null));
        p = Prefill();
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.PagedPrefill(&cache, &p, null)); // null q/out
    }

    [CudaLibraryFact]
    public void BlockMovesDeriveTheBlockFromTheView()
    {
        var cache = Cache();
        var p = new FolioCudaBlockMoveParams { StructSize = (uint)sizeof(FolioCudaBlockMoveParams), NumCaches = 2, NumPairs = 3, HostNumBlocks = 4 };
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.BlockCopy(&cache, &p, null));
        Assert.Contains("host_ptrs must be NULL", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.BlockSwapOut(&cache, &p, null));
        Assert.Contains("must be non-null", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        var tiny = new FolioCudaPagedKv { NumBlocks = 8, BlockSize = 1, NumKvHeads = 1, HeadDim = 2, Dtype = (int)FolioCudaDtype.F16 };
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.BlockSwapIn(&tiny, &p, null));
        Assert.Contains("multiple of 16 bytes", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        p.NumPairs = 0;   // nothing to move: succeeds without touching the device
        Assert.Equal((int)FolioCudaStatus.Ok, FolioCudaNative.BlockSwapIn(&cache, &p, null));
    }
}
