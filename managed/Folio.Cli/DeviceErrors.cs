using Folio.Cuda;

namespace Folio.Cli;

/// <summary>What a missing GPU, driver or libfolio_cuda.so looks like when a model is opened with --device cuda.</summary>
internal static class DeviceErrors
{
    public static bool IsDeviceError(Exception e) =>
        e is FolioCudaException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException;
}
