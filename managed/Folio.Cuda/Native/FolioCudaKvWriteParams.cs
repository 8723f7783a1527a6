using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_kv_write_params</c> (<c>folio_kv_write</c>); strides count elements.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaKvWriteParams
{
    public uint StructSize;
    public int NumTokens;
    public void* Key;
    public void* Value;
    public long KeyTokenStride;
    public long ValueTokenStride;
    public long* SlotMapping;
}
