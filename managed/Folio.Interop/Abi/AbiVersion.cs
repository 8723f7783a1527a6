namespace Folio.Interop.Abi;

/// <summary>FOLIO_ABI_VERSION_MAJOR/MINOR and FOLIO_MAX_STRUCT_SIZE of folio.h.</summary>
public static class AbiVersion
{
    public const int Major = 1;
    public const int Minor = 5;
    public const uint Packed = (Major << 16) | Minor;
    public const uint MaxStructSize = 4096;
}
