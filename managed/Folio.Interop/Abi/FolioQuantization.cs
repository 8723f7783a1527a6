namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_quantization</c> in folio.h (ABI 1.2).</summary>
public enum FolioQuantization
{
    None = 0,
    Int8 = 1,
    Int4 = 2,
}
