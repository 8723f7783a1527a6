using Folio.Core.Models.Gguf;
using Folio.Core.Sampling;
using Folio.Core.Text;

namespace Folio.Core.Models;

/// <summary>
/// Resolves what <c>--model</c> names: a built-in shape (<see cref="BuiltinModels"/>, seeded weights) or a
/// Hugging Face folder (config.json, safetensors, tokenizer.json). The tokenizer is the folder's BPE
/// tokenizer.json (byte-level or SentencePiece-style); the built-in GPT-2 vocabulary when the model is <c>tiny</c> or a folder without
/// tokenizer.json whose vocabulary is GPT-2's size (such as one written by <c>folio model init --shape tiny</c>);
/// otherwise none (token-id workloads such as <c>folio bench</c> still run). A folder's optional
/// <c>generation_config.json</c> and <c>tokenizer_config.json</c> give the EOS ids, BOS insertion and sampling
/// defaults (<see cref="EosTokenIds"/>, <see cref="EncodePrompt"/>, <see cref="DefaultSampling"/>).
/// </summary>
public sealed class ModelSource : IDisposable
{
    private readonly IDisposable? _checkpoint;   // the opened safetensors or GGUF file(s)

    private ModelSource(string name, ModelConfig config, IWeightSource weights, IDisposable? checkpoint, TextTokenizer? tokenizer,
        GenerationConfig generation, TokenizerConfig tokenizerConfig, ChatTemplate? chatTemplate = null)
    {
        ChatTemplate = chatTemplate;
        Name = name;
        Config = config;
        Weights = weights;
        _checkpoint = checkpoint;
        Tokenizer = tokenizer;
        Generation = generation;
        TokenizerConfig = tokenizerConfig;
        // generation_config.json's ids first (what transformers' generate stops on), then the tokenizer's
        // end-of-text, then config.json's; the first is the engine's EOS, the others stop a request as well.
        int[] tokenizerEos = tokenizer?.EosTokenId is int t ? [t] : [];
        EosTokenIds = [.. generation.EosTokenIds.Concat(tokenizerEos).Concat(config.EosTokenIds).Distinct()];
        BosTokenId = generation.BosTokenId ?? config.BosTokenId;
    }

    public string Name { get; }
    public ModelConfig Config { get; }
    public IWeightSource Weights { get; }
    public TextTokenizer? Tokenizer { get; }
    public GenerationConfig Generation { get; }
    public TokenizerConfig TokenizerConfig { get; }

    /// <summary>The folder's chat template (chat_template.jinja or tokenizer_config.json's chat_template), or a GGUF
    /// file's (tokenizer.chat_template); null for built-in models and checkpoints without one.</summary>
    public ChatTemplate? ChatTemplate { get; }

    /// <summary>Every end-of-sequence id, the primary (the engine's) first; empty when none is known.</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>The primary EOS id (generation_config.json's first, else the tokenizer's end-of-text, else
    /// config.json's first), or -1; requests stop on the others through <see cref="WithEosStops"/>.</summary>
    public int PrimaryEosTokenId => EosTokenIds.Count > 0 ? EosTokenIds[0] : -1;

    /// <summary>generation_config.json's bos_token_id, else config.json's.</summary>
    public int? BosTokenId { get; }

