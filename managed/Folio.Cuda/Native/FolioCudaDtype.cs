namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>enum folio_cuda_dtype</c>.</summary>
public enum FolioCudaDtype
{
    F16 = 0,
    Bf16 = 1,
    F32 = 2,
}
