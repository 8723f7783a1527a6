using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.Models;

namespace Folio.Cuda.Backend;

/// <summary>
/// A model opened on the CUDA backend as every host opens it (the CLI, libfolio): its source, a
/// <see cref="CudaBackend"/> computing in the chosen type, the loaded definition (weights uploaded once) and the KV
/// cache sized from the device memory left after them.
/// </summary>
public sealed class CudaModel : ILoadedModel
{
    /// <summary>The share of device memory the engine may use (vLLM's <c>gpu_memory_utilization</c> default).</summary>
    public const double DefaultMemoryUtilization = 0.9;

    private CudaModel(ModelSource source, CudaBackend backend, DecoderModel model, double memoryUtilization)
    {
        Source = source;
        Backend = backend;
        Model = model;
        MemoryUtilization = memoryUtilization;
        EosTokenId = source.PrimaryEosTokenId;
    }

    public ModelSource Source { get; }
    public CudaBackend Backend { get; }
    public DecoderModel Model { get; }
    public ModelConfig Config => Source.Config;
    public int EosTokenId { get; }
    public double MemoryUtilization { get; }
    public string BackendName => Backend.Name;
    public long KvBytesPerToken => 2L * Config.NumLayers * Config.NumKvHeads * Config.HeadDim * DTypes.SizeOf(Backend.ActivationType);

    /// <summary>The activation type a checkpoint runs in when none is asked for: fp16 checkpoints stay fp16, every
    /// other one (bf16, and fp32 converted) runs in bf16.</summary>
    public static DType DefaultActivationType(ModelSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Weights.StoredType("model.embed_tokens.weight") == DType.F16 ? DType.F16 : DType.BF16;
    }

    /// <summary>Opens a built-in name or a folder on the current CUDA device, computing in
    /// <paramref name="activationType"/> (null: <see cref="DefaultActivationType"/>). Throws
    /// <see cref="ModelFormatException"/> for a bad checkpoint, <see cref="FolioCudaException"/> (or
    /// <see cref="DllNotFoundException"/>) when the device or library is missing, leaving nothing open.</summary>
    /// <param name="cudaGraphs">Replay decode steps from CUDA graphs (<see cref="CudaBackend.GraphsEnabled"/>).</param>
    public static CudaModel Open(string model, DType? activationType, long seed, double memoryUtilization = DefaultMemoryUtilization,
        bool cudaGraphs = true)
    {
        if (!(memoryUtilization > 0 && memoryUtilization <= 1))
            throw new ArgumentOutOfRangeException(nameof(memoryUtilization), memoryUtilization, "gpu memory utilization must be in (0, 1]");
        ModelSource source = ModelSource.Open(model, seed);
        CudaBackend? backend = null;
        try
        {
            backend = new CudaBackend(activationType ?? DefaultActivationType(source)) { GraphsEnabled = cudaGraphs };
            RequireRoomForWeights(source.Config, backend.ActivationType, memoryUtilization);
            var loaded = DecoderModel.Load(source.Config, source.Weights, backend);
            return new CudaModel(source, backend, loaded, memoryUtilization);
        }
        catch
        {
            backend?.Dispose();
            source.Dispose();
            throw;
        }
    }

    /// <summary>Refuses, with the numbers, a model whose weights alone exceed the memory share this engine may use
    /// (utilization × total, less what is in use), before uploading any of them.</summary>
    private static void RequireRoomForWeights(ModelConfig config, DType activationType, double memoryUtilization)
    {
        long weights = config.ParameterCount() * DTypes.SizeOf(activationType);
        var (free, total) = DeviceMemoryInfo.Query();
        long room = (long)(total * memoryUtilization) - (total - free);
        if (weights > room)
            throw new DeviceMemoryException(
                $"the model does not fit: its {config.ParameterCount() / 1e9:0.##}B parameters need {weights >> 20} MiB in " +
                $"{activationType}, and {total >> 20} MiB on the device × {memoryUtilization:0.##} utilization leaves " +
                $"{Math.Max(0, room) >> 20} MiB after the {(total - free) >> 20} MiB in use (a 16-bit type, a larger " +
                "gpu_memory_utilization or a larger device would)");
    }

    /// <summary>The profile run of the last <see cref="BlocksFor"/> that sized the cache from free memory, else null.</summary>
    public ActivationProfile? Profile { get; private set; }

    /// <summary>Room kept beyond the measured step: CUDA graphs' executables (captured after the cache is sized)
    /// and allocation granularity.</summary>
    public const long GraphAndFragmentationMargin = 256L << 20;

    /// <summary>Blocks for <paramref name="kvMemoryBytes"/>, or with 0 the device memory this engine may still use:
    /// utilization × total, less what is in use once the largest step has run (weights, the step's workspaces, this
    /// process's and others' memory), less the step's buffers that the engine's executor allocates again
    /// (<see cref="ActivationProfile"/>) and a margin for graphs. Throws with the numbers when not even one block
    /// fits.</summary>
    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs)
    {
        long perBlock = KvBytesPerToken * blockSizeTokens;
        long budget;
        if (kvMemoryBytes > 0)
            budget = (long)Math.Min(kvMemoryBytes, (ulong)long.MaxValue);
        else
        {
            var profile = ActivationProfile.Measure(this, blockSizeTokens, maxNumBatchedTokens, maxNumSeqs);
            Profile = profile;
            var (free, total) = DeviceMemoryInfo.Query();
            long used = total - free;
            long reserve = profile.Unheld + GraphAndFragmentationMargin;
            budget = (long)(total * MemoryUtilization) - used - reserve;
            if (budget < perBlock)
                throw new DeviceMemoryException(
                    $"no room for the KV cache: {total >> 20} MiB on the device × {MemoryUtilization:0.##} utilization " +
                    $"leaves {(budget + reserve) >> 20} MiB after the {used >> 20} MiB in use (weights, and the largest step's " +
                    $"{profile.HeldBytes >> 20} MiB of workspaces measured at {profile.Tokens} tokens over {profile.Sequences} " +
                    $"sequences), and {reserve >> 20} MiB more is kept for its sampler and CUDA graphs; one KV block is " +
                    $"{perBlock >> 10} KiB");
        }
        return (int)Math.Clamp(budget / Math.Max(1, perBlock), 1, int.MaxValue);
    }

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
