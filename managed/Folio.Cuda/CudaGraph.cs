using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// The work a stream recorded between <see cref="CudaStream.BeginCapture"/> and <see cref="CudaStream.EndCapture"/>
/// (a cudaGraph_t), destroyed by <c>folio_cuda_graph_destroy</c>. <see cref="Instantiate"/> makes the executable
/// graph that is replayed; this one can be disposed after that.
/// </summary>
public sealed unsafe class CudaGraph : SafeHandle
{
    internal CudaGraph(nint graph) : base(0, ownsHandle: true) => SetHandle(graph);

    public override bool IsInvalid => handle == 0;

    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>The executable graph of this capture (<c>folio_cuda_graph_instantiate</c>).</summary>
    public CudaGraphExec Instantiate()
    {
        void* exec = null;
        FolioCudaException.Check(FolioCudaNative.GraphInstantiate((void*)Pointer, &exec));
        return new CudaGraphExec((nint)exec);
    }

    protected override bool ReleaseHandle() => FolioCudaNative.GraphDestroy((void*)handle) == (int)FolioCudaStatus.Ok;
}
