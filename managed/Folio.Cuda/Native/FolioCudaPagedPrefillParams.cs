using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_paged_prefill_params</c> (<c>folio_paged_prefill</c>); <see cref="Kernel"/> is a
/// <see cref="FolioCudaPrefillKernel"/>, <see cref="Reserved"/> stays 0.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaPagedPrefillParams
{
    public uint StructSize;
    public int NumSeqs;
    public int NumQHeads;
    public int MaxBlocksPerSeq;
    public int MaxQueryLen;
    public float Scale;
    public int Kernel;
    public int Reserved;
    public void* Out;
    public void* Q;
    public int* BlockTables;
    public int* CuQueryLens;
    public int* ContextLens;
}
