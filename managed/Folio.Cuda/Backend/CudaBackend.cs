using System.Runtime.InteropServices;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Cuda.Native;

namespace Folio.Cuda.Backend;

/// <summary>
/// The CUDA backend behind <see cref="IComputeBackend"/>: tensors in device memory of one activation type (fp32, the
/// exact mode of the parity tests, or bf16 / fp16 with fp32 accumulation), the kernels of libfolio_cuda.so on one
/// stream of its own, GEMMs through cuBLASLt, the step's metadata uploaded once per step (<see cref="CudaStepContext"/>)
/// and sampling on the device (<see cref="CudaSampler"/>). Every op is enqueued without waiting; the sampler's
/// download of the sampled ids is the step's one synchronisation. One step at a time, from one thread.
/// </summary>
public sealed unsafe partial class CudaBackend : IComputeBackend
{
    private readonly CudaStream _stream;
    private readonly CudaBlas _blas;
    private readonly DeviceBuffer _gemmWorkspace;
    private readonly CudaStepContext _step;
    private readonly CudaEvent _stepStart;
    private readonly CudaEvent _stepEnd;
    private byte[] _hostScratch = [];

    /// <param name="activationType">F32 (exact), BF16 or F16.</param>
    public CudaBackend(DType activationType)
    {
        CudaLibrary.RequireCompatible();
        ActivationType = activationType;
        _ = CudaDtypes.Of(activationType);
        _stream = CudaStream.Create();
        try
        {
            _blas = CudaBlas.Create();
            _gemmWorkspace = DeviceBuffer.Allocate(FolioCudaLimits.GemmWorkspaceBytes);
            _step = new CudaStepContext(_stream);
            _stepStart = CudaEvent.Create(timing: true);
            _stepEnd = CudaEvent.Create(timing: true);
        }
        catch
        {
            _stepStart?.Dispose();
            _blas?.Dispose();
            _gemmWorkspace?.Dispose();
            _stream.Dispose();
            throw;
        }
    }

    public string Name => $"cuda ({ActivationType})";

    public DType ActivationType { get; }

    /// <summary>The stream every op of this backend is enqueued on.</summary>
    public CudaStream Stream => _stream;

    public DeviceTensor Allocate(int rows, int cols) => AllocateTensor(rows, cols, ActivationType);

    private CudaTensor AllocateTensor(int rows, int cols, DType dtype)
    {
        _buffersGeneration++;
        var buffer = DeviceBuffer.Allocate(Math.Max(1L, (long)rows * cols * DTypes.SizeOf(dtype)));
        buffer.Fill(0, _stream);
        return new CudaTensor(buffer, rows, cols, dtype, owner: true);
    }

    public DeviceTensor Upload(ReadOnlySpan<float> data, int rows, int cols) => UploadAs(data, rows, cols, ActivationType);

