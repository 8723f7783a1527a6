using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Cpu;

namespace Folio.Interop.Hosts;

/// <summary>
/// A Hugging Face model folder on the CPU backend: config.json + safetensors through the managed loader, run by
/// <see cref="ModelExecutor"/>, with the folder's tokenizer.json when it has one (byte-level BPE). Without one,
/// text calls return FOLIO_STATUS_UNSUPPORTED and token-id requests still work.
/// </summary>
public sealed class FolderEngineModel : IEngineModel, IDisposable
{
    private const ulong DefaultKvBytes = 256UL << 20;
    private const int MaxBlocks = 1 << 16;
    private readonly LlamaModel _model;
    private readonly CpuBackend _backend;

    private readonly TextTokenizer? _tokenizer;

    private FolderEngineModel(string folder, ModelConfig config, LlamaModel model, CpuBackend backend, TextTokenizer? tokenizer)
    {
        Name = folder;
        Config = config;
        _model = model;
        _backend = backend;
        _tokenizer = tokenizer;
        TextDecoder = tokenizer is null ? null : new IncrementalDetokenizer(tokenizer);
    }

    public string Name { get; }
    public ModelConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int EosTokenId => Config.EosTokenIds.Count > 0 ? Config.EosTokenIds[0] : -1;
    public ITextDecoder? TextDecoder { get; }
    public string? TokenizerUnavailableReason => _tokenizer is null
        ? $"the model folder {Name} has no tokenizer.json: use token ids"
        : null;

    /// <summary>Loads the folder; false with a message naming the file and problem when it is missing or bad.</summary>
    public static bool TryLoad(string folder, int threads, out FolderEngineModel? loaded, out string error)
    {
        loaded = null;
        error = "";
        CpuBackend? backend = null;
        try
        {
            ModelConfig config = ModelConfig.Load(Path.Combine(folder, "config.json"));
            string tokenizerPath = Path.Combine(folder, "tokenizer.json");
            int? eos = config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null;
            TextTokenizer? tokenizer = File.Exists(tokenizerPath) ? TextTokenizer.FromTokenizerJson(tokenizerPath, eos) : null;
            backend = new CpuBackend(threads);
            using CheckpointWeights weights = CheckpointWeights.Open(folder);
            LlamaModel model = LlamaModel.Load(config, weights, backend);
            loaded = new FolderEngineModel(folder, config, model, backend, tokenizer);
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
        error = "";
        if (_tokenizer is null)
        {
            ids = [];
            error = TokenizerUnavailableReason!;
            return false;
        }
        // Byte-level BPE tokenizers add no special prefix tokens, so addSpecialTokens changes nothing here.
        ids = [.. _tokenizer.Encode(text)];
        return true;
    }

    public string Decode(ReadOnlySpan<int> ids) =>
        _tokenizer?.Decode(ids) ?? throw new InvalidOperationException(TokenizerUnavailableReason);

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
