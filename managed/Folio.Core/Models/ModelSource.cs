namespace Folio.Core.Models;

/// <summary>
/// Resolves what <c>--model</c> names: a built-in shape (<see cref="BuiltinModels"/>, seeded weights) or a
/// Hugging Face folder (config.json, safetensors, tokenizer.json). The tokenizer is the folder's BPE
/// tokenizer.json (byte-level or SentencePiece-style); the built-in GPT-2 vocabulary when the model is <c>tiny</c> or a folder without
/// tokenizer.json whose vocabulary is GPT-2's size (such as one written by <c>folio model init --shape tiny</c>);
/// otherwise none (token-id workloads such as <c>folio bench</c> still run).
/// </summary>
public sealed class ModelSource : IDisposable
{
    private readonly CheckpointWeights? _checkpoint;

    private ModelSource(string name, ModelConfig config, IWeightSource weights, CheckpointWeights? checkpoint, TextTokenizer? tokenizer)
    {
        Name = name;
        Config = config;
        Weights = weights;
        _checkpoint = checkpoint;
        Tokenizer = tokenizer;
    }

    public string Name { get; }
    public ModelConfig Config { get; }
    public IWeightSource Weights { get; }
    public TextTokenizer? Tokenizer { get; }

    /// <summary>Opens and validates the model; a bad folder is a <see cref="ModelFormatException"/> naming the file.</summary>
    public static ModelSource Open(string model, long seed = 0)
    {
        if (BuiltinModels.TryGet(model, out var builtin))
            return new ModelSource(model, builtin, new SeededWeights(seed), null,
                builtin.VocabSize == 50257 ? TextTokenizer.Gpt2() : null);
        if (!Directory.Exists(model))
            throw new ModelFormatException($"{model}: not a folder, and not a built-in model ({string.Join(", ", BuiltinModels.Names)})");
        var config = ModelConfig.Load(Path.Combine(model, "config.json"));
        var weights = CheckpointWeights.Open(model);
        try
        {
            string tokenizerJson = Path.Combine(model, "tokenizer.json");
            int? eos = config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null;
            TextTokenizer? tokenizer = File.Exists(tokenizerJson) ? TextTokenizer.FromTokenizerJson(tokenizerJson, eos)
                : config.VocabSize == 50257 ? TextTokenizer.Gpt2()
                : null;
            return new ModelSource(Path.GetFileName(Path.GetFullPath(model).TrimEnd('/')), config, weights, weights, tokenizer);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    public void Dispose() => _checkpoint?.Dispose();
}
