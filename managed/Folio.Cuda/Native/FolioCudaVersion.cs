namespace Folio.Cuda.Native;

/// <summary>The header's <c>FOLIO_CUDA_VERSION_*</c> macros: the version these bindings were written against.</summary>
public static class FolioCudaVersion
{
    public const int Major = 2;
    public const int Minor = 3;
    public const int Patch = 0;
}
