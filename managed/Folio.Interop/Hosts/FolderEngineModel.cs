using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Cpu;

namespace Folio.Interop.Hosts;

/// <summary>
/// A Hugging Face model folder on the CPU backend: config.json + safetensors through the managed loader, run by
/// <see cref="ModelExecutor"/>. The tokenizer of model folders is not in this build yet (issue 4), so text calls
/// return FOLIO_STATUS_UNSUPPORTED; token-id requests work.
/// </summary>
public sealed class FolderEngineModel : IEngineModel, IDisposable
{
    private const ulong DefaultKvBytes = 256UL << 20;
    private const int MaxBlocks = 1 << 16;
    private readonly LlamaModel _model;
    private readonly CpuBackend _backend;

    private FolderEngineModel(string folder, ModelConfig config, LlamaModel model, CpuBackend backend)
    {
        Name = folder;
        Config = config;
        _model = model;
        _backend = backend;
    }

    public string Name { get; }
    public ModelConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int EosTokenId => Config.EosTokenIds.Count > 0 ? Config.EosTokenIds[0] : -1;
    public ITextDecoder? TextDecoder => null;
    public string? TokenizerUnavailableReason => "this build has no tokenizer for model folders yet (issue 4): use token ids";

    /// <summary>Loads the folder; false with a message naming the file and problem when it is missing or bad.</summary>
    public static bool TryLoad(string folder, int threads, out FolderEngineModel? loaded, out string error)
    {
        loaded = null;
        error = "";
        CpuBackend? backend = null;
        try
        {
            ModelConfig config = ModelConfig.Load(Path.Combine(folder, "config.json"));
            backend = new CpuBackend(threads);
            using CheckpointWeights weights = CheckpointWeights.Open(folder);
            LlamaModel model = LlamaModel.Load(config, weights, backend);
            loaded = new FolderEngineModel(folder, config, model, backend);
            return true;
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
        {
            backend?.Dispose();
            error = e.Message;
            return false;
        }
    }

    public bool TryEncode(string text, bool addSpecialTokens, out int[] ids, out string error)
    {
        ids = [];
        error = TokenizerUnavailableReason!;
        return false;
    }

    public string Decode(ReadOnlySpan<int> ids) => throw new NotSupportedException(TokenizerUnavailableReason);

    /// <summary>K and V of every layer for one block, in fp32.</summary>
    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens)
    {
        ulong perBlock = 2UL * (ulong)Config.NumLayers * (ulong)Config.NumKvHeads * (ulong)Config.HeadDim * 4UL * (ulong)blockSizeTokens;
        ulong budget = kvMemoryBytes == 0 ? DefaultKvBytes : kvMemoryBytes;
        return (int)Math.Clamp(budget / Math.Max(1, perBlock), 1, (ulong)MaxBlocks);
    }

    public IModelExecutor CreateExecutor(EngineOptions options, long seed) => new ModelExecutor(_model, _backend,
        options.KvCache.NumGpuBlocks, options.KvCache.NumCpuBlocks, options.KvCache.BlockSizeTokens, Config.EosTokenIds, seed);

    public void Dispose()
    {
        _model.Dispose();
        _backend.Dispose();
    }
}
