using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.Models;

namespace Folio.Cpu;

/// <summary>
/// A model opened on the CPU backend as every host opens it (the CLI, libfolio): its source (config, weights,
/// tokenizer; a built-in shape with seeded weights or a Hugging Face folder), the backend, and the loaded
/// definition. One composition, so the same model, prompt and seed give the same tokens on every host.
/// </summary>
public sealed class CpuModel : ILoadedModel
{
    private CpuModel(ModelSource source, CpuBackend backend, DecoderModel model)
    {
        Source = source;
        Backend = backend;
        Model = model;
        EosTokenId = source.PrimaryEosTokenId;
    }

    public ModelSource Source { get; }
    public CpuBackend Backend { get; }
    public DecoderModel Model { get; }
    public ModelConfig Config => Source.Config;
    public int EosTokenId { get; }

    /// <summary>Opens a built-in name or a folder; throws <see cref="ModelFormatException"/> (or an I/O
    /// exception) naming the file and field when it is bad, leaving nothing open.</summary>
    public static CpuModel Open(string model, int threads, long seed) => Open(model, threads, seed, WeightQuantization.None);

    /// <summary>As <see cref="Open(string, int, long)"/>, with MatMul weights stored as
    /// <paramref name="quantization"/> says (None: the checkpoint's own precision).</summary>
    public static CpuModel Open(string model, int threads, long seed, WeightQuantization quantization) =>
        Open(model, threads, seed, quantization, mapWeights: true);

    /// <summary>As <see cref="Open(string, int, long, WeightQuantization)"/>; <paramref name="mapWeights"/> false copies bf16
    /// weights into packed memory instead of using them in place (<see cref="CpuBackend.MapWeights"/>).</summary>
    public static CpuModel Open(string model, int threads, long seed, WeightQuantization quantization, bool mapWeights) =>
        Open(model, threads, seed, quantization, mapWeights, DType.F32);

    /// <summary>As <see cref="Open(string, int, long, WeightQuantization, bool)"/>, with the KV cache in
    /// <paramref name="kvCacheType"/> (F32 or BF16: <see cref="CpuBackend.KvCacheType"/>).</summary>
    public static CpuModel Open(string model, int threads, long seed, WeightQuantization quantization, bool mapWeights, DType kvCacheType)
    {
        ModelSource source = ModelSource.Open(model, seed);
        CpuBackend? backend = null;
        try
        {
            backend = new CpuBackend(threads, quantization, mapWeights, kvCacheType: kvCacheType);
            return new CpuModel(source, backend, DecoderModel.Load(source.Config, source.Weights, backend));
        }
        catch
        {
            backend?.Dispose();
            source.Dispose();
            throw;
        }
    }

    /// <summary>KV bytes one token occupies on this backend (all layers, K and V, in <paramref name="kvCacheType"/>).</summary>
    public static long KvBytesPerTokenOf(ModelConfig c, DType kvCacheType = DType.F32) =>
        2L * c.NumLayers * c.NumKvHeads * c.HeadDim * DTypes.SizeOf(kvCacheType);

    public string BackendName => Backend.Name;

    public long KvBytesPerToken => KvBytesPerTokenOf(Config, Backend.KvCacheType);

    private const ulong DefaultKvBytes = 256UL << 20;
    private const int MaxBlocks = 1 << 16;

    /// <summary>Blocks for <paramref name="kvMemoryBytes"/> (0: 256 MiB), 1 .. 65,536. The step's limits do not
    /// change it: the CPU's activations live in process memory, not beside the cache.</summary>
    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs)
    {
        ulong perBlock = (ulong)KvBytesPerToken * (ulong)blockSizeTokens;
        ulong budget = kvMemoryBytes == 0 ? DefaultKvBytes : kvMemoryBytes;
        return (int)Math.Clamp(budget / Math.Max(1, perBlock), 1, (ulong)MaxBlocks);
    }

    /// <summary>The executor that runs this model for an engine with the given KV pools.</summary>
    public ModelExecutor CreateExecutor(int numGpuBlocks, int numCpuBlocks, int blockSizeTokens, long seed) =>
        new(Model, Backend, numGpuBlocks, numCpuBlocks, blockSizeTokens, Source.EosTokenIds, seed,
            Source.Tokenizer?.VocabularySize ?? int.MaxValue);

    public void Dispose()
    {
        Model.Dispose();
        Backend.Dispose();
        Source.Dispose();
    }
}
