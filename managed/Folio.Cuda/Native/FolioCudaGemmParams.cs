using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_gemm_params</c> (<c>folio_gemm</c>): out[m, n] = x[m, k] · weight[n, k]ᵀ (+ bias).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaGemmParams
{
    public uint StructSize;
    public int M;
    public int N;
    public int K;
    public int Dtype;
    public int Flags;   // 0 or FolioCudaLimits.GemmBatchInvariant
    public void* Out;
    public void* X;
    public void* Weight;
    public void* Bias;
    public void* Workspace;
    public nuint WorkspaceBytes;
}
