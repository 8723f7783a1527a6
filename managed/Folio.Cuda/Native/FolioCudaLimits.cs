namespace Folio.Cuda.Native;

/// <summary>The header's limits (<c>FOLIO_CUDA_MAX_LOGPROBS</c>, ...), checked by the drift test.</summary>
public static class FolioCudaLimits
{
    /// <summary>The most top logprobs <c>folio_sample</c> returns per row.</summary>
    public const int MaxLogprobs = 20;

    /// <summary>Enough cuBLASLt workspace for every <c>folio_gemm</c> plan (32 MiB).</summary>
    public const int GemmWorkspaceBytes = 33554432;

    /// <summary><c>folio_cuda_gemm_params.flags</c>: fp32 rows summed in a fixed order, whatever the batch (the exact mode).</summary>
    public const int GemmBatchInvariant = 1;
}
