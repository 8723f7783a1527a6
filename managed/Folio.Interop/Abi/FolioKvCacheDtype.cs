namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_kv_cache_dtype</c> in folio.h (ABI 1.5): the CPU backend's KV cache element type.</summary>
public enum FolioKvCacheDtype
{
    Auto = 0,
    F32 = 1,
    Bf16 = 2,
}
