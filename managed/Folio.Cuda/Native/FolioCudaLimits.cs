namespace Folio.Cuda.Native;

/// <summary>The header's limits (<c>FOLIO_CUDA_MAX_LOGPROBS</c>, ...), checked by the drift test.</summary>
public static class FolioCudaLimits
{
    /// <summary>The most top logprobs <c>folio_sample</c> returns per row.</summary>
    public const int MaxLogprobs = 20;
}
