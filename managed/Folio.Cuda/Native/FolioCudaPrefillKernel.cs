namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>enum folio_cuda_prefill_kernel</c>: the kernel a <c>folio_paged_prefill</c> call asks for
/// (<see cref="Auto"/>: the library's choice) and the one <c>folio_paged_prefill_kernel</c> says it runs.</summary>
public enum FolioCudaPrefillKernel
{
    Auto = 0,
    Sm80 = 80,
    Sm90 = 90,
}
