using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Streaming a SentencePiece-style model's tokens: byte-fallback runs (<c>&lt;0xNN&gt;</c>, 1–4 per character,
/// long runs for text outside the vocabulary) must come out whole, never as U+FFFD or twice.
/// </summary>
public sealed class SpmDetokenizerTests
{
    [Theory]
    [InlineData("legacy")]
    [InlineData("metaspace")]
    [InlineData("metaspace_split")]
    public void StreamedPiecesOfEveryCorpusLineConcatenateToTheDecodedText(string variant)
    {
        var tokenizer = SpmTokenizerParityTests.Load(variant);
        var lines = SpmTokenizerParityTests.Lines(variant);
        var failures = new List<string>();
        int heldBack = 0;
        foreach (var (text, ids, decoded, _) in lines)
        {
            var detokenizer = new IncrementalDetokenizer(tokenizer);
            var streamed = new System.Text.StringBuilder();
            bool broken = false;
            for (int n = 1; n <= ids.Length; n++)
            {
                string piece = detokenizer.DecodeLast(ids.AsSpan(0, n));
                broken |= piece.Contains('\uFFFD') || (piece.Length > 0 && (char.IsLowSurrogate(piece[0]) || char.IsHighSurrogate(piece[^1])));
                if (piece.Length == 0)
                    heldBack++;
                streamed.Append(piece);
            }
            if (broken || streamed.ToString() != decoded)
                failures.Add($"{System.Text.Json.JsonSerializer.Serialize(text)} streamed {System.Text.Json.JsonSerializer.Serialize(streamed.ToString())}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {lines.Length} lines stream wrongly, e.g.\n" + string.Join("\n", failures.Take(5)));
        Assert.True(heldBack > 1000, "multi-byte characters span several byte tokens, so many tokens must add nothing yet");
    }
}
