using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>
/// The raw C ABI of libfolio_cuda.so, one method per function of native/include/folio_cuda.h, with the header's
/// parameter types as C# pointer types (const dropped; size_t is nuint; void* stream is void*). No checks here:
/// the typed layer above (DeviceBuffer, CudaStream, ...) validates and turns statuses into exceptions. The
/// drift test (tests/Folio.Cuda.Tests) compares every method here with the header.
/// </summary>
internal static unsafe partial class FolioCudaNative
{
    internal const string Library = "folio_cuda";

    static FolioCudaNative() => CudaLibrary.InstallResolver();

    [LibraryImport(Library, EntryPoint = "folio_cuda_last_error")]
    internal static partial byte* LastError();

    [LibraryImport(Library, EntryPoint = "folio_cuda_version")]
    internal static partial int Version();

    // Device memory and streams.
    [LibraryImport(Library, EntryPoint = "folio_cuda_malloc")]
    internal static partial int Malloc(nuint bytes, void** ptr);

    [LibraryImport(Library, EntryPoint = "folio_cuda_free")]
    internal static partial int Free(void* ptr);

    [LibraryImport(Library, EntryPoint = "folio_cuda_host_alloc")]
    internal static partial int HostAlloc(nuint bytes, void** ptr);

    [LibraryImport(Library, EntryPoint = "folio_cuda_host_free")]
    internal static partial int HostFree(void* ptr);

    [LibraryImport(Library, EntryPoint = "folio_cuda_stream_create")]
    internal static partial int StreamCreate(void** stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_stream_destroy")]
    internal static partial int StreamDestroy(void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_stream_synchronize")]
    internal static partial int StreamSynchronize(void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_memcpy_async")]
    internal static partial int MemcpyAsync(void* dst, void* src, nuint bytes, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_memset_async")]
    internal static partial int MemsetAsync(void* dst, int value, nuint bytes, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_mem_get_info")]
    internal static partial int MemGetInfo(nuint* freeBytes, nuint* totalBytes);

    // Events and graphs.
    [LibraryImport(Library, EntryPoint = "folio_cuda_event_create")]
    internal static partial int EventCreate(int timing, void** cudaEvent);

    [LibraryImport(Library, EntryPoint = "folio_cuda_event_destroy")]
    internal static partial int EventDestroy(void* cudaEvent);

    [LibraryImport(Library, EntryPoint = "folio_cuda_event_record")]
    internal static partial int EventRecord(void* cudaEvent, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_event_synchronize")]
    internal static partial int EventSynchronize(void* cudaEvent);

    [LibraryImport(Library, EntryPoint = "folio_cuda_event_elapsed_ms")]
    internal static partial int EventElapsedMs(void* start, void* end, float* milliseconds);

    [LibraryImport(Library, EntryPoint = "folio_cuda_stream_wait_event")]
    internal static partial int StreamWaitEvent(void* stream, void* cudaEvent);

    [LibraryImport(Library, EntryPoint = "folio_cuda_stream_begin_capture")]
    internal static partial int StreamBeginCapture(void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_stream_end_capture")]
    internal static partial int StreamEndCapture(void* stream, void** graph);

    [LibraryImport(Library, EntryPoint = "folio_cuda_graph_instantiate")]
    internal static partial int GraphInstantiate(void* graph, void** exec);

    [LibraryImport(Library, EntryPoint = "folio_cuda_graph_launch")]
    internal static partial int GraphLaunch(void* exec, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_cuda_graph_destroy")]
    internal static partial int GraphDestroy(void* graph);

    [LibraryImport(Library, EntryPoint = "folio_cuda_graph_exec_destroy")]
    internal static partial int GraphExecDestroy(void* exec);

    // Attention.
    [LibraryImport(Library, EntryPoint = "folio_paged_attention_decode_workspace_size")]
    internal static partial int PagedAttentionDecodeWorkspaceSize(int numSeqs, int numQHeads, int numKvHeads,
        int headDim, int maxContextLen, nuint* workspaceBytes);

    [LibraryImport(Library, EntryPoint = "folio_paged_attention_decode")]
    internal static partial int PagedAttentionDecode(FolioCudaPagedKv* cache, FolioCudaPagedAttentionDecodeParams* parameters,
        void* stream);

    [LibraryImport(Library, EntryPoint = "folio_paged_prefill")]
    internal static partial int PagedPrefill(FolioCudaPagedKv* cache, FolioCudaPagedPrefillParams* parameters, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_paged_prefill_kernel")]
    internal static partial int PagedPrefillKernel(int kernel, int headDim, float scale, int dtype);

    // Cache writes and block moves.
    [LibraryImport(Library, EntryPoint = "folio_kv_write")]
    internal static partial int KvWrite(FolioCudaPagedKv* cache, FolioCudaKvWriteParams* parameters, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_block_copy")]
    internal static partial int BlockCopy(FolioCudaPagedKv* cache, FolioCudaBlockMoveParams* parameters, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_block_swap_out")]
    internal static partial int BlockSwapOut(FolioCudaPagedKv* cache, FolioCudaBlockMoveParams* parameters, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_block_swap_in")]
    internal static partial int BlockSwapIn(FolioCudaPagedKv* cache, FolioCudaBlockMoveParams* parameters, void* stream);

    // Model ops.
    [LibraryImport(Library, EntryPoint = "folio_embedding_gather")]
    internal static partial int EmbeddingGather(void* output, void* table, int* tokenIds, int numTokens, int vocabSize,
        int hidden, int elementSize, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_add_rms_norm")]
    internal static partial int AddRmsNorm(void* output, void* residual, void* x, void* weight, int numTokens, int hidden,
        float eps, int dtype, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_head_rms_norm")]
    internal static partial int HeadRmsNorm(void* x, void* weight, int numTokens, int numHeads, int headDim, long tokenStride,
        float eps, int dtype, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_silu_and_mul")]
    internal static partial int SiluAndMul(void* output, void* x, int numTokens, int intermediate, long xRowStride,
        int dtype, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_rope_inv_freq")]
    internal static partial int RopeInvFreq(FolioCudaRopeConfig* config, float* invFreq, int count);

    [LibraryImport(Library, EntryPoint = "folio_rope_kv_write")]
    internal static partial int RopeKvWrite(FolioCudaPagedKv* cache, FolioCudaRopeKvWriteParams* parameters, void* stream);

    // Sampling.
    [LibraryImport(Library, EntryPoint = "folio_sample_workspace_size")]
    internal static partial int SampleWorkspaceSize(int numRows, int vocabSize, nuint* workspaceBytes);

    [LibraryImport(Library, EntryPoint = "folio_sample")]
    internal static partial int Sample(FolioCudaSampleParams* parameters, void* stream);

    // Linear layers and the general attention (2.1).
    [LibraryImport(Library, EntryPoint = "folio_cuda_blas_create")]
    internal static partial int BlasCreate(void** blas);

    [LibraryImport(Library, EntryPoint = "folio_cuda_blas_destroy")]
    internal static partial int BlasDestroy(void* blas);

    [LibraryImport(Library, EntryPoint = "folio_gemm")]
    internal static partial int Gemm(void* blas, FolioCudaGemmParams* parameters, void* stream);

    [LibraryImport(Library, EntryPoint = "folio_paged_attention")]
    internal static partial int PagedAttention(FolioCudaPagedKv* cache, FolioCudaPagedAttentionParams* parameters, void* stream);
}
