using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;

namespace Folio.Interop.Tests;

/// <summary>
/// Requests through the C ABI's engine get what the model folder asks for, as `folio generate` and transformers do:
/// every EOS id of generation_config.json ends a sequence, and add_special tokenizes with the BOS of
/// tokenizer_config.json's add_bos_token. The model is the llama3_rope fixture, whose greedy continuation of
/// prompt [234] transformers computed (reference.json: 233, 499, 151, …; smallest top-1 margin 0.011).
/// </summary>
public sealed class ModelDefaultsTests : IDisposable
{
    private static readonly int[] HfGreedy = [233, 499, 151, 495, 124, 189, 43, 184, 328, 186, 504, 214, 233, 465, 83, 282];
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-model-defaults-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private EngineModel Model(string generationConfig, string? tokenizerConfig = null, string? tokenizerJson = null)
    {
        string fixture = Fixtures.Hf("llama3_rope");
        File.Copy(Path.Combine(fixture, "config.json"), Path.Combine(_dir, "config.json"));
        File.Copy(Path.Combine(fixture, "model.safetensors"), Path.Combine(_dir, "model.safetensors"));
        File.WriteAllText(Path.Combine(_dir, "generation_config.json"), generationConfig);
        if (tokenizerConfig is not null)
            File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), tokenizerConfig);
        if (tokenizerJson is not null)
            File.Copy(tokenizerJson, Path.Combine(_dir, "tokenizer.json"));
        Assert.True(EngineModel.TryLoad(_dir, 1, 0, out EngineModel? model, out string error), error);
        return model!;
    }

    /// <summary>
    /// The tokenizer.json at <paramref name="path"/> cut to ids below <paramref name="vocabSize"/> (the fixture
    /// model's 512 rows; the SentencePiece fixture has 661 ids, which a model folder refuses since issue 13):
    /// tokens at or past it and the merges that build or use them are dropped. Written in the test's folder.
    /// </summary>
    private string WithinVocabulary(string path, int vocabSize)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        var vocab = json["model"]!["vocab"]!.AsObject();
        foreach (var name in vocab.Where(e => (int)e.Value! >= vocabSize).Select(e => e.Key).ToList())
            vocab.Remove(name);
        var merges = json["model"]!["merges"]!.AsArray();
        foreach (var merge in merges.Where(m => m!.AsArray() is var pair
            && !(vocab.ContainsKey((string)pair[0]!) && vocab.ContainsKey((string)pair[1]!) && vocab.ContainsKey((string)pair[0]! + (string)pair[1]!))).ToList())
            merges.Remove(merge);
        string trimmed = Path.Combine(_dir, "trimmed.tokenizer.json");
        File.WriteAllText(trimmed, json.ToJsonString());
        return trimmed;
    }

    private static unsafe (int[] Tokens, int FinishReason) GreedyThroughHost(EngineModel model, bool ignoreEos)
    {
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = 16, BlockSizeTokens = 16 },
            Scheduler = new SchedulerOptions { MaxNumSeqs = 2, EosTokenId = model.EosTokenId },
        };
        var host = new EngineHost(new LlmEngine(options, model.CreateExecutor(options, 0), model.TextDecoder), model, LogSink.None);
        OutputList outputs = host.Generate([[234]], new SamplingParams { MaxTokens = 16, Temperature = 0, IgnoreEos = ignoreEos })!;
        Assert.Equal(1, outputs.Count);
        FolioRequestOutput o = outputs[0];
        return (new ReadOnlySpan<int>(o.TokenIds, (int)o.NumTokens).ToArray(), o.FinishReason);
    }

    // A second EOS id of generation_config ends the sequence (the stop token is the output's last token, as with the
    // first EOS id); ignore_eos ignores every EOS id; a single EOS id that never comes leaves the continuation whole.
    [Theory]
    [InlineData("[2, 151]", false, 3, FolioFinishReason.Stop)]
    [InlineData("[2, 151]", true, 16, FolioFinishReason.Length)]
    [InlineData("2", false, 16, FolioFinishReason.Length)]
    public void Every_eos_id_of_generation_config_ends_a_sequence_unless_ignored(string eosIds, bool ignoreEos, int length, FolioFinishReason reason)
    {
        using var model = Model($$"""{"bos_token_id": 1, "eos_token_id": {{eosIds}}}""");
        var (tokens, finish) = GreedyThroughHost(model, ignoreEos);
        Assert.Equal(HfGreedy[..length], tokens);
        Assert.Equal((int)reason, finish);
    }

    [Fact]
    public void Add_special_prepends_the_bos_that_tokenizer_config_asks_for()
    {
        using var model = Model("""{"bos_token_id": 1, "eos_token_id": 2}""", """{"add_bos_token": true}""",
            WithinVocabulary(Path.Combine(Fixtures.Root, "hf", "tokenizer", "spm", "legacy.tokenizer.json"), 512));
        Assert.True(model.TryEncode("Hello world", addSpecialTokens: false, out int[] plain, out string error), error);
        Assert.True(model.TryEncode("Hello world", addSpecialTokens: true, out int[] special, out error), error);
        Assert.NotEmpty(plain);
        Assert.NotEqual(1, plain[0]);
        Assert.Equal([1, .. plain], special);
    }
}
