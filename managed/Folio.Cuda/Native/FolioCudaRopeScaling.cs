namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>enum folio_cuda_rope_scaling</c>.</summary>
public enum FolioCudaRopeScaling
{
    None = 0,
    Llama3 = 1,
}
