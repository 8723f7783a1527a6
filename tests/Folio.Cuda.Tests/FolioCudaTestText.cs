using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda.Tests;

internal static unsafe class FolioCudaTestText
{
    public static string LastError() => Marshal.PtrToStringUTF8((nint)FolioCudaNative.LastError()) ?? "";
}
