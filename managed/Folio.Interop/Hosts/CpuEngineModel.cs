using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Cpu;

namespace Folio.Interop.Hosts;

/// <summary>
/// A model on the CPU backend as the managed API opens it (<see cref="ModelSource"/>): a built-in shape with
/// seeded weights ("builtin:tiny" …) or a Hugging Face folder, with its tokenizer when it has one, run by
/// <see cref="ModelExecutor"/> — the same composition as <c>folio generate</c>, so the same model, prompt and
/// seed give the same tokens. Without a tokenizer, text calls return FOLIO_STATUS_UNSUPPORTED and token-id
/// requests still work.
/// </summary>
public sealed class CpuEngineModel : IEngineModel, IDisposable
{
    private const ulong DefaultKvBytes = 256UL << 20;
    private const int MaxBlocks = 1 << 16;
    private readonly ModelSource _source;
    private readonly LlamaModel _model;
    private readonly CpuBackend _backend;

    private CpuEngineModel(string name, ModelSource source, LlamaModel model, CpuBackend backend)
    {
        Name = name;
        _source = source;
        _model = model;
        _backend = backend;
        TextDecoder = source.Tokenizer is { } t ? new IncrementalDetokenizer(t) : null;
        // As folio generate: the tokenizer's end-of-text id, else the config's first EOS id.
        EosTokenId = source.Tokenizer?.EosTokenId ?? (source.Config.EosTokenIds.Count > 0 ? source.Config.EosTokenIds[0] : -1);
    }

    public string Name { get; }
    public ModelConfig Config => _source.Config;
    public int VocabSize => Config.VocabSize;
    public int EosTokenId { get; }
    public ITextDecoder? TextDecoder { get; }
    public string? TokenizerUnavailableReason => _source.Tokenizer is null
        ? $"the model {Name} has no tokenizer (no tokenizer.json, and its vocabulary is not GPT-2's): use token ids"
        : null;

    /// <summary>Opens <paramref name="name"/> (a built-in name or a folder) with weights seeded by
    /// <paramref name="seed"/> (built-ins); false with a message naming the file and field when it is bad.</summary>
    public static bool TryLoad(string name, int threads, long seed, out CpuEngineModel? loaded, out string error)
    {
        loaded = null;
        error = "";
        ModelSource? source = null;
        CpuBackend? backend = null;
        try
        {
            source = ModelSource.Open(name, seed);
            backend = new CpuBackend(threads);
            LlamaModel model = LlamaModel.Load(source.Config, source.Weights, backend);
            loaded = new CpuEngineModel(name, source, model, backend);
            return true;
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
        {
            backend?.Dispose();
            source?.Dispose();
            error = e.Message;
            return false;
        }
    }

    public bool TryEncode(string text, bool addSpecialTokens, out int[] ids, out string error)
    {
        error = "";
        if (_source.Tokenizer is not { } tokenizer)
        {
            ids = [];
            error = TokenizerUnavailableReason!;
            return false;
        }
        // Byte-level BPE tokenizers add no special prefix tokens, so addSpecialTokens changes nothing here.
        ids = [.. tokenizer.Encode(text)];
        return true;
    }

    public string Decode(ReadOnlySpan<int> ids) =>
        _source.Tokenizer?.Decode(ids) ?? throw new InvalidOperationException(TokenizerUnavailableReason);

    public string? CheckPrompt(ReadOnlySpan<int> promptIds, int maxTokens) => PromptLimits.Check(Config, promptIds, maxTokens);

    /// <summary>K and V of every layer for one block, in fp32 (the CPU cache).</summary>
    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens)
    {
        ulong perBlock = 2UL * (ulong)Config.NumLayers * (ulong)Config.NumKvHeads * (ulong)Config.HeadDim * 4UL * (ulong)blockSizeTokens;
        ulong budget = kvMemoryBytes == 0 ? DefaultKvBytes : kvMemoryBytes;
        return (int)Math.Clamp(budget / Math.Max(1, perBlock), 1, (ulong)MaxBlocks);
    }

    public IModelExecutor CreateExecutor(EngineOptions options, long seed) => new ModelExecutor(_model, _backend,
        options.KvCache.NumGpuBlocks, options.KvCache.NumCpuBlocks, options.KvCache.BlockSizeTokens,
        EosTokenId >= 0 ? [EosTokenId] : [], seed);

    public void Dispose()
    {
        _model.Dispose();
        _backend.Dispose();
        _source.Dispose();
    }
}
