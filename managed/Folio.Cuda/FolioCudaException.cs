using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>A call into libfolio_cuda.so that returned an error status, with the library's message.</summary>
public sealed class FolioCudaException(FolioCudaStatus status, string message) : Exception(message)
{
    public FolioCudaStatus Status { get; } = status;

    /// <summary>Throws for any status but OK, with the thread's last-error message (read right after the call).</summary>
    internal static unsafe void Check(int status)
    {
        if (status == (int)FolioCudaStatus.Ok)
            return;
        string message = Marshal.PtrToStringUTF8((nint)FolioCudaNative.LastError()) ?? "";
        throw new FolioCudaException((FolioCudaStatus)status, $"{(FolioCudaStatus)status}: {message}");
    }
}
