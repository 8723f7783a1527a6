using System.Text.Json;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Folio's GPT-2 tokenizer (Microsoft.ML.Tokenizers + its Gpt2 data package) against Hugging Face tokenizers
/// 0.23.2 on 5,210 varied lines (scripts, emoji, whitespace runs, special tokens), frozen in
/// tests/fixtures/hf/tokenizer/gpt2/parity.json by make_hf_fixtures.py.
/// </summary>
public sealed class TokenizerParityTests
{
    private static (string Text, int[] Ids, string Decoded)[] Lines()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "parity.json")));
        return doc.RootElement.GetProperty("lines").EnumerateArray()
            .Select(l => (l.GetProperty("text").GetString()!, l.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                l.GetProperty("decoded").GetString()!))
            .ToArray();
    }

    public static TheoryData<string> Sources => new() { "nuget-gpt2", "tokenizer.json" };

    [Theory]
    [MemberData(nameof(Sources))]
    public void EncodeAndDecodeEqualHuggingFaceOnTheCorpus(string source)
    {
        var tokenizer = source == "nuget-gpt2"
            ? TextTokenizer.Gpt2()
            : TextTokenizer.FromTokenizerJson(Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "tokenizer.json"), 50256);
        var lines = Lines();
        Assert.True(lines.Length >= 5000);
        EncodeParity.AssertEqual(tokenizer, lines);
    }
}
