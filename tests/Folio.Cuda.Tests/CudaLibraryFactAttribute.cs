namespace Folio.Cuda.Tests;

/// <summary>
/// A test that calls libfolio_cuda.so (host-side paths only: no GPU is needed). Skipped, never passed, when the
/// library was not built (scripts/build-cuda.sh; CI builds it before the tests).
/// </summary>
public sealed class CudaLibraryFactAttribute : FactAttribute
{
    public static string LibraryPath { get; } = FindLibrary();

    public CudaLibraryFactAttribute()
    {
        if (!File.Exists(LibraryPath))
            Skip = $"libfolio_cuda.so not built ({LibraryPath}; run scripts/build-cuda.sh)";
        else
            Environment.SetEnvironmentVariable(CudaLibrary.PathVariable, LibraryPath);
    }

    private static string FindLibrary()
    {
        string? configured = Environment.GetEnvironmentVariable(CudaLibrary.PathVariable);
        return !string.IsNullOrEmpty(configured)
            ? configured
            : Path.Combine(HeaderModel.RepositoryRoot, "build", "cuda", "libfolio_cuda.so");
    }
}

/// <summary>The theory form of <see cref="CudaLibraryFactAttribute"/>.</summary>
public sealed class CudaLibraryTheoryAttribute : TheoryAttribute
{
    public CudaLibraryTheoryAttribute()
    {
        if (!File.Exists(CudaLibraryFactAttribute.LibraryPath))
            Skip = $"libfolio_cuda.so not built ({CudaLibraryFactAttribute.LibraryPath}; run scripts/build-cuda.sh)";
        else
            Environment.SetEnvironmentVariable(CudaLibrary.PathVariable, CudaLibraryFactAttribute.LibraryPath);
    }
}
