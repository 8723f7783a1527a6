using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_paged_attention_params</c> (<c>folio_paged_attention</c>, the general kernel with a
/// sliding window).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaPagedAttentionParams
{
    public uint StructSize;
    public int NumSeqs;
    public int NumTokens;
    public int NumQHeads;
    public int MaxBlocksPerSeq;
    public int WindowLeft;
    public float Scale;
    public int Reserved;
    public long QTokenStride;
    public void* Out;
    public void* Q;
    public int* BlockTables;
    public int* CuQueryLens;
    public int* ContextLens;
}
