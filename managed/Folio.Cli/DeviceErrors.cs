using Folio.Cuda;

namespace Folio.Cli;

/// <summary>What a missing GPU, driver or libfolio_cuda.so looks like when a model is opened with --device cuda.</summary>
internal static class DeviceErrors
{
    public static bool IsDeviceError(Exception e) =>
        e is FolioCudaException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException;

    /// <summary>Opens a model (or the stack around one), turning a bad checkpoint and, with --device cuda, a missing
    /// GPU, driver or library into the command's usage error.</summary>
    public static T OpenOrUsageError<T>(DeviceSelection device, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Folio.Core.Models.ModelFormatException e)
        {
            throw new UsageException(e.Message);
        }
        catch (Exception e) when (device.Cuda && IsDeviceError(e))
        {
            throw new UsageException($"--device cuda: {e.Message}");
        }
    }
}
