using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_block_move_params</c> (<c>folio_block_copy</c>, <c>folio_block_swap_out</c>,
/// <c>folio_block_swap_in</c>): device tables of cache base addresses and (src, dst) block pairs.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaBlockMoveParams
{
    public uint StructSize;
    public int NumCaches;
    public ulong* CachePtrs;
    public ulong* HostPtrs;
    public int* Pairs;
    public int NumPairs;
    public int HostNumBlocks;
}
