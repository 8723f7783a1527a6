namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>enum folio_cuda_prefill_kernel</c>: which kernel <c>folio_paged_prefill</c> takes.</summary>
public enum FolioCudaPrefillKernel
{
    Sm80 = 80,
    Sm90 = 90,
}
