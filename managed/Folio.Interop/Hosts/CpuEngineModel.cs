using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Text;
using Folio.Cpu;
using Folio.Structured;

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
    private readonly CpuModel _model;

    private CpuEngineModel(string name, CpuModel model)
    {
        Name = name;
        _model = model;
        TextDecoder = model.Source.Tokenizer is { } t ? new IncrementalDetokenizer(t) : null;
        TokenConstraints = model.Source.Tokenizer is { } tk ? new GrammarConstraintFactory(tk, model.EosTokenId) : null;
    }

    public ITokenConstraintFactory? TokenConstraints { get; }

    public string Name { get; }
    public ModelConfig Config => _model.Config;
    public int VocabSize => Config.VocabSize;
    public int EosTokenId => _model.EosTokenId;
    public GenerationConfig Generation => _model.Source.Generation;
    public ITextDecoder? TextDecoder { get; }
    public ChatTemplate? ChatTemplate => _model.Source.ChatTemplate;
    public string? TokenizerUnavailableReason => _model.Source.Tokenizer is null
        ? $"the model {Name} has no tokenizer (no tokenizer.json, and its vocabulary is not GPT-2's): use token ids"
        : null;

    /// <summary>Opens <paramref name="name"/> (a built-in name or a folder) with weights seeded by
    /// <paramref name="seed"/> (built-ins); false with a message naming the file and field when it is bad.</summary>
    public static bool TryLoad(string name, int threads, long seed, out CpuEngineModel? loaded, out string error) =>
        TryLoad(name, threads, seed, WeightQuantization.None, out loaded, out error);

    /// <summary>As above, with MatMul weights stored as <paramref name="quantization"/> says.</summary>
    public static bool TryLoad(string name, int threads, long seed, WeightQuantization quantization, out CpuEngineModel? loaded, out string error)
    {
        loaded = null;
        error = "";
        try
        {
            loaded = new CpuEngineModel(name, CpuModel.Open(name, threads, seed, quantization));
            return true;
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    public bool TryEncode(string text, bool addSpecialTokens, out int[] ids, out string error)
    {
        error = "";
        if (_model.Source.Tokenizer is not { } tokenizer)
        {
            ids = [];
            error = TokenizerUnavailableReason!;
            return false;
        }
        // The special tokens are tokenizer.json's post-processor's (Llama-3's <|begin_of_text|>) and the BOS
        // that tokenizer_config.json's add_bos_token asks for (Llama-2 style files). Same ids as `folio generate`.
        ids = addSpecialTokens ? _model.Source.EncodePrompt(text) : [.. tokenizer.Encode(text)];
        return true;
    }

    public SamplingParams WithModelStops(SamplingParams samplingParams) => _model.Source.WithEosStops(samplingParams);

    public string Decode(ReadOnlySpan<int> ids) =>
        _model.Source.Tokenizer?.Decode(ids) ?? throw new InvalidOperationException(TokenizerUnavailableReason);

    public string? CheckPrompt(ReadOnlySpan<int> promptIds, int maxTokens) => PromptLimits.Check(Config, promptIds, maxTokens);

    /// <summary>K and V of every layer for one block, in fp32 (the CPU cache).</summary>
    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens)
    {
        ulong perBlock = (ulong)CpuModel.KvBytesPerToken(Config) * (ulong)blockSizeTokens;
        ulong budget = kvMemoryBytes == 0 ? DefaultKvBytes : kvMemoryBytes;
        return (int)Math.Clamp(budget / Math.Max(1, perBlock), 1, (ulong)MaxBlocks);
    }

    public IModelExecutor CreateExecutor(EngineOptions options, long seed) => _model.CreateExecutor(
        options.KvCache.NumGpuBlocks, options.KvCache.NumCpuBlocks, options.KvCache.BlockSizeTokens, seed);

    public void Dispose() => _model.Dispose();
}
