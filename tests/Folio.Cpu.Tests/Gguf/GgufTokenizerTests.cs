using System.Text.Json;
using Folio.Core.Models;
using Folio.Core.Models.Gguf;

namespace Folio.Cpu.Tests.Gguf;

/// <summary>
/// A GGUF file's tokenizer metadata (laid out as llama.cpp's converter writes it: tokens in id order, token types,
/// merges or scores) gives Hugging Face's ids on the parity corpora: GPT-2 (tokenizer.ggml.model gpt2) and the
/// SentencePiece "legacy" vocabulary (model llama, merges derived from scores).
/// </summary>
public sealed class GgufTokenizerTests
{
    private static string Hf(string path) => Path.Combine(Fixtures.Root, "hf", "tokenizer", path);

    /// <summary>tokens by id (vocab then added tokens), token types (added: 3 = control; byte pieces 6), merges.</summary>
    private static (string[] Tokens, long[] Types, string[] Merges) FromTokenizerJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var model = doc.RootElement.GetProperty("model");
        var byId = new SortedDictionary<int, string>();
        foreach (var e in model.GetProperty("vocab").EnumerateObject())
            byId[e.Value.GetInt32()] = e.Name;
        var control = new HashSet<int>();
        foreach (var a in doc.RootElement.GetProperty("added_tokens").EnumerateArray())
        {
            byId[a.GetProperty("id").GetInt32()] = a.GetProperty("content").GetString()!;
            control.Add(a.GetProperty("id").GetInt32());
        }
        Assert.Equal(byId.Count, byId.Keys.Max() + 1);   // dense ids, as GGUF's list needs
        string[] tokens = [.. byId.Values];
        long[] types = [.. byId.Keys.Select(id => control.Contains(id) ? 3L : tokens[id] is ['<', '0', 'x', _, _, '>'] ? 6L : 1L)];
        string[] merges = [.. model.GetProperty("merges").EnumerateArray().Select(m =>
            m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!)];
        return (tokens, types, merges);
    }

    [Fact]
    public void Gpt2MetadataGivesHuggingFacesIds()
    {
        var (tokens, types, merges) = FromTokenizerJson(Hf("gpt2/tokenizer.json"));
        var metadata = new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "gpt2", ["tokenizer.ggml.pre"] = "gpt-2",
            ["tokenizer.ggml.tokens"] = tokens, ["tokenizer.ggml.token_type"] = types, ["tokenizer.ggml.merges"] = merges,
        };
        var tokenizer = GgufTokenizer.From("gpt2.gguf", metadata, 50256)!;
        using var doc = JsonDocument.Parse(File.ReadAllText(Hf("gpt2/parity.json")));
        var lines = doc.RootElement.GetProperty("lines").EnumerateArray()
            .Select(l => (l.GetProperty("text").GetString()!, l.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                l.GetProperty("decoded").GetString()!))
            .ToArray();
        Assert.True(lines.Length >= 5000);
        EncodeParity.AssertEqual(tokenizer, lines);
    }

    [Fact]
    public void SentencePieceScoresGiveHuggingFacesIds()
    {
        var (tokens, types, merges) = FromTokenizerJson(Hf("spm/legacy.tokenizer.json"));
        // A tokenizer.model's scores rank pieces in the order BPE training made them: a merged piece scores
        // minus the rank of the merge that makes it; pieces no merge makes score below every merged one.
        var scores = tokens.Select(_ => -1e6f).ToArray();
        var ids = tokens.Select((t, i) => (t, i)).GroupBy(x => x.t).ToDictionary(g => g.Key, g => g.First().i);
        for (int rank = merges.Length - 1; rank >= 0; rank--)
            scores[ids[merges[rank].Replace(" ", "", StringComparison.Ordinal)]] = -rank;
        var metadata = new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "llama", ["tokenizer.ggml.tokens"] = tokens, ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.scores"] = scores, ["tokenizer.ggml.unknown_token_id"] = 0L,
        };
        var tokenizer = GgufTokenizer.From("spm.gguf", metadata, 2)!;
        var lines = SpmTokenizerParityTests.Lines("legacy");
        EncodeParity.AssertEqual(tokenizer, [.. lines.Select(l => (l.Text, l.Ids, l.Decoded))]);
    }

    [Fact]
    public void AnUnknownTokenizerModelOrPreTokenizerIsRefusedNamingTheKey()
    {
        var e = Assert.Throws<ModelFormatException>(() => GgufTokenizer.From("m.gguf",
            new Dictionary<string, object> { ["tokenizer.ggml.model"] = "bert", ["tokenizer.ggml.tokens"] = new[] { "a" } }, null));
        Assert.Contains("'tokenizer.ggml.model' 'bert' is not supported", e.Message);
        e = Assert.Throws<ModelFormatException>(() => GgufTokenizer.From("m.gguf", new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "gpt2", ["tokenizer.ggml.pre"] = "deepseek-llm", ["tokenizer.ggml.tokens"] = new[] { "a" },
            ["tokenizer.ggml.merges"] = Array.Empty<string>(),
        }, null));
        Assert.Contains("'tokenizer.ggml.pre' 'deepseek-llm' is not supported", e.Message);
        Assert.Null(GgufTokenizer.From("m.gguf", new Dictionary<string, object>(), null));
    }
    /// <summary>The chat template a GGUF file carries (tokenizer.chat_template, its special tokens looked up by id in
    /// tokenizer.ggml.tokens, as llama.cpp's converter writes them) renders as the folder's tokenizer_config.json does,
    /// for Llama-3.1's template (which uses bos_token) and Qwen3's (tools, reasoning).</summary>
    [Theory]
    [InlineData("llama3_1")]
    [InlineData("qwen3")]
    public void AGgufsChatTemplateRendersAsTheFoldersDoes(string name)
    {
        string tokenizerJson = RealVocabularyParityTests.TokenizerJsonPath(name);
        string configText = File.ReadAllText(Path.Combine(Path.GetDirectoryName(tokenizerJson)!, "tokenizer_config.json"));
        var (tokens, _, _) = FromTokenizerJson(tokenizerJson);
        using var config = JsonDocument.Parse(configText);
        long Id(string property) => config.RootElement.TryGetProperty(property, out var t) && t.ValueKind == JsonValueKind.String
            ? Array.IndexOf(tokens, t.GetString()) : -1;
        var metadata = new Dictionary<string, object>
        {
            ["tokenizer.ggml.tokens"] = tokens,
            ["tokenizer.chat_template"] = config.RootElement.GetProperty("chat_template").GetString()!,
            ["tokenizer.ggml.eos_token_id"] = Id("eos_token"),
        };
        if (Id("bos_token") >= 0)
            metadata["tokenizer.ggml.bos_token_id"] = Id("bos_token");
        var fromGguf = Folio.Core.Text.ChatTemplate.FromGguf(metadata, $"{name}.gguf")!;
        var fromFolder = Folio.Core.Text.ChatTemplate.FromConfig(configText, null, "tokenizer_config.json")!;
        Assert.Equal(fromFolder.BosToken, fromGguf.BosToken);
        Assert.Equal(fromFolder.EosToken, fromGguf.EosToken);
        const string Messages = """
            [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a prime."},
             {"role": "assistant", "content": "7"}, {"role": "user", "content": "Another?"}]
            """;
        const string Tools = """[{"type": "function", "function": {"name": "lookup", "description": "Find a fact.", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]""";
        foreach (var (tools, options) in new (string?, string?)[] { (null, """{"add_generation_prompt": true}"""), (Tools, null) })
        {
            string want = fromFolder.Render(Messages, tools, options);
            Assert.Equal(want, fromGguf.Render(Messages, tools, options));
            Assert.Contains("Another?", want);
        }
        Assert.Null(Folio.Core.Text.ChatTemplate.FromGguf(new Dictionary<string, object> { ["tokenizer.ggml.tokens"] = tokens }, "none.gguf"));
        var e = Assert.Throws<ModelFormatException>(() => Folio.Core.Text.ChatTemplate.FromGguf(
            new Dictionary<string, object> { ["tokenizer.chat_template"] = 7L }, "bad.gguf"));
        Assert.Contains("bad.gguf: metadata 'tokenizer.chat_template' must be a string", e.Message);
    }
}
