using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Models;

/// <summary>
/// generation_config.json and tokenizer_config.json: what they set is read and applied (EOS ids, BOS insertion,
/// sampling defaults under explicit values), a wrong type or range names the file and the field, a missing file
/// is tolerated.
/// </summary>
public sealed class GenerationAndTokenizerConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-hfcfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Error(Action action) => Assert.Throws<ModelFormatException>(action).Message;

    [Fact]
    public void GenerationConfigReadsEveryFieldItUses()
    {
        var g = GenerationConfig.Parse("""
            {"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "pad_token_id": null, "do_sample": true,
             "temperature": 0.6, "top_p": 0.9, "top_k": 0, "min_p": 0.05, "repetition_penalty": 1.1, "max_new_tokens": 256,
             "transformers_version": "4.45.0", "_from_model_config": false}
            """, "/m/generation_config.json");
        Assert.Equal([128001, 128008, 128009], g.EosTokenIds);
        Assert.Equal(128000, g.BosTokenId);
        Assert.Null(g.PadTokenId);
        Assert.True(g.DoSample);
        Assert.Equal(0.6f, g.Temperature);
        Assert.Equal(0.9f, g.TopP);
        Assert.Equal(0, g.TopK);
        Assert.Equal(0.05f, g.MinP);
        Assert.Equal(1.1f, g.RepetitionPenalty);
        Assert.Equal(256, g.MaxNewTokens);
    }

    [Fact]
    public void GenerationConfigEosMayBeOneInteger()
    {
        var g = GenerationConfig.Parse("""{"bos_token_id": 1, "eos_token_id": 2}""", "g.json");
        Assert.Equal([2], g.EosTokenIds);
        Assert.Null(g.Temperature);
        Assert.Null(g.MaxNewTokens);
    }

    [Fact]
    public void DefaultsFillOnlyWhatTheFileSets()
    {
        var baseline = new SamplingParams { Temperature = 0.8f, MaxTokens = 64, TopK = 5 };
        var d = GenerationConfig.Parse("""{"temperature": 0.3, "top_k": 0, "max_new_tokens": 10}""", "g.json").Defaults(baseline);
        Assert.Equal(0.3f, d.Temperature);
        Assert.Equal(0, d.TopK);            // HF's 0 = no top-k filter = ours
        Assert.Equal(10, d.MaxTokens);
        Assert.Equal(1.0f, d.TopP);         // not in the file: the baseline's
        Assert.Equal(1.0f, d.RepetitionPenalty);
        Assert.Equal(baseline, GenerationConfig.None.Defaults(baseline));
    }

    [Theory]
    [InlineData("""{"eos_token_id": "</s>"}""", "field 'eos_token_id' must be an integer or a list of integers, is a string \"</s>\"")]
    [InlineData("""{"eos_token_id": [1, "x"]}""", "field 'eos_token_id' must be an integer or a list of integers, is a list [1, \"x\"]")]
    [InlineData("""{"eos_token_id": 2.5}""", "field 'eos_token_id' must be an integer or a list of integers, is the number 2.5")]
    [InlineData("""{"bos_token_id": [1]}""", "field 'bos_token_id' must be an integer, is a list [1]")]
    [InlineData("""{"temperature": "hot"}""", "field 'temperature' must be a number, is a string \"hot\"")]
    [InlineData("""{"temperature": -1}""", "field 'temperature' must be >= 0, is -1")]
    [InlineData("""{"top_p": 0}""", "field 'top_p' must be in (0, 1], is 0")]
    [InlineData("""{"top_k": 1.5}""", "field 'top_k' must be an integer, is the number 1.5")]
    [InlineData("""{"top_k": -3}""", "field 'top_k' must be >= 0 (0 = all), is -3")]
    [InlineData("""{"min_p": 2}""", "field 'min_p' must be in [0, 1], is 2")]
    [InlineData("""{"repetition_penalty": 0}""", "field 'repetition_penalty' must be > 0, is 0")]
    [InlineData("""{"max_new_tokens": 0}""", "field 'max_new_tokens' must be > 0, is 0")]
    [InlineData("""{"do_sample": "yes"}""", "field 'do_sample' must be true or false, is a string \"yes\"")]
    public void GenerationConfigErrorsNameTheFileAndField(string json, string expected)
    {
        Assert.Equal("/m/generation_config.json: " + expected, Error(() => GenerationConfig.Parse(json, "/m/generation_config.json")));
    }

    [Theory]
    [InlineData("[1, 2]", "/m/g.json: expected a JSON object, found a list")]
    [InlineData("{\"eos_token_id\": ", "/m/g.json: not valid JSON (line 1)")]
    public void NotAnObjectIsNamed(string json, string expected)
    {
        Assert.StartsWith(expected, Error(() => GenerationConfig.Parse(json, "/m/g.json")));
        Assert.StartsWith(expected, Error(() => TokenizerConfig.Parse(json, "/m/g.json")));
    }

    [Fact]
    public void TokenizerConfigReadsStringsAndAddedTokenObjects()
    {
        var t = TokenizerConfig.Parse("""
            {"add_bos_token": true, "add_eos_token": false,
             "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false}, "eos_token": "</s>",
             "pad_token": null, "unk_token": "<unk>", "model_max_length": 4096, "chat_template": "{{ messages }}"}
            """, "t.json");
        Assert.Equal(new TokenizerConfig
        {
            AddBosToken = true, AddEosToken = false, BosToken = "<s>", EosToken = "</s>", UnkToken = "<unk>", ModelMaxLength = 4096,
        }, t);
    }

    [Fact]
    public void TransformersNoLimitSentinelIsNoLimit()
    {
        Assert.Null(TokenizerConfig.Parse("""{"model_max_length": 1000000000000000019884624838656}""", "t.json").ModelMaxLength);
        Assert.Null(TokenizerConfig.Parse("""{"model_max_length": 1e30}""", "t.json").ModelMaxLength);
    }

    [Theory]
    [InlineData("""{"add_bos_token": "true"}""", "field 'add_bos_token' must be true or false, is a string \"true\"")]
    [InlineData("""{"add_eos_token": 1}""", "field 'add_eos_token' must be true or false, is the number 1")]
    [InlineData("""{"bos_token": 1}""", "field 'bos_token' must be a string or an object with a string 'content', is the number 1")]
    [InlineData("""{"eos_token": {"id": 2}}""", "field 'eos_token' must be a string or an object with a string 'content', is an object {\"id\": 2}")]
    [InlineData("""{"model_max_length": "4k"}""", "field 'model_max_length' must be a positive integer, is a string \"4k\"")]
    [InlineData("""{"model_max_length": -5}""", "field 'model_max_length' must be a positive integer, is the number -5")]
    public void TokenizerConfigErrorsNameTheFileAndField(string json, string expected)
    {
        Assert.Equal("/m/tokenizer_config.json: " + expected, Error(() => TokenizerConfig.Parse(json, "/m/tokenizer_config.json")));
    }

    [Fact]
    public void MissingFilesAreTolerated()
    {
        Assert.Same(GenerationConfig.None, GenerationConfig.Load(Path.Combine(_dir, "generation_config.json")));
        Assert.Same(TokenizerConfig.None, TokenizerConfig.Load(Path.Combine(_dir, "tokenizer_config.json")));
    }

    private const string Config = """
        {"architectures":["LlamaForCausalLM"],"hidden_size":32,"intermediate_size":64,"num_hidden_layers":1,
         "num_attention_heads":2,"num_key_value_heads":1,"vocab_size":64,"max_position_embeddings":64,
         "rms_norm_eps":1e-5,"rope_theta":10000.0,"bos_token_id":1,"eos_token_id":2}
        """;

    private string Folder(string? generation, string? tokenizerConfig, string config = Config)
    {
        string folder = Path.Combine(_dir, "m");
        HfFolderWriter.Write(ModelConfig.Parse(config, "config.json"), new SeededWeights(1), folder, bf16: false);
        File.Delete(Path.Combine(folder, "generation_config.json"));
        if (generation is not null)
            File.WriteAllText(Path.Combine(folder, "generation_config.json"), generation);
        if (tokenizerConfig is not null)
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizerConfig);
        return folder;
    }

    [Fact]
    public void AFolderWithoutEitherFileUsesConfigJson()
    {
        using var source = ModelSource.Open(Folder(null, null));
        Assert.Equal([2], source.EosTokenIds);
        Assert.Equal(1, source.BosTokenId);
        Assert.Same(GenerationConfig.None, source.Generation);
        Assert.Same(TokenizerConfig.None, source.TokenizerConfig);
        var baseline = new SamplingParams { Temperature = 0.8f };
        Assert.Equal(baseline, source.DefaultSampling(baseline));
    }

    [Fact]
    public void AFolderGivesEosIdsFirstFromGenerationConfigAndItsDefaults()
    {
        using var source = ModelSource.Open(Folder("""{"bos_token_id": 5, "eos_token_id": [7, 2, 9], "temperature": 0.25}""", """{"add_bos_token": false}"""));
        Assert.Equal([7, 2, 9], source.EosTokenIds);
        Assert.Equal(5, source.BosTokenId);
        Assert.False(source.TokenizerConfig.AddBosToken);
        var p = source.DefaultSampling(new SamplingParams { StopTokenIds = [11] });
        Assert.Equal(0.25f, p.Temperature);
        Assert.Equal([11, 2, 9], p.StopTokenIds);    // the first EOS is the engine's; the others stop the request
    }

    [Fact]
    public void ABadFileInTheFolderIsNamed()
    {
        string folder = Folder("""{"eos_token_id": "</s>"}""", null);
        Assert.StartsWith(Path.Combine(folder, "generation_config.json") + ": field 'eos_token_id'", Error(() => ModelSource.Open(folder)));
    }

    [Fact]
    public void AddBosWithoutABosIdIsNamed()
    {
        string folder = Folder(null, """{"add_bos_token": true}""");
        File.WriteAllText(Path.Combine(folder, "config.json"), File.ReadAllText(Path.Combine(folder, "config.json")).Replace("\"bos_token_id\"", "\"unused\"", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(folder, "tokenizer_config.json") + ": field 'add_bos_token' is true but neither generation_config.json nor config.json gives bos_token_id",
            Error(() => ModelSource.Open(folder)));
    }

    [Theory]
    [InlineData("""{"add_bos_token": true}""", new[] { 50256, 15496 })]
    [InlineData("""{"add_bos_token": false}""", new[] { 15496 })]
    [InlineData(null, new[] { 15496 })]
    public void AddBosTokenPutsBosFirst(string? tokenizerConfig, int[] expected)
    {
        // GPT-2's vocabulary size: the folder (no tokenizer.json) gets the built-in GPT-2 tokenizer.
        string gpt2 = Config.Replace("\"vocab_size\":64", "\"vocab_size\":50257,\"tie_word_embeddings\":true", StringComparison.Ordinal)
            .Replace("\"hidden_size\":32", "\"hidden_size\":4", StringComparison.Ordinal)
            .Replace("\"intermediate_size\":64", "\"intermediate_size\":4", StringComparison.Ordinal)
            .Replace("\"bos_token_id\":1", "\"bos_token_id\":50256", StringComparison.Ordinal);
        using var source = ModelSource.Open(Folder(null, tokenizerConfig, gpt2));
        Assert.Equal(expected, source.EncodePrompt("Hello"));
    }
}
