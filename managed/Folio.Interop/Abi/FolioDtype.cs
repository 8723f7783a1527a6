namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_dtype</c> in folio.h (ABI 1.4): what a model computes in on the GPU.</summary>
public enum FolioDtype
{
    Auto = 0,
    Float32 = 1,
    Bfloat16 = 2,
    Float16 = 3,
}
