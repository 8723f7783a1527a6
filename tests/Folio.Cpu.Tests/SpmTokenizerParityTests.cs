using System.Text.Json;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Folio's SentencePiece-style BPE (byte fallback) against Hugging Face tokenizers 0.23.2 (its Node binding) on
/// 5,232 lines (ids, decoded text, and the decode of each line's first half of ids), for three variants of one
/// vocabulary (the Llama-2 "legacy" normalizer; Metaspace, prepend first, no split; Metaspace, prepend always,
/// split, with the Metaspace decoder):
/// tests/fixtures/hf/tokenizer/spm, made by tests/fixtures/make_spm_fixture.mjs.
/// </summary>
public sealed class SpmTokenizerParityTests
{
    private static string Dir => Path.Combine(Fixtures.Root, "hf", "tokenizer", "spm");

    internal static (string Text, int[] Ids, string Decoded, string HalfDecoded)[] Lines(string variant)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "parity.json")));
        return doc.RootElement.GetProperty("variants").GetProperty(variant).EnumerateArray()
            .Select(l => (l.GetProperty("text").GetString()!, l.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                l.GetProperty("decoded").GetString()!, l.GetProperty("half_decoded").GetString()!))
            .ToArray();
    }

    internal static TextTokenizer Load(string variant) => TextTokenizer.FromTokenizerJson(Path.Combine(Dir, $"{variant}.tokenizer.json"), 2);

    [Theory]
    [InlineData("legacy")]
    [InlineData("metaspace")]
    [InlineData("metaspace_split")]
    public void EncodeAndDecodeEqualHuggingFaceOnTheCorpus(string variant)
    {
        var tokenizer = Load(variant);
        var lines = Lines(variant);
        Assert.Equal(5232, lines.Length);
        // The corpus must exercise byte fallback: some reference ids are <0xNN> tokens.
        Assert.Contains(lines, l => l.Ids.Any(id => tokenizer.ByteOf(id) is not null));
        EncodeParity.AssertEqual(tokenizer, [.. lines.Select(l => (l.Text, l.Ids, l.Decoded))]);
        // Half of each line's ids often ends inside a character: HF decodes such a byte run as U+FFFD per byte.
        Assert.True(lines.Count(l => l.HalfDecoded.Contains('\uFFFD')) > 1000);
        var halfMismatches = new List<string>();
        foreach (var (text, ids, _, halfDecoded) in lines)
        {
            string mineHalf = tokenizer.Decode(ids.AsSpan(0, ids.Length / 2));
            if (mineHalf != halfDecoded)
                halfMismatches.Add($"half of {JsonSerializer.Serialize(text)}: folio {JsonSerializer.Serialize(mineHalf)} hf {JsonSerializer.Serialize(halfDecoded)}");
        }
        Assert.True(halfMismatches.Count == 0, $"{halfMismatches.Count} half lines decode differently, e.g.\n" + string.Join("\n", halfMismatches.Take(5)));
    }
}
