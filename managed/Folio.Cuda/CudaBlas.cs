using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// The library's cuBLASLt handle and plan cache (<c>folio_cuda_blas_create</c>), released by
/// <c>folio_cuda_blas_destroy</c>; one per thread that issues GEMMs (folio_cuda.h).
/// </summary>
public sealed unsafe class CudaBlas : SafeHandle
{
    private CudaBlas(nint blas) : base(0, ownsHandle: true) => SetHandle(blas);

    public override bool IsInvalid => handle == 0;

    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    public static CudaBlas Create()
    {
        void* blas = null;
        FolioCudaException.Check(FolioCudaNative.BlasCreate(&blas));
        return new CudaBlas((nint)blas);
    }

    protected override bool ReleaseHandle() => FolioCudaNative.BlasDestroy((void*)handle) == (int)FolioCudaStatus.Ok;
}
