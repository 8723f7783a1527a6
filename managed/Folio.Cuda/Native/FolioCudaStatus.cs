namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>enum folio_cuda_status</c> (0 is success, every error negative, as in folio.h).</summary>
public enum FolioCudaStatus
{
    Ok = 0,
    InvalidArgument = -1,
    StructSize = -3,
    WorkspaceTooSmall = -6,
    Unsupported = -11,
    CudaError = -20,
}
