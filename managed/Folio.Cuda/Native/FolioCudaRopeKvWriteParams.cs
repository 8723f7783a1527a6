using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_rope_kv_write_params</c>; strides count elements.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaRopeKvWriteParams
{
    public uint StructSize;
    public int NumTokens;
    public int NumQHeads;
    public int RotaryDim;
    public void* QOut;
    public void* Q;
    public void* K;
    public void* V;
    public long QTokenStride;
    public long KTokenStride;
    public long VTokenStride;
    public int* Positions;
    public long* SlotMapping;
    public float* InvFreq;
}
