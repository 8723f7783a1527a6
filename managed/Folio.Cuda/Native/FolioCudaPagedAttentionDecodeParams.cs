using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_paged_attention_decode_params</c> (<c>folio_paged_attention_decode</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaPagedAttentionDecodeParams
{
    public uint StructSize;
    public int NumSeqs;
    public int NumQHeads;
    public int MaxBlocksPerSeq;
    public int MaxContextLen;
    public float Scale;
    public void* Out;
    public void* Q;
    public int* BlockTables;
    public int* ContextLens;
    public void* Workspace;
    public nuint WorkspaceBytes;
}
