using System.Reflection;
using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// Finds libfolio_cuda.so: the path in FOLIO_CUDA_LIB, else the file beside the running program (a GPU machine
/// has no .NET: the published binary and libfolio.so travel with libfolio_cuda.so), else the loader's own search.
/// </summary>
public static class CudaLibrary
{
    /// <summary>The environment variable naming the library's path.</summary>
    public const string PathVariable = "FOLIO_CUDA_LIB";

    private static int _installed;

    internal static void InstallResolver()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(CudaLibrary).Assembly, Resolve);
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != FolioCudaNative.Library)
            return 0;
        string? configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            // A configured path that does not load is an error worth seeing, not a silent fallback.
            if (!File.Exists(configured))
                throw new DllNotFoundException($"{PathVariable}={configured}: no such file");
            return NativeLibrary.Load(configured);
        }
        string beside = Path.Combine(AppContext.BaseDirectory, "libfolio_cuda.so");
        if (File.Exists(beside) && NativeLibrary.TryLoad(beside, out nint handle))
            return handle;
        return NativeLibrary.TryLoad("libfolio_cuda.so", assembly, searchPath, out handle) ? handle : 0;
    }

    /// <summary>The loaded library's version (MAJOR*10000 + MINOR*100 + PATCH).</summary>
    public static int Version => FolioCudaNative.Version();

    /// <summary>Throws unless the loaded library's major version is the one these bindings mirror.</summary>
    public static void RequireCompatible()
    {
        int version = Version;
        if (version / 10000 != FolioCudaVersion.Major)
            throw new FolioCudaException(FolioCudaStatus.Unsupported,
                $"libfolio_cuda.so is version {version / 10000}.{version / 100 % 100}.{version % 100}; " +
                $"these bindings need major version {FolioCudaVersion.Major}");
    }
}
