using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// An executable CUDA graph (cudaGraphExec_t) from <see cref="CudaGraph.Instantiate"/>, destroyed by
/// <c>folio_cuda_graph_exec_destroy</c>. Each <see cref="Launch"/> replays the captured kernels with the pointers
/// and sizes they were captured with, so a replay reads the buffers' current contents.
/// </summary>
public sealed unsafe class CudaGraphExec : SafeHandle
{
    internal CudaGraphExec(nint exec) : base(0, ownsHandle: true) => SetHandle(exec);

    public override bool IsInvalid => handle == 0;

    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>Enqueues one replay on <paramref name="stream"/>.</summary>
    public void Launch(CudaStream stream) =>
        FolioCudaException.Check(FolioCudaNative.GraphLaunch((void*)Pointer, (void*)stream.Pointer));

    protected override bool ReleaseHandle() => FolioCudaNative.GraphExecDestroy((void*)handle) == (int)FolioCudaStatus.Ok;
}
