using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Cuda.Backend;

/// <summary>
/// The CUDA backend's step: the step's metadata (token ids, positions, slot mapping, query starts, context lengths,
/// block tables, logits rows) copied to the device in one transfer when the step begins, so every layer's kernels
/// read it there (<see cref="StagedUpload"/>).
/// </summary>
internal sealed class CudaStepContext(CudaStream stream) : StepContext, IDisposable
{
    private readonly StagedUpload _upload = new(stream);

    public nint DeviceTokenIds { get; private set; }
    public nint DevicePositions { get; private set; }
    public nint DeviceSlots { get; private set; }
    public nint DeviceQueryStarts { get; private set; }
    public nint DeviceContextLengths { get; private set; }
    public nint DeviceBlockTables { get; private set; }
    public nint DeviceLogitsRows { get; private set; }

    public CudaKvCache CudaCache => (CudaKvCache)Cache;

    /// <summary>Changes whenever the device buffer of the metadata moves (a graph captured before reads stale addresses).</summary>
    public long UploadGeneration => _upload.Generation;

    public void Begin(ModelInput input, DeviceKvCache cache)
    {
        if (cache is not CudaKvCache { IsHost: false })
            throw new ArgumentException("the step's cache is not a device cache of the CUDA backend", nameof(cache));
        Bind(input, cache);
        int n = NumTokens, s = NumSequences, m = NumLogitsRows;
        var a = Attention;
        int tableInts = s * BlockTableStride;
        _upload.Clear();
        long oTokens = _upload.Reserve<int>(n), oPositions = _upload.Reserve<int>(n), oSlots = _upload.Reserve<long>(n),
            oStarts = _upload.Reserve<int>(s + 1), oContext = _upload.Reserve<int>(s), oTables = _upload.Reserve<int>(tableInts),
            oRows = _upload.Reserve<int>(m);
        _upload.Allocate();
        _upload.Put<int>(oTokens, Input.TokenIds.AsSpan(0, n));
        _upload.Put<int>(oPositions, Input.Positions.AsSpan(0, n));
        _upload.Put<long>(oSlots, Input.SlotMapping.AsSpan(0, n));
        _upload.Put<int>(oStarts, a.QueryStarts.AsSpan(0, s + 1));
        _upload.Put<int>(oContext, a.ContextLengths.AsSpan(0, s));
        _upload.Put<int>(oTables, a.BlockTables.AsSpan(0, tableInts));
        _upload.Put<int>(oRows, Input.LogitRows.AsSpan(0, m));
        nint d = _upload.Commit();
        DeviceTokenIds = d + (nint)oTokens;
        DevicePositions = d + (nint)oPositions;
        DeviceSlots = d + (nint)oSlots;
        DeviceQueryStarts = d + (nint)oStarts;
        DeviceContextLengths = d + (nint)oContext;
        DeviceBlockTables = d + (nint)oTables;
        DeviceLogitsRows = d + (nint)oRows;
    }

    public void Dispose() => _upload.Dispose();
}
