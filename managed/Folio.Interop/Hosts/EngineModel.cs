using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Text;
using Folio.Cpu;
using Folio.Cuda;
using Folio.Cuda.Backend;
using Folio.Structured;

namespace Folio.Interop.Hosts;

/// <summary>
/// A model as the managed API opens it (<see cref="ModelSource"/>) on the CPU (<see cref="CpuModel"/>) or CUDA
/// (<see cref="CudaModel"/>) backend: a built-in shape with seeded weights ("builtin:tiny" …) or a Hugging Face
/// folder, with its tokenizer when it has one, run by <see cref="ModelExecutor"/> — the same composition as
/// <c>folio generate</c>, so the same model, prompt and seed give the same tokens. Without a tokenizer, text calls
/// return FOLIO_STATUS_UNSUPPORTED and token-id requests still work.
/// </summary>
public sealed class EngineModel : IEngineModel, IDisposable
{
    private readonly ILoadedModel _model;

    private EngineModel(string name, ILoadedModel model)
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
    public static bool TryLoad(string name, int threads, long seed, out EngineModel? loaded, out string error) =>
        TryLoad(name, threads, seed, WeightQuantization.None, out loaded, out error);

    /// <summary>As above, with MatMul weights stored as <paramref name="quantization"/> says.</summary>
    public static bool TryLoad(string name, int threads, long seed, WeightQuantization quantization, out EngineModel? loaded, out string error) =>
        TryLoad(name, threads, seed, quantization, DType.F32, out loaded, out error);

    /// <summary>As above, with the KV cache in <paramref name="kvCacheType"/> (F32 or BF16: <see cref="CpuBackend.KvCacheType"/>).</summary>
    public static bool TryLoad(string name, int threads, long seed, WeightQuantization quantization, DType kvCacheType,
        out EngineModel? loaded, out string error) =>
        TryOpen(name, () => CpuModel.Open(name, threads, seed, quantization, mapWeights: true, kvCacheType), out loaded, out error);

    /// <summary>On the current CUDA device, computing in <paramref name="activationType"/> (null: the checkpoint's
    /// 16-bit type, bf16 for fp32 checkpoints); false with the reason when the checkpoint is bad or there is no
    /// usable device or libfolio_cuda.so.</summary>
    public static bool TryLoadCuda(string name, DType? activationType, long seed, double memoryUtilization,
        out EngineModel? loaded, out string error) =>
        TryOpen(name, () => CudaModel.Open(name, activationType, seed, memoryUtilization), out loaded, out error);

    private static bool TryOpen(string name, Func<ILoadedModel> open, out EngineModel? loaded, out string error)
    {
        loaded = null;
        error = "";
        try
        {
            loaded = new EngineModel(name, open());
            return true;
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException or FolioCudaException
                                      or DeviceMemoryException or DllNotFoundException or EntryPointNotFoundException)
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

    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs) =>
        _model.BlocksFor(kvMemoryBytes, blockSizeTokens, maxNumBatchedTokens, maxNumSeqs);

    /// <summary>The backend the model runs on ("cpu", "cuda (BF16)" …).</summary>
    public string BackendName => _model.BackendName;

    public string Backend => _model is CpuModel cpu
        ? $"{BackendName}, weights: {string.Join("; ", cpu.Backend.WeightKernels.Order(StringComparer.Ordinal))}"
        : BackendName;

    public IModelExecutor CreateExecutor(EngineOptions options, long seed) => _model.CreateExecutor(
        options.KvCache.NumGpuBlocks, options.KvCache.NumCpuBlocks, options.KvCache.BlockSizeTokens, seed);

    public void Dispose() => _model.Dispose();
}
