using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Benchmarks;

/// <summary>
/// An <see cref="IComputeBackend"/> that forwards every call to an inner backend and adds each layer op's wall time
/// to a per-op total (MatMuls keyed by their weight's shape, so q/k/v, o, gate/up, down and lm_head show apart).
/// For <c>cpu-step</c>'s breakdown only: the ops run one after another on the calling thread, so their wall times
/// add up to the step's.
/// </summary>
internal sealed class TimedBackend(IComputeBackend inner) : IComputeBackend
{
    private readonly Dictionary<string, (long Ticks, long Calls)> _totals = [];

    public bool Enabled { get; set; }

    public IReadOnlyDictionary<string, (long Ticks, long Calls)> Totals => _totals;

    public void Reset() => _totals.Clear();

    private void Add(string op, long start)
    {
        if (!Enabled)
            return;
        long ticks = Stopwatch.GetTimestamp() - start;
        _totals[op] = _totals.TryGetValue(op, out var t) ? (t.Ticks + ticks, t.Calls + 1) : (ticks, 1);
    }

    public string Name => inner.Name;
    public DType ActivationType => inner.ActivationType;
    public DType KvCacheType => inner.KvCacheType;
    public DeviceTensor Allocate(int rows, int cols) => inner.Allocate(rows, cols);
    public DeviceTensor Upload(ReadOnlySpan<float> data, int rows, int cols) => inner.Upload(data, rows, cols);
    public DeviceTensor UploadFloat32(ReadOnlySpan<float> data, int rows, int cols) => inner.UploadFloat32(data, rows, cols);
    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures) => inner.UploadWeight(data, outFeatures, inFeatures);
    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType) =>
        inner.UploadWeight(data, outFeatures, inFeatures, sourceType);
    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType, WeightQuantization exact) =>
        inner.UploadWeight(data, outFeatures, inFeatures, sourceType, exact);
    public DeviceTensor? UploadMappedWeight(IReadOnlyList<MappedTensor> parts) => inner.UploadMappedWeight(parts);
    public DeviceTensor? UploadMappedTable(MappedTensor table) => inner.UploadMappedTable(table);
    // Without these two the interface's defaults (null) made a GGUF's k-quant tensors load as fp32 here.
    public DeviceTensor? UploadKQuantWeight(IReadOnlyList<KQuantRows> parts) => inner.UploadKQuantWeight(parts);
    public DeviceTensor? UploadKQuantTable(KQuantRows table) => inner.UploadKQuantTable(table);
    public bool TakesInt8Groups => inner.TakesInt8Groups;
    public DeviceTensor? UploadInt8GroupWeight(IReadOnlyList<Int8GroupRows> parts) => inner.UploadInt8GroupWeight(parts);
    public DeviceTensor? UploadInt8GroupTable(Int8GroupRows table) => inner.UploadInt8GroupTable(table);
    public bool MultipliesTable(DeviceTensor table) => inner.MultipliesTable(table);
    public DeviceTensor? UploadWeightRows(int outFeatures, int inFeatures, DType sourceType, WeightRowReader read) =>
        inner.UploadWeightRows(outFeatures, inFeatures, sourceType, read);
    public void Download(DeviceTensor source, Span<float> destination) => inner.Download(source, destination);
    public DeviceKvCache AllocateKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim, DType dtype, KvCacheLayout layout) =>
        inner.AllocateKvCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout);
    public DeviceKvCache AllocateHostKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim, DType dtype, KvCacheLayout layout) =>
        inner.AllocateHostKvCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout);
    public StepContext BeginStep(ModelInput input, DeviceKvCache cache) => inner.BeginStep(input, cache);
    public ISampler CreateSampler(SamplerSettings settings) => inner.CreateSampler(settings);

    public void Embedding(DeviceTensor table, StepContext step, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.Embedding(table, step, output);
        Add("Embedding", t);
    }

    public void RmsNorm(DeviceTensor input, DeviceTensor weight, float eps, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.RmsNorm(input, weight, eps, output);
        Add("RmsNorm", t);
    }

    public void MatMul(DeviceTensor input, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.MatMul(input, weight, bias, output);
        Add($"MatMul [{weight.Rows}, {weight.Cols}]", t);
    }

    public void AddRmsNorm(DeviceTensor target, DeviceTensor addend, DeviceTensor weight, float eps, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.AddRmsNorm(target, addend, weight, eps, output);
        Add("AddRmsNorm", t);
    }

    public void HeadRmsNorm(DeviceTensor qkv, AttentionShape shape, DeviceTensor queryWeight, DeviceTensor keyWeight, float eps)
    {
        long t = Stopwatch.GetTimestamp();
        inner.HeadRmsNorm(qkv, shape, queryWeight, keyWeight, eps);
        Add("HeadRmsNorm", t);
    }

    public void SiluAndMul(DeviceTensor gateUp, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.SiluAndMul(gateUp, output);
        Add("SiluAndMul", t);
    }

    public DeviceTensor RotateAndCache(DeviceTensor qkv, AttentionShape shape, StepContext step, DeviceTensor inverseFrequencies, int layer)
    {
        long t = Stopwatch.GetTimestamp();
        var q = inner.RotateAndCache(qkv, shape, step, inverseFrequencies, layer);
        Add("RotateAndCache", t);
        return q;
    }

    public void PagedAttention(DeviceTensor queries, AttentionShape shape, StepContext step, int layer, float scale, int slidingWindow, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.PagedAttention(queries, shape, step, layer, scale, slidingWindow, output);
        Add("PagedAttention", t);
    }

    public void GatherRows(DeviceTensor input, StepContext step, DeviceTensor output)
    {
        long t = Stopwatch.GetTimestamp();
        inner.GatherRows(input, step, output);
        Add("GatherRows", t);
    }

    public void CopyBlocks(DeviceKvCache cache, ReadOnlySpan<int> pairs) => inner.CopyBlocks(cache, pairs);
    public void MoveBlocks(DeviceKvCache from, DeviceKvCache to, ReadOnlySpan<int> pairs) => inner.MoveBlocks(from, to, pairs);
    public void Dispose() => inner.Dispose();
}
