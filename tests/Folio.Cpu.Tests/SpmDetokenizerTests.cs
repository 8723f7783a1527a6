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
        var (failures, heldBack) = StreamingParity.Check(tokenizer, lines.Select(l => (l.Text, l.Ids, l.Decoded)));
        Assert.True(failures.Count == 0, $"{failures.Count} of {lines.Length} lines stream wrongly, e.g.\n" + string.Join("\n", failures.Take(5)));
        Assert.True(heldBack > 1000, "multi-byte characters span several byte tokens, so many tokens must add nothing yet");
    }
}
