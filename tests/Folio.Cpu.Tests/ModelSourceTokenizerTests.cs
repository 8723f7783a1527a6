using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// What a model folder's tokenizer.json means for the model: the post-processor's special tokens start every
/// prompt (Llama-3.x's &lt;|begin_of_text|&gt;), and a tokenizer whose ids reach past the model's vocab_size is
/// refused at load, naming the id and vocab_size.
/// </summary>
public sealed class ModelSourceTokenizerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"folio-source-tok-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny Llama folder (hidden size 4) with <paramref name="vocabSize"/> rows and the given tokenizer.json.</summary>
    private string Folder(int vocabSize, string tokenizerJson, int bos)
    {
        string config = $$"""
            {"architectures":["LlamaForCausalLM"],"hidden_size":4,"intermediate_size":4,"num_hidden_layers":1,
             "num_attention_heads":1,"num_key_value_heads":1,"vocab_size":{{vocabSize}},"max_position_embeddings":64,
             "rms_norm_eps":1e-5,"rope_theta":10000.0,"bos_token_id":{{bos}},"eos_token_id":{{bos}},"tie_word_embeddings":true}
            """;
        string folder = Path.Combine(_dir, "m");
        HfFolderWriter.Write(ModelConfig.Parse(config, "config.json"), new SeededWeights(1), folder, bf16: false);
        File.Copy(tokenizerJson, Path.Combine(folder, "tokenizer.json"));
        return folder;
    }

    [Fact]
    public void Llama31PromptsStartWithBeginOfTextAsHuggingFacesDo()
    {
        using var source = ModelSource.Open(Folder(128256, RealVocabularyParityTests.TokenizerJsonPath("llama3_1"), 128000));
        foreach (var line in RealVocabularyParityTests.Lines("llama3_1").Take(200))
            Assert.Equal(line.WithSpecial, source.EncodePrompt(line.Text));
        Assert.Equal([128000, 9906], source.EncodePrompt("Hello"));
        Assert.Equal([9906], source.Tokenizer!.Encode("Hello"));   // without special tokens: none added
    }

    /// <summary>
    /// A model with rows past its tokenizer's ids (as Qwen pads its embedding): the engine never samples them.
    /// Nearly flat logits (temperature 50) over 50,257 + 2,000 rows: unmasked, ~3.8% of draws would be padding.
    /// </summary>
    [Fact]
    public void TheEngineNeverSamplesIdsTheTokenizerLacks()
    {
        string folder = Folder(50257 + 2000, Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "tokenizer.json"), 1);
        using var model = CpuModel.Open(folder, threads: 1, seed: 0);
        Assert.Equal(50257, model.Source.Tokenizer!.VocabularySize);
        var options = new Folio.Core.Engine.EngineOptions
        {
            KvCache = new Folio.Core.KvCache.KvCacheOptions { NumGpuBlocks = 128, BlockSizeTokens = 16 },
            Scheduler = new Folio.Core.Scheduling.SchedulerOptions { EosTokenId = -1 },
        };
        using var executor = model.CreateExecutor(128, 0, 16, seed: 0);
        var engine = new Folio.Core.Engine.LlmEngine(options, executor);
        var outputs = engine.Generate(Enumerable.Range(0, 16).Select(i => new[] { 10 + i, 20 }).ToList(),
            new Folio.Core.Sampling.SamplingParams { Temperature = 50f, MaxTokens = 40, IgnoreEos = true, Seed = 5 });
        var ids = outputs.SelectMany(o => o.Outputs[0].TokenIds).ToList();
        Assert.Equal(16 * 40, ids.Count);
        Assert.All(ids, id => Assert.InRange(id, 0, 50256));
    }

    [Fact]
    public void ATokenizerWithIdsPastTheModelsVocabularyIsRefused()
    {
        string folder = Folder(50000, Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "tokenizer.json"), 1);
        var e = Assert.Throws<ModelFormatException>(() => ModelSource.Open(folder));
        Assert.Equal($"{Path.Combine(folder, "tokenizer.json")}: token id 50256 is past the model's vocab_size 50000 (config.json)", e.Message);
    }

    [Fact]
    public void AModelWithMoreRowsThanTheTokenizerLoadsAndSaysWhichIdsDecode()
    {
        // Qwen's shape: the embedding has padding rows past the tokenizer's last id.
        using var source = ModelSource.Open(Folder(50304, Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "tokenizer.json"), 50256));
        Assert.Equal(50257, source.Tokenizer!.VocabularySize);
        Assert.Equal(50304, source.Config.VocabSize);
        Assert.Equal("", source.Tokenizer.Decode([50300]));   // a padding row decodes to nothing: mask it
    }
}