    /// <summary>The prompt's token ids with the special tokens Hugging Face adds by default
    /// (<c>add_special_tokens=True</c>): the tokenizer.json post-processor's (Llama-3's &lt;|begin_of_text|&gt;),
    /// and BOS first when tokenizer_config.json sets add_bos_token and the post-processor did not put it there
    /// (SentencePiece files without a template). add_bos_token false does not remove a template's BOS.</summary>
    public int[] EncodePrompt(string text)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException($"{Name}: no tokenizer");
        var ids = tokenizer.Encode(text, addSpecialTokens: true);
        return TokenizerConfig.AddBosToken == true && BosTokenId is int bos && (ids.Count == 0 || ids[0] != bos) ? [bos, .. ids] : [.. ids];
    }

    /// <summary>A request's starting point: <paramref name="baseline"/> with generation_config.json's sampling
    /// defaults in place and the model's EOS ids as <see cref="WithEosStops"/> adds them. The request's own
    /// explicit values go on top.</summary>
    public SamplingParams DefaultSampling(SamplingParams baseline) => WithEosStops(Generation.Defaults(baseline));

    /// <summary><paramref name="p"/> with the EOS ids after the first added to its stop token ids: the engine
    /// stops on one EOS id, transformers' generate on all of them (Llama-3 Instruct ends its turns with
    /// &lt;|eot_id|&gt;, its second EOS id). A request that ignores EOS gets none of them, as in vLLM.</summary>
    public SamplingParams WithEosStops(SamplingParams p) =>
        p.IgnoreEos || EosTokenIds.Count <= 1 ? p : p with { StopTokenIds = [.. p.StopTokenIds.Union(EosTokenIds.Skip(1))] };

    /// <summary>Opens and validates the model named by <see cref="ModelName"/>'s rule (a folder, a built-in name,
    /// or builtin:NAME); a bad name or folder is a <see cref="ModelFormatException"/> naming the file.</summary>
    public static ModelSource Open(string model, long seed = 0)
    {
        if (!ModelName.TryResolve(model, [], out ModelName name, out string error))
            throw new ModelFormatException(error);
        if (name.Builtin is { } builtinName && BuiltinModels.TryGet(builtinName, out var builtin))
            return new ModelSource(builtinName, builtin, new SeededWeights(seed), null,
                builtin.VocabSize == 50257 ? TextTokenizer.Gpt2() : null, GenerationConfig.None, TokenizerConfig.None);
        model = name.Folder!;
        if (File.Exists(model) && model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            return OpenGguf(model);
        var config = ModelConfig.Load(Path.Combine(model, "config.json"));
        var generation = GenerationConfig.Load(Path.Combine(model, "generation_config.json"));
        string tokenizerConfigPath = Path.Combine(model, "tokenizer_config.json");
        var tokenizerConfig = TokenizerConfig.Load(tokenizerConfigPath);
        if (tokenizerConfig.AddBosToken == true && (generation.BosTokenId ?? config.BosTokenId) is null)
            throw new ModelFormatException($"{tokenizerConfigPath}: field 'add_bos_token' is true but neither generation_config.json nor config.json gives bos_token_id");
        var weights = CheckpointWeights.Open(model);
        try
        {
            string tokenizerJson = Path.Combine(model, "tokenizer.json");
            int? eos = generation.EosTokenIds.Count > 0 ? generation.EosTokenIds[0] : config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null;
            TextTokenizer? tokenizer = File.Exists(tokenizerJson) ? TextTokenizer.FromTokenizerJson(tokenizerJson, eos)
                : config.VocabSize == 50257 ? TextTokenizer.Gpt2()
                : null;
            // An id past the model's rows would index past its embedding: refuse the pair at load. Fewer ids
            // than rows is normal (Qwen pads its embedding); TextTokenizer.VocabularySize says which rows decode.
            if (tokenizer is not null && tokenizer.VocabularySize > config.VocabSize)
                throw new ModelFormatException(
                    $"{tokenizerJson}: token id {tokenizer.VocabularySize - 1} is past the model's vocab_size {config.VocabSize} (config.json)");
            // A template that does not parse fails the load (ModelFormatException naming the file), not the first chat.
            var chatTemplate = ChatTemplate.Load(model);
            return new ModelSource(Path.GetFileName(Path.GetFullPath(model).TrimEnd('/')), config, weights, weights, tokenizer, generation,
                tokenizerConfig, chatTemplate);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>A llama.cpp GGUF file: config from its metadata (<see cref="Gguf.GgufModelConfig"/>), weights
    /// under Hugging Face names (<see cref="Gguf.GgufWeights"/>), the tokenizer from its tokenizer.ggml.* keys
    /// (<see cref="GgufTokenizer"/>; none without them), BOS per tokenizer.ggml.add_bos_token, the chat template from
    /// tokenizer.chat_template (<see cref="Text.ChatTemplate.FromGguf"/>).</summary>
    private static ModelSource OpenGguf(string path)
    {
        var file = Gguf.GgufFile.Open(path);
        try
        {
            var config = Gguf.GgufModelConfig.From(file);
            var tokenizer = GgufTokenizer.From(path, file.Metadata, config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null);
            if (tokenizer is not null && tokenizer.VocabularySize > config.VocabSize)
                throw new ModelFormatException($"{path}: token id {tokenizer.VocabularySize - 1} is past the model's vocabulary ({config.VocabSize})");
            var tokenizerConfig = new TokenizerConfig { AddBosToken = file.Metadata.TryGetValue("tokenizer.ggml.add_bos_token", out var b) ? b as bool? : null };
            return new ModelSource(Path.GetFileName(path), config, new Gguf.GgufWeights(file, config), file, tokenizer,
                GenerationConfig.None, tokenizerConfig, Text.ChatTemplate.FromGguf(file.Metadata, path));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => _checkpoint?.Dispose();
}
