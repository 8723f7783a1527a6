using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>Free and total memory of the current device (<c>folio_cuda_mem_get_info</c>), for sizing the KV cache.</summary>
public readonly record struct DeviceMemoryInfo(long FreeBytes, long TotalBytes)
{
    public static unsafe DeviceMemoryInfo Query()
    {
        nuint free = 0, total = 0;
        FolioCudaException.Check(FolioCudaNative.MemGetInfo(&free, &total));
        return new DeviceMemoryInfo((long)free, (long)total);
    }
}