    public DeviceTensor UploadFloat32(ReadOnlySpan<float> data, int rows, int cols) => UploadAs(data, rows, cols, DType.F32);

    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures) =>
        UploadAs(data, outFeatures, inFeatures, ActivationType);

    private CudaTensor UploadAs(ReadOnlySpan<float> data, int rows, int cols, DType dtype)
    {
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"Upload: {data.Length} values for a [{rows}, {cols}] tensor", nameof(data));
        long bytes = (long)data.Length * DTypes.SizeOf(dtype);
        var scratch = HostScratch(bytes);
        CudaDtypes.Encode(data, dtype, scratch);
        var t = AllocateTensor(rows, cols, dtype);
        t.Buffer.Upload<byte>(scratch, _stream);
        return t;
    }

    public void Download(DeviceTensor source, Span<float> destination)
    {
        var t = T(source);
        long count = (long)t.Rows * t.Cols;
        if (destination.Length != count)
            throw new ArgumentException($"Download: {destination.Length} floats for a [{t.Rows}, {t.Cols}] tensor", nameof(destination));
        var scratch = HostScratch(count * t.ElementSize);
        t.Buffer.Download<byte>(scratch, _stream);
        CudaDtypes.Decode(scratch, t.DType, destination);
    }

    /// <summary>Row <paramref name="row"/> of <paramref name="tensor"/> into <paramref name="destination"/> (one logits
    /// row for the host sampler).</summary>
    internal void DownloadRow(CudaTensor tensor, int row, Span<float> destination)
    {
        if ((uint)row >= (uint)tensor.Rows || destination.Length != tensor.Cols)
            throw new ArgumentException($"DownloadRow: row {row} of a [{tensor.Rows}, {tensor.Cols}] tensor into {destination.Length} floats");
        var scratch = HostScratch(tensor.RowBytes);
        tensor.Buffer.Download<byte>(scratch, _stream, row * tensor.RowBytes);
        CudaDtypes.Decode(scratch, tensor.DType, destination);
    }

    private Span<byte> HostScratch(long bytes)
    {
        if (_hostScratch.Length < bytes)
            _hostScratch = new byte[checked((int)bytes)];
        return _hostScratch.AsSpan(0, (int)bytes);
    }

    public DeviceKvCache AllocateKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
        DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd) =>
        NewCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout, host: false);

    public DeviceKvCache AllocateHostKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
        DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd) =>
        NewCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout, host: true);

    private CudaKvCache NewCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim, DType dtype,
        KvCacheLayout layout, bool host)
    {
        // The attention kernels read q and the cache in one type: the cache holds the activation type.
        if (dtype != ActivationType)
            throw new ArgumentException($"the CUDA backend computes in {ActivationType}: a {dtype} KV cache cannot be read", nameof(dtype));
        if (blockSizeTokens <= 0 || (blockSizeTokens & (blockSizeTokens - 1)) != 0)
            throw new ArgumentException($"the CUDA kernels need a power-of-two block size, not {blockSizeTokens}", nameof(blockSizeTokens));
        return new CudaKvCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout, host, _stream);
    }

    public StepContext BeginStep(ModelInput input, DeviceKvCache cache)
    {
        _stepStart.Record(_stream);
        _step.Begin(input, cache);
        return _step;
    }

    /// <summary>Device time of the last step: from its metadata upload to the end of its sampling, between two
    /// CUDA events on the backend's stream (so the host's time between steps, when the device waits, is not in it).
    /// </summary>
    public double LastStepGpuSeconds { get; private set; }

    /// <summary>Called by the sampler once the step's sampling is enqueued: marks the step's end on the stream.</summary>
    internal void MarkStepEnd() => _stepEnd.Record(_stream);

    /// <summary>Called by the sampler after it waited for the step: reads the two events.</summary>
    internal void ReadStepTime() => LastStepGpuSeconds = CudaEvent.ElapsedMilliseconds(_stepStart, _stepEnd) / 1000.0;

    public ISampler CreateSampler(SamplerSettings settings) => new CudaSampler(this, settings);

    internal static CudaTensor T(DeviceTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor as CudaTensor ?? throw new ArgumentException($"a {tensor.GetType().Name} is not a CUDA tensor", nameof(tensor));
    }

    internal CudaStepContext S(StepContext step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return ReferenceEquals(step, _step) && step.Input is not null
            ? _step
            : throw new ArgumentException("the step context was not begun by this backend (BeginStep)", nameof(step));
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new ArgumentException(message);
    }

    private void* StreamPointer => (void*)_stream.Pointer;

    private int Dtype => (int)CudaDtypes.Of(ActivationType);

    public void Dispose()
    {
        _stream.Synchronize();
        DropGraphs();
        _step.Dispose();
        _stepStart.Dispose();
        _stepEnd.Dispose();
        _queries?.Dispose();
        _decodeWorkspace?.Dispose();
        _pairs?.Dispose();
        _gemmWorkspace.Dispose();
        _blas.Dispose();
        _stream.Dispose();
    }
}
