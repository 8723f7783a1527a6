using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_paged_kv</c>: one layer's paged KV cache.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaPagedKv
{
    public void* KCache;
    public void* VCache;
    public int NumBlocks;
    public int BlockSize;
    public int NumKvHeads;
    public int HeadDim;
    public int Layout;
    public int Dtype;
}
