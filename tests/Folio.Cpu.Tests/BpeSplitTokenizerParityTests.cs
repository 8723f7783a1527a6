using System.Text.Json;
using System.Text.Json.Nodes;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Byte-level BPE with Llama-3's and Qwen2's pre-tokenizer (a regex Split, Isolated, then ByteLevel without its
/// own regex) against Hugging Face tokenizers 0.23.2 (its Node binding) on 5,229 lines: the GPT-2 parity
/// corpus plus 19 lines of astral letters/digits, emoji next to letters, case-insensitive contractions and
/// decomposed characters. The two tokenizer.json files are GPT-2's (tests/fixtures/hf/tokenizer/gpt2/
/// tokenizer.json) with the pre_tokenizer replaced by the one stored in tests/fixtures/hf/tokenizer/bpe_split/
/// parity.json, exactly as tests/fixtures/make_bpe_split_fixture.mjs built them for HF.
/// </summary>
public sealed class BpeSplitTokenizerParityTests
{
    private static string Gpt2Dir => Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2");

    internal sealed record Variant(TextTokenizer Tokenizer, (string Text, int[] Ids, string Decoded)[] Lines, string TokenizerJson);

    internal static Variant Load(string name)
    {
        using var gpt2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(Gpt2Dir, "parity.json")));
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Root, "hf", "tokenizer", "bpe_split", "parity.json")))!;
        var texts = gpt2.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!)
            .Concat(fixture["extra_texts"]!.AsArray().Select(t => (string)t!)).ToArray();
        Assert.Equal((int)fixture["texts"]!, texts.Length);
        var variant = fixture["variants"]![name]!;
        var ids = variant["ids"]!.AsArray().Select(l => l!.AsArray().Select(x => (int)x!).ToArray()).ToArray();
        var decoded = variant["decoded"]!.AsObject();
        var lines = texts.Select((t, i) => (t, ids[i], decoded.TryGetPropertyValue(i.ToString(System.Globalization.CultureInfo.InvariantCulture), out var d) ? (string)d! : t)).ToArray();

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Gpt2Dir, "tokenizer.json")))!;
        json["pre_tokenizer"] = variant["pre_tokenizer"]!.DeepClone();
        string file = Fixtures.WriteTokenizerJson($"bpe-split-{name}", json);
        return new Variant(TextTokenizer.FromTokenizerJson(file, 50256), lines, file);
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("qwen2")]
    public void EncodeAndDecodeEqualHuggingFaceOnTheCorpus(string name)
    {
        var (tokenizer, lines, _) = Load(name);
        Assert.Equal(5229, lines.Length);
        Assert.All(lines, l => Assert.Equal(l.Text, l.Decoded));   // byte-level BPE round-trips every line
        EncodeParity.AssertEqual(tokenizer, lines);
    }

    [Fact]
    public void TheSplitPatternsChangeTheTokensAgainstGpt2s()
    {
        // Otherwise the parity above would prove nothing about the split: Llama-3 groups digits by three, Qwen2
        // splits them singly, GPT-2 keeps runs; all three must differ on the corpus.
        var llama3 = Load("llama3").Lines;
        var qwen2 = Load("qwen2").Lines;
        var gpt2 = TextTokenizer.FromTokenizerJson(Path.Combine(Gpt2Dir, "tokenizer.json"), 50256);
        Assert.True(llama3.Zip(qwen2).Count(p => !p.First.Ids.SequenceEqual(p.Second.Ids)) > 100);
        Assert.True(llama3.Count(l => !gpt2.Encode(l.Text).SequenceEqual(l.Ids)) > 100);
        var l3 = Load("llama3").Tokenizer;
        Assert.Equal(new[] { "123", "456", "789" }, l3.Encode("123456789").Select(id => l3.Decode([id])));
        var q2 = Load("qwen2").Tokenizer;
        Assert.Equal(new[] { "1", "2", "3", "4" }, q2.Encode("1234").Select(id => q2.Decode([id])));
    }

    [Fact]
    public void TheSplitSeesCodePointsNotUtf16Units()
    {
        // Rust's regex sees "🙂" as one code point, the optional non-letter prefix of "🙂abc"; a UTF-16 regex sees
        // two surrogates (category Cs), fails the letter branch and splits "🙂" off. With GPT-2's merges both give
        // the same ids, so the pre-tokenizer's pieces are checked here directly.
        const string llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        var regex = new System.Text.RegularExpressions.Regex(llama3);
        Assert.Equal(new[] { "🙂", "abc" }, regex.Matches("🙂abc").Select(m => m.Value));
        var pre = new CodePointRegexPreTokenizer(regex, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
        string Pieces(string text) => string.Join("|", pre.PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length)));
        Assert.Equal("🙂abc", Pieces("🙂abc"));
        Assert.Equal("x|🙂y", Pieces("x🙂y"));
        // Astral letters are letters, astral digits digits (grouped by three).
        Assert.Equal("𝐀𝐁𝐂| bold", Pieces("𝐀𝐁𝐂 bold"));
        Assert.Equal("𝟏𝟐𝟑|𝟒| digits", Pieces("𝟏𝟐𝟑𝟒 digits"));
        Assert.Equal("a|<|endoftext|>|'s| b", Pieces("a<|endoftext|>'s b"));
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("qwen2")]
    public void StreamedPiecesOfEveryCorpusLineConcatenateToTheDecodedText(string name)
    {
        var (tokenizer, lines, _) = Load(name);
        var (failures, heldBack) = StreamingParity.Check(tokenizer, lines);
        Assert.True(failures.Count == 0, $"{failures.Count} of {lines.Length} lines stream wrongly, e.g.\n" + string.Join("\n", failures.Take(5)));
        Assert.True(heldBack > 100, "characters split across byte-level tokens must add nothing until complete");
    }
}
